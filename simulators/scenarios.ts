// Named, seeded scenarios: each picks its targets in the registry and is a function of time that
// overrides sensor values, silences sensors or gateways, or injects malformed messages.
// Invariant: a run touches nothing outside [startsAt, endsAt).
import type { RegistryIndex } from '../core/registry/registry-index.js'
import type { FlatThresholds, Sensor, Thresholds } from '../core/contracts/registry.js'
import type { Random } from '../core/runtime/random.js'
import { batchTopic, singleTopic } from '../core/contracts/mqtt-topics.js'

export const SCENARIO_NAMES = [
  'methane_accumulation', 'tank_leak', 'toxic_release', 'pipe_pressure_drop', 'manhole_gas', 'bridge_strain_creep',
  'sensor_dropout', 'gateway_silent', 'flapping', 'malformed',
] as const
export type ScenarioName = (typeof SCENARIO_NAMES)[number]

export interface RawMessage { gatewayId: string; topic: string; payload: string }

export interface ScenarioRun {
  readonly name: ScenarioName
  readonly startsAt: number
  readonly endsAt: number
  /** Sensors whose values it overrides (published more often while it runs). */
  readonly sensors: readonly string[]
  /** Human summary: what, where. */
  readonly summary: string
  /** The value of `sensorId` at t, or undefined when this run does not override it. */
  value(sensorId: string, t: number): number | undefined
  /** Is the sensor (or its gateway) silenced at t? */
  silent(sensorId: string, gatewayId: string | undefined, t: number): boolean
  /** Raw messages due in [from, to). */
  extra(from: number, to: number): RawMessage[]
}

export const SCENARIO_DESCRIPTIONS: Record<ScenarioName, string> = {
  methane_accumulation: 'coal-mine working-face CH4 ramps 0.4 → 1.7 %CH4 over 40 s, holds, then recovers',
  tank_leak: 'combustible gas at a tank farm rises past 25 then 50 %LEL, a neighbouring detector follows',
  toxic_release: 'a toxic-gas detector rises to 2.5× its first alarm value, then decays',
  pipe_pressure_drop: 'gas pipeline pressure drops fast (≈0.5 MPa/min) to 0.08 MPa, then recovers',
  manhole_gas: 'gas in a manhole next to a gas main rises through 5 / 10 / 25 %LEL',
  bridge_strain_creep: 'bridge strain creeps past its red limit while a crack widens',
  sensor_dropout: 'one sensor stops publishing for 90 s',
  gateway_silent: 'a whole gateway stops publishing for 90 s',
  flapping: 'a value oscillates around an alarm threshold for 2 minutes',
  malformed: 'bad JSON, NaN, unknown sensors, future timestamps, strings as numbers, … every 2 s for 60 s',
}

/** Piecewise-linear profile over [seconds, value] points; holds the last value. */
function profile(points: readonly (readonly [number, number])[]): (sec: number) => number {
  return (sec) => {
    let prev = points[0]!
    if (sec <= prev[0]) return prev[1]
    for (let i = 1; i < points.length; i++) {
      const p = points[i]!
      if (sec <= p[0]) return prev[1] + ((p[1] - prev[1]) * (sec - prev[0])) / (p[0] - prev[0])
      prev = p
    }
    return prev[1]
  }
}

const round = (v: number, d = 3): number => Math.round(v * 10 ** d) / 10 ** d

function flat(t: Thresholds | undefined): FlatThresholds | undefined {
  return t && !('low' in t || 'high' in t) ? (t as FlatThresholds) : undefined
}

function pickSensor(reg: RegistryIndex, rng: Random, pred: (s: Sensor) => boolean): Sensor | undefined {
  const all = reg.doc.sensors.filter(pred)
  return all.length ? rng.pick(all) : undefined
}

function industryOf(reg: RegistryIndex, s: Sensor): string | undefined {
  return reg.enterprises.get(s.enterpriseId)?.industry
}

function valueRun(name: ScenarioName, at: number, durationS: number, targets: { sensor: Sensor; f: (sec: number) => number }[], summary: string): ScenarioRun {
  const byId = new Map(targets.map((x) => [x.sensor.id, x.f]))
  const endsAt = at + durationS * 1000
  return {
    name, startsAt: at, endsAt, summary, sensors: [...byId.keys()],
    value(sensorId, t) {
      if (t < at || t >= endsAt) return undefined
      const f = byId.get(sensorId)
      return f ? round(f((t - at) / 1000)) : undefined
    },
    silent: () => false,
    extra: () => [],
  }
}

type Factory = (reg: RegistryIndex, rng: Random, at: number) => ScenarioRun | null

