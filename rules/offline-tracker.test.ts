import { describe, expect, it } from 'vitest'
import { Compile } from 'typebox/compile'
import { Finding } from '../core/contracts/finding.js'
import { fakeClock } from '../core/runtime/clock.js'
import { compileRegistry } from './compile.js'
import { createOfflineTracker } from './offline-tracker.js'
import { fixtureRegistry } from './test-registry.js'

const checkFinding = Compile(Finding)
const rules = compileRegistry(fixtureRegistry())
const ALL = [...rules.sensors.keys()]

function setup() {
  const clock = fakeClock()
  const tracker = createOfflineTracker({ clock, platformSilenceMs: 15_000 })
  tracker.setSensors(rules.sensors.values(), rules.platformRegionId)
  /** Advance second by second; each second ingest heartbeats and the `reporting` sensors send a reading. */
  function run(seconds: number, reporting: readonly string[], heartbeat = true): Finding[][] {
    const ticks: Finding[][] = []
    for (let i = 0; i < seconds; i++) {
      clock.advance(1000)
      const now = clock.now()
      if (heartbeat) tracker.observe(now)
      const out: Finding[] = []
      if (reporting.length) tracker.observe(now)
      for (const id of reporting) tracker.onReading(id, now, out)
      const t = tracker.tick(out)
      for (const f of t) expect(checkFinding.Check(f), JSON.stringify(f)).toBe(true)
      ticks.push(t)
    }
    return ticks
  }
  return { clock, tracker, run }
}

const keys = (fs: Finding[]) => fs.map((f) => `${f.key}:${f.active}`)

