import { describe, expect, it } from 'vitest'
import { generateDemoProvince } from './demo-province.js'
import { createSignalModel, signalProfile } from './signal-models.js'
import { DEMO_PROGRAMME, SCENARIO_NAMES, startScenario } from './scenarios.js'
import { indexRegistry } from '../core/registry/registry-index.js'
import { seededRandom } from '../core/runtime/random.js'
import type { FlatThresholds, Sensor } from '../core/contracts/registry.js'

const doc = generateDemoProvince({ seed: 3, secret: 'x' })
const reg = indexRegistry(doc)
const T0 = Date.parse('2026-11-28T00:00:00Z')

/** The alarm band each normal signal must stay inside: [low limit, lowest high limit]. */
function band(s: Sensor): [number, number] {
  const th = s.thresholds as FlatThresholds | undefined
  if (th && th.direction === 'low') return [Math.max(th.blue ?? -Infinity, th.yellow ?? -Infinity, th.orange ?? -Infinity, th.red ?? -Infinity), Infinity]
  if (th) return [-Infinity, Math.min(th.blue ?? Infinity, th.yellow ?? Infinity, th.orange ?? Infinity, th.red ?? Infinity)]
  const catalogue: Record<string, [number, number]> = {
    'ch4:intake': [-Infinity, 0.5], ch4: [-Infinity, 1.0], co: [-Infinity, 24], 'o2:intake': [20, Infinity], o2: [19.5, 23.5],
    co2: [-Infinity, 0.5], h2s: [-Infinity, 6.6], 'combustible_gas:manhole': [-Infinity, 5], 'combustible_gas:tunnel_gas_cabin': [-Infinity, 20],
    combustible_gas: [-Infinity, 25], temperature: [-Infinity, 26], wind_speed: [0.25, 4], flow: [0, Infinity],
  }
  return catalogue[`${s.type}:${s.role}`] ?? catalogue[s.type] ?? [-Infinity, Infinity]
}

describe('signal models', () => {
  it('keep every demo sensor inside its alarm band for an hour of readings', () => {
    const rng = seededRandom(5)
    for (const s of doc.sensors) {
      const m = createSignalModel(s, rng)
      const [lo, hi] = band(s)
      for (let t = T0; t < T0 + 3_600_000; t += 37_000) {
        const v = m.value(t)
        expect(Number.isFinite(v)).toBe(true)
        if (v <= lo || v >= hi) throw new Error(`${s.id} (${s.type}/${s.role}) normal value ${v} outside (${lo}, ${hi}) — profile ${JSON.stringify(signalProfile(s))}`)
      }
    }
  })

  it('are deterministic for a seed and noisy over time', () => {
    const s = doc.sensors[0]!
    const a = createSignalModel(s, seededRandom(1))
    const b = createSignalModel(s, seededRandom(1))
    const va = [0, 1, 2, 3].map((i) => a.value(T0 + i * 1000))
    expect([0, 1, 2, 3].map((i) => b.value(T0 + i * 1000))).toEqual(va)
    expect(new Set(va).size).toBeGreaterThan(1)
  })
})