const FACTORIES: Record<ScenarioName, Factory> = {
  methane_accumulation(reg, rng, at) {
    const s = pickSensor(reg, rng, (x) => x.type === 'ch4' && x.role === 'working_face')
    if (!s) return null
    return valueRun('methane_accumulation', at, 90, [{ sensor: s, f: profile([[0, 0.4], [40, 1.7], [50, 1.7], [80, 0.4]]) }], `${s.id} CH4 0.4→1.7 %`)
  },
  tank_leak(reg, rng, at) {
    const first = pickSensor(reg, rng, (x) => x.type === 'combustible_gas' && x.role === 'point' && industryOf(reg, x) === 'hazardous_chemical')
    if (!first) return null
    const targets = [{ sensor: first, f: profile([[0, 2], [60, 62], [80, 62], [110, 3]]) }]
    const second = reg.sensorsByEnterprise.get(first.enterpriseId)?.find((x) => x.id !== first.id && x.type === 'combustible_gas')
    if (second) targets.push({ sensor: second, f: profile([[0, 1], [20, 1], [70, 30], [85, 30], [110, 2]]) })
    return valueRun('tank_leak', at, 120, targets, `${first.id} combustible gas → 62 %LEL`)
  },
  toxic_release(reg, rng, at) {
    const s = pickSensor(reg, rng, (x) => x.type === 'toxic_gas')
    if (!s) return null
    const o = flat(s.thresholds)?.orange ?? 10
    return valueRun('toxic_release', at, 80, [{ sensor: s, f: profile([[0, 0.1 * o], [20, 2.5 * o], [35, 2.5 * o], [70, 0.1 * o]]) }], `${s.id} ${s.gas ?? ''} → ${2.5 * o} mg/m3`)
  },
  pipe_pressure_drop(reg, rng, at) {
    const s = pickSensor(reg, rng, (x) => x.type === 'pipe_pressure' && industryOf(reg, x) === 'gas_network')
      ?? pickSensor(reg, rng, (x) => x.type === 'pipe_pressure')
    if (!s) return null
    return valueRun('pipe_pressure_drop', at, 100, [{ sensor: s, f: profile([[0, 0.35], [30, 0.08], [50, 0.08], [90, 0.35]]) }], `${s.id} 0.35→0.08 MPa in 30 s`)
  },
  manhole_gas(reg, rng, at) {
    const s = pickSensor(reg, rng, (x) => x.type === 'combustible_gas' && x.role === 'manhole')
    if (!s) return null
    return valueRun('manhole_gas', at, 110, [{ sensor: s, f: profile([[0, 1], [60, 30], [75, 30], [105, 1]]) }], `${s.id} manhole gas → 30 %LEL`)
  },
  bridge_strain_creep(reg, rng, at) {
    const s = pickSensor(reg, rng, (x) => x.type === 'strain' && industryOf(reg, x) === 'bridge')
    if (!s) return null
    const targets = [{ sensor: s, f: profile([[0, 60], [120, 270], [140, 270], [180, 60]]) }]
    const crack = reg.sensorsByEnterprise.get(s.enterpriseId)?.find((x) => x.type === 'crack_width')
    if (crack) targets.push({ sensor: crack, f: profile([[0, 0.1], [120, 0.45], [140, 0.45], [180, 0.1]]) })
    return valueRun('bridge_strain_creep', at, 190, targets, `${s.id} strain → 270 µε`)
  },
  sensor_dropout(reg, rng, at) {
    const s = pickSensor(reg, rng, (x) => x.key === true) ?? pickSensor(reg, rng, () => true)
    if (!s) return null
    const endsAt = at + 90_000
    return {
      name: 'sensor_dropout', startsAt: at, endsAt, sensors: [], summary: `${s.id} silent 90 s`,
      value: () => undefined,
      silent: (sensorId, _gw, t) => sensorId === s.id && t >= at && t < endsAt,
      extra: () => [],
    }
  },
  gateway_silent(reg, rng, at) {
    const gws = reg.doc.gateways ?? []
    if (!gws.length) return null
    const g = rng.pick(gws)
    const endsAt = at + 90_000
    return {
      name: 'gateway_silent', startsAt: at, endsAt, sensors: [], summary: `${g.id} silent 90 s`,
      value: () => undefined,
      silent: (_s, gw, t) => gw === g.id && t >= at && t < endsAt,
      extra: () => [],
    }
  },
  flapping(reg, rng, at) {
    const s = pickSensor(reg, rng, (x) => x.type === 'water_level' && flat(x.thresholds)?.orange !== undefined && industryOf(reg, x) === 'drainage')
      ?? pickSensor(reg, rng, (x) => flat(x.thresholds)?.orange !== undefined && flat(x.thresholds)?.direction !== 'low')
    if (!s) return null
    const o = flat(s.thresholds)!.orange!
    const amp = Math.max(Math.abs(o) * 0.02, 0.01)
    return valueRun('flapping', at, 120, [{ sensor: s, f: (sec) => o + amp * Math.sin((2 * Math.PI * sec) / 12) }], `${s.id} oscillates around ${o}`)
  },
  malformed(reg, rng, at) {
    const gws = reg.doc.gateways ?? []
    if (!gws.length) return null
    const g = rng.pick(gws)
    const own = reg.sensorsByEnterprise.get(g.enterpriseId) ?? []
    const s = own[0]
    const foreign = reg.doc.sensors.find((x) => x.enterpriseId !== g.enterpriseId)
    const endsAt = at + 60_000
    const e = g.enterpriseId
    const kinds: ((t: number) => RawMessage)[] = [
      () => ({ gatewayId: g.id, topic: s ? singleTopic(e, s.id) : batchTopic(e), payload: '{"ts": 1, "value": 0.5' }),
      (t) => ({ gatewayId: g.id, topic: batchTopic(e), payload: `[{"sensorId":"${s?.id ?? 'x'}","ts":${t},"value":NaN}]` }),
      (t) => ({ gatewayId: g.id, topic: singleTopic(e, `${e}-UNKNOWN-99`), payload: JSON.stringify({ ts: t, value: 1 }) }),
      (t) => ({ gatewayId: g.id, topic: s ? singleTopic(e, s.id) : batchTopic(e), payload: JSON.stringify({ ts: t + 3_600_000, value: 1 }) }),
      (t) => ({ gatewayId: g.id, topic: s ? singleTopic(e, s.id) : batchTopic(e), payload: JSON.stringify({ ts: t, value: '0.82' }) }),
      (t) => ({ gatewayId: g.id, topic: s ? singleTopic(e, s.id) : batchTopic(e), payload: JSON.stringify({ ts: t }) }),
      (t) => ({ gatewayId: g.id, topic: s ? singleTopic(e, s.id) : batchTopic(e), payload: JSON.stringify({ ts: new Date(t).toISOString().slice(0, 19), value: 1 }) }),
      (t) => ({ gatewayId: g.id, topic: singleTopic(e, foreign?.id ?? `${e}-X`), payload: JSON.stringify({ ts: t, value: 1 }) }),
      (t) => ({ gatewayId: g.id, topic: s ? singleTopic(e, s.id) : batchTopic(e), payload: JSON.stringify({ ts: t, value: 1, unit: 'furlongs' }) }),
    ]
    return {
      name: 'malformed', startsAt: at, endsAt, sensors: [], summary: `malformed messages from ${g.id}`,
      value: () => undefined,
      silent: () => false,
      extra(from, to) {
        const out: RawMessage[] = []
        const lo = Math.max(from, at)
        const hi = Math.min(to, endsAt)
        for (let k = Math.ceil((lo - at) / 2000); at + k * 2000 < hi; k++) out.push(kinds[k % kinds.length]!(at + k * 2000))
        return out
      },
    }
  },
}