describe('offline tracker', () => {
  it('a silent sensor goes offline after maxSilence (measured on receive time), is re-raised every tick, and clears once on a reading', () => {
    const { run, tracker } = setup()
    const others = ALL.filter((id) => id !== 'E1001-CH4-01')
    const ticks = run(30, others)
    expect(ticks.flat()).toEqual([]) // 30 s of silence is not yet more than 30 s
    const t31 = run(1, others)[0]!
    expect(t31).toEqual([expect.objectContaining({
      key: 'E1001-CH4-01|offline', kind: 'offline', ruleId: 'offline', sensorId: 'E1001-CH4-01', gatewayId: 'gw-E1001',
      enterpriseId: 'E1001', regionId: 'R5101-G07', active: true, level: 3, value: 31, threshold: 30,
    })])
    expect(t31[0]!.title).toBe('甲煤矿 E1001-CH4-01 离线：31 秒未收到数据（限值 30 秒）')
    expect(tracker.offlineCount()).toBe(1)
    expect(run(3, others).map(keys)).toEqual([['E1001-CH4-01|offline:true'], ['E1001-CH4-01|offline:true'], ['E1001-CH4-01|offline:true']])
    const back = run(1, ALL)[0]!
    expect(keys(back)).toEqual(['E1001-CH4-01|offline:false'])
    expect(back[0]!.level).toBeNull()
    expect(tracker.offlineCount()).toBe(0)
    expect(run(2, ALL).flat()).toEqual([])
  })

  it('sensors never heard from count from when the tracker started', () => {
    const { run } = setup()
    const ticks = run(31, [])
    expect(ticks.slice(0, 30).flat()).toEqual([])
    // every sensor of every gateway is silent: one finding per gateway, none per sensor
    expect(keys(ticks[30]!).sort()).toEqual(['gw-E1001|gateway_offline:true', 'gw-E2001|gateway_offline:true', 'gw-E3001|gateway_offline:true'])
  })

  it('a whole silent gateway raises one gateway finding (level 2) instead of per-sensor ones; one reading clears it', () => {
    const { run, tracker } = setup()
    const notE1 = ALL.filter((id) => !id.startsWith('E1001'))
    const t = run(31, notE1)
    expect(t[30]).toEqual([expect.objectContaining({
      key: 'gw-E1001|gateway_offline', kind: 'offline', ruleId: 'gateway_offline', gatewayId: 'gw-E1001', enterpriseId: 'E1001',
      regionId: 'R5101-G07', active: true, level: 2,
    })])
    expect(t[30]![0]!.sensorId).toBeUndefined()
    expect(t[30]![0]!.title).toBe('甲煤矿 网关 gw-E1001 离线：全部 3 个传感器 31 秒未收到数据')
    expect(tracker.offlineCount()).toBe(3)
    expect(tracker.offlineGatewayCount()).toBe(1)
    expect(keys(run(1, notE1)[0]!)).toEqual(['gw-E1001|gateway_offline:true'])
    // one sensor of the gateway comes back: the gateway clears, its two still-silent sensors are raised on their own
    const back = run(1, [...notE1, 'E1001-CH4-01'])[0]!
    expect(keys(back)).toEqual(['gw-E1001|gateway_offline:false', 'E1001-CH4-02|offline:true', 'E1001-O2-01|offline:true'])
  })

  it('a silent pipeline raises one platform finding and no sensor-offline flood, also after it resumes', () => {
    const { run, tracker } = setup()
    expect(run(10, ALL).flat()).toEqual([])
    const silent = run(60, [], false)
    expect(silent.slice(0, 15).flat()).toEqual([])
    for (const t of silent.slice(15)) {
      expect(t).toHaveLength(1)
      expect(t[0]).toMatchObject({ key: 'platform|ingest_silent', kind: 'platform', ruleId: 'ingest_silent', enterpriseId: '-', regionId: 'R51', active: true, level: 2 })
    }
    expect(tracker.platformSilent()).toBe(true)
    // The pipeline resumes with one enterprise's readings first: nobody else is declared offline for their pipeline-caused silence.
    const resumed = run(1, ['E1001-CH4-01'])[0]!
    expect(keys(resumed)).toEqual(['platform|ingest_silent:false'])
    expect(run(29, ['E1001-CH4-01']).flat()).toEqual([])
    // …but sensors that stay silent for maxSilence after the resume are offline then.
    const later = run(2, ['E1001-CH4-01']).flat()
    expect(later.length).toBeGreaterThan(0)
    expect(later.every((f) => f.kind === 'offline')).toBe(true)
  })

  it('a sensor removed from the registry while reported offline gets its clear', () => {
    const { run, tracker } = setup()
    run(31, ALL.filter((id) => id !== 'E2001-TK-01'))
    const remaining = [...compileRegistry(fixtureRegistry([], 2)).sensors.values()].filter((c) => c.sensorId !== 'E2001-TK-01')
    const out = tracker.setSensors(remaining, 'R51')
    expect(keys(out)).toEqual(['E2001-TK-01|offline:false'])
    expect(tracker.offlineCount()).toBe(0)
  })

  it('addSensors (an enterprise taken over) watches only the added sensors from the watermark and keeps the rest', () => {
    const clock = fakeClock()
    const tracker = createOfflineTracker({ clock, platformSilenceMs: 15_000 })
    const e1001 = [...rules.sensors.values()].filter((c) => c.enterpriseId === 'E1001')
    const rest = [...rules.sensors.values()].filter((c) => c.enterpriseId !== 'E1001')
    expect(e1001.length).toBeGreaterThan(0)
    expect(rest.length).toBeGreaterThan(0)
    tracker.setSensors(e1001, 'R51')
    const tickAll = (seconds: number, reporting: readonly string[]): Finding[] => {
      const out: Finding[] = []
      for (let i = 0; i < seconds; i++) {
        clock.advance(1000)
        tracker.observe(clock.now())
        for (const id of reporting) tracker.onReading(id, clock.now(), out)
        out.push(...tracker.tick())
      }
      return out
    }
    // E1001's first sensor stays silent from the start; the others report.
    const silent = e1001[0]!.sensorId
    const e1001Reporting = e1001.map((c) => c.sensorId).filter((id) => id !== silent)
    expect(tickAll(20, e1001Reporting)).toEqual([])
    tracker.addSensors(rest) // taken over at t = 20 s: their silence counts from here
    tracker.addSensors(e1001) // already watched: nothing changes for them
    const out = tickAll(11, e1001Reporting)
    // The silent E1001 sensor (silent 31 s) is offline; the added ones (silent 11 s) are not.
    expect(out.filter((f) => f.active).map((f) => f.sensorId ?? f.gatewayId)).toContain(silent)
    expect(out.some((f) => rest.some((c) => c.sensorId === f.sensorId))).toBe(false)
    tickAll(25, e1001Reporting.concat([silent])) // the added ones are now silent 36 s, E1001 all report
    expect(tracker.offlineCount()).toBe(rest.filter((c) => c.maxSilenceMs < 36_000).length)
    expect(tracker.offlineCount()).toBeGreaterThan(0)
  })
})