describe('scenarios', () => {
  const run = (name: (typeof SCENARIO_NAMES)[number]) => startScenario(name, reg, seededRandom(9), T0)!

  it('every scenario finds a target in the demo province', () => {
    for (const n of SCENARIO_NAMES) expect(run(n), n).not.toBeNull()
  })

  it('methane_accumulation ramps a working-face CH4 from 0.4 to 1.7 in 40 s, then recovers and ends', () => {
    const r = run('methane_accumulation')
    const id = r.sensors[0]!
    expect(reg.sensors.get(id)).toMatchObject({ type: 'ch4', role: 'working_face' })
    expect(r.value(id, T0)).toBe(0.4)
    expect(r.value(id, T0 + 20_000)).toBe(1.05)
    expect(r.value(id, T0 + 40_000)).toBe(1.7)
    expect(r.value(id, T0 + 80_000)).toBe(0.4)
    expect(r.value(id, r.endsAt)).toBeUndefined()
    expect(r.value('other', T0 + 40_000)).toBeUndefined()
  })

  it('tank_leak passes 25 then 50 %LEL at a hazardous-chemical point detector', () => {
    const r = run('tank_leak')
    const id = r.sensors[0]!
    expect(reg.enterprises.get(reg.sensors.get(id)!.enterpriseId)?.industry).toBe('hazardous_chemical')
    const series = Array.from({ length: 120 }, (_, s) => r.value(id, T0 + s * 1000)!)
    const first25 = series.findIndex((v) => v >= 25)
    const first50 = series.findIndex((v) => v >= 50)
    expect(first25).toBeGreaterThan(0)
    expect(first50).toBeGreaterThan(first25)
    expect(series[119]).toBeLessThan(25)
  })

  it('pipe_pressure_drop falls faster than 0.1 MPa/min below the red low limit', () => {
    const r = run('pipe_pressure_drop')
    const id = r.sensors[0]!
    const th = reg.sensors.get(id)!.thresholds as FlatThresholds
    expect((r.value(id, T0)! - r.value(id, T0 + 30_000)!) * 2).toBeGreaterThan(0.1)
    expect(r.value(id, T0 + 40_000)!).toBeLessThan(th.red!)
  })

  it('flapping oscillates around the orange threshold', () => {
    const r = run('flapping')
    const id = r.sensors[0]!
    const o = (reg.sensors.get(id)!.thresholds as FlatThresholds).orange!
    const vals = Array.from({ length: 24 }, (_, s) => r.value(id, T0 + s * 1000)!)
    expect(vals.some((v) => v > o)).toBe(true)
    expect(vals.some((v) => v < o)).toBe(true)
  })

  it('sensor_dropout and gateway_silent silence only their target, only while they run', () => {
    const d = run('sensor_dropout')
    const sid = doc.sensors.find((s) => d.silent(s.id, undefined, T0 + 1000))!.id
    expect(doc.sensors.filter((s) => d.silent(s.id, undefined, T0 + 1000))).toHaveLength(1)
    expect(d.silent(sid, undefined, d.endsAt)).toBe(false)
    const g = run('gateway_silent')
    const silentGws = (doc.gateways ?? []).filter((x) => g.silent('any', x.id, T0 + 5000))
    expect(silentGws).toHaveLength(1)
  })

  it('malformed emits one bad message every 2 s for 60 s, each of a different kind in turn', () => {
    const r = run('malformed')
    const msgs = r.extra(T0 - 1, T0 + 120_000)
    expect(msgs).toHaveLength(30)
    expect(msgs[0]!.payload).toBe('{"ts": 1, "value": 0.5')
    expect(msgs[1]!.payload).toContain('NaN')
    expect(msgs.every((m) => m.topic.startsWith(`sensors/${reg.gateways.get(m.gatewayId)!.enterpriseId}`))).toBe(true)
    // Windows do not double count.
    expect(r.extra(T0 - 1, T0 + 10_000).length + r.extra(T0 + 10_000, T0 + 120_000).length).toBe(30)
  })

  it('the demo programme crosses several warning levels within the first minute', () => {
    const rng = seededRandom(4)
    const runs = DEMO_PROGRAMME.map((p) => startScenario(p.name, reg, rng, T0 + p.offsetMs)!)
    const at = (name: string, t: number) => { const r = runs.find((x) => x.name === name)!; return r.value(r.sensors[0]!, t)! }
    expect(at('methane_accumulation', T0 + 40_000)).toBeGreaterThanOrEqual(1.5) // red
    expect(at('methane_accumulation', T0 + 25_000)).toBeGreaterThanOrEqual(1.0) // orange
    expect(at('manhole_gas', T0 + 20_000)).toBeGreaterThanOrEqual(10) // yellow
    expect(at('manhole_gas', T0 + 12_000)).toBeGreaterThanOrEqual(5) // blue
    expect(at('tank_leak', T0 + 55_000)).toBeGreaterThanOrEqual(50) // red
  })
})