export function isScenarioName(name: string): name is ScenarioName {
  return (SCENARIO_NAMES as readonly string[]).includes(name)
}

/** Starts a scenario at `at` (epoch ms); null when the registry has nothing it can act on. */
export function startScenario(name: ScenarioName, reg: RegistryIndex, rng: Random, at: number): ScenarioRun | null {
  return FACTORIES[name](reg, rng, at)
}

/**
 * The demo programme, repeated every `cycleMs`: offsets chosen so that within the first minute
 * warnings of several levels exist (blue/yellow manhole gas, orange/red methane, orange/red tank gas,
 * flapping around an orange limit), then rate, toxic, structural, offline and malformed cases.
 */
export const DEMO_PROGRAMME: readonly { offsetMs: number; name: ScenarioName }[] = [
  { offsetMs: 0, name: 'methane_accumulation' },
  { offsetMs: 0, name: 'manhole_gas' },
  { offsetMs: 3_000, name: 'tank_leak' },
  { offsetMs: 5_000, name: 'flapping' },
  { offsetMs: 10_000, name: 'pipe_pressure_drop' },
  { offsetMs: 15_000, name: 'bridge_strain_creep' },
  { offsetMs: 25_000, name: 'toxic_release' },
  { offsetMs: 40_000, name: 'malformed' },
  { offsetMs: 60_000, name: 'sensor_dropout' },
  { offsetMs: 100_000, name: 'gateway_silent' },
]
export const DEMO_CYCLE_MS = 240_000
