import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Compile } from 'typebox/compile'
import type { Bus, MessageMeta } from '../core/bus/bus.js'
import { createMemoryBus } from '../core/bus/memory-bus.js'
import { roundTripBus } from '../core/bus/testing/round-trip-bus.js'
import { Finding } from '../core/contracts/finding.js'
import type { Quality, Reading, ReadingBatch } from '../core/contracts/reading.js'
import { topics } from '../core/contracts/topics.js'
import { createRegistryHolder } from '../core/registry/registry-holder.js'
import { fakeClock, type FakeClock } from '../core/runtime/clock.js'
import { createLogger } from '../core/runtime/logger.js'
import { createMetrics, type Metrics } from '../core/runtime/metrics.js'
import type { Stage } from '../core/runtime/stage.js'
import { createRulesStage } from './rules-stage.js'
import { fixtureRegistry } from './test-registry.js'

const checkFinding = Compile(Finding)
const ALL = [...fixtureRegistry().sensors.keys()]
const NORMAL: Record<string, number> = { ch4: 0.3, o2: 20.9, combustible_gas: 1, tank_level: 50, pipe_pressure: 0.4 }

let bus: Bus
let clock: FakeClock
let metrics: Metrics
let stage: Stage
let holder: ReturnType<typeof createRegistryHolder>
let seen: Finding[]

beforeEach(async () => {
  bus = createMemoryBus()
  clock = fakeClock()
  metrics = createMetrics({ defaults: false })
  holder = createRegistryHolder(fixtureRegistry())
  seen = []
  await bus.subscribe(topics.findings, { group: 'test' }, (f) => { expect(checkFinding.Check(f), JSON.stringify(f)).toBe(true); seen.push(f) })
  stage = createRulesStage({ bus, registry: holder, metrics, logger: createLogger({ level: 'silent' }), clock, options: { platformSilenceMs: 15_000 } })
  await stage.start()
})

afterEach(async () => {
  await stage.stop()
  await bus.close()
})

function take(): Finding[] { const s = seen; seen = []; return s }
const brief = (fs: Finding[]) => fs.map((f) => `${f.key}:${f.active ? `L${f.level}` : 'clear'}`)

/** Publishes one batch per enterprise with readings at clock.now() (ts offset by `tsMs`), then waits for the findings. */
async function send(items: readonly (readonly [string, number, Quality?])[], tsMs = 0): Promise<Finding[]> {
  const reg = holder.current()
  const byEnt = new Map<string, Reading[]>()
  for (const [sensorId, value, quality] of items) {
    const s = reg.sensors.get(sensorId)!
    const arr = byEnt.get(s.enterpriseId) ?? []
    arr.push({ sensorId, type: s.type, ts: clock.now() + tsMs, value, quality: quality ?? 'ok' })
    byEnt.set(s.enterpriseId, arr)
  }
  for (const [enterpriseId, arr] of byEnt) {
    const batch: ReadingBatch = { enterpriseId, gatewayId: `gw-${enterpriseId}`, receivedAt: clock.now(), items: arr }
    await bus.publish(topics.readings, batch)
  }
  await bus.drain()
  return take()
}

/** `n` seconds: the clock advances (offline timer ticks), ingest heartbeats, `reporting` sensors send a normal reading. */
async function seconds(n: number, reporting: readonly string[], heartbeat = true): Promise<Finding[][]> {
  const per: Finding[][] = []
  for (let i = 0; i < n; i++) {
    clock.advance(1000)
    if (heartbeat) await bus.publish(topics.heartbeats, { instance: 'ingest-1', at: clock.now() })
    await bus.drain()
    const got = take()
    if (reporting.length) got.push(...await send(reporting.map((id) => [id, NORMAL[holder.current().sensors.get(id)!.type] ?? 1] as const)))
    per.push(got)
  }
  return per
}

describe('rules stage over the memory bus', () => {
  it('working-face methane: 0.8 nothing, 1.2 orange, 1.6 red, 1.2 orange, 0.95 clears (clear 1.0)', async () => {
    const seq = []
    for (const v of [0.8, 1.2, 1.6, 1.2, 0.95, 0.7]) { clock.advance(100); seq.push(brief(await send([['E1001-CH4-01', v]]))) }
    expect(seq).toEqual([[], ['E1001-CH4-01|threshold:L2'], ['E1001-CH4-01|threshold:L1'], ['E1001-CH4-01|threshold:L2'], ['E1001-CH4-01|threshold:clear'], []])
    expect(await metrics.findings.get()).toMatchObject({ values: [{ labels: { kind: 'threshold' }, value: 4 }] })
    const lat = await metrics.stageLatencySeconds.get()
    expect(lat.values.find((v) => v.metricName?.endsWith('_count') && v.labels.stage === 'rules')?.value).toBe(6)
  })

  it('one message with several readings publishes its findings in order', async () => {
    const fs = await send([['E1001-CH4-01', 1.6], ['E1001-CH4-02', 1.0], ['E1001-O2-01', 19.8]])
    expect(brief(fs)).toEqual(['E1001-CH4-01|threshold:L1', 'E1001-CH4-02|threshold:L1', 'E1001-O2-01|threshold_low:L2'])
    expect(fs[2]!.title).toBe('甲煤矿 E1001-O2-01 氧气浓度 19.8 %vol 低于二级预警值 20')
  })

  it('flapping 24.9 / 25.1 on a combustible point with clear 20 stays one active condition', async () => {
    const all: Finding[] = []
    for (const v of [25.1, 24.9, 25.1, 24.9, 25.1, 21]) { clock.advance(1000); all.push(...await send([['E2001-LEL-01', v]])) }
    expect(all).toHaveLength(6)
    expect(new Set(all.map((f) => f.key))).toEqual(new Set(['E2001-LEL-01|threshold']))
    expect(all.every((f) => f.active && f.level === 2)).toBe(true)
    clock.advance(1000)
    expect(brief(await send([['E2001-LEL-01', 19.9]]))).toEqual(['E2001-LEL-01|threshold:clear'])
  })

  it('forSeconds 10 is measured in reading time', async () => {
    expect(await send([['E2001-LEL-02', 30]], 0)).toEqual([])
    expect(await send([['E2001-LEL-02', 30]], 5000)).toEqual([])
    expect(brief(await send([['E2001-LEL-02', 30]], 10_000))).toEqual(['E2001-LEL-02|threshold:L2'])
  })

  it('manhole gas: forCount 2 consecutive readings, four colours', async () => {
    expect(await send([['E3001-MH-01', 12]], 0)).toEqual([])
    expect(brief(await send([['E3001-MH-01', 12]], 1000))).toEqual(['E3001-MH-01|threshold:L3'])
    expect(brief(await send([['E3001-MH-01', 6]], 2000))).toEqual(['E3001-MH-01|threshold:L4'])
    expect(brief(await send([['E3001-MH-01', 4]], 3000))).toEqual(['E3001-MH-01|threshold:clear'])
  })

  it('two-sided oxygen (hazardous chemicals 19.5 / 23.5)', async () => {
    expect(brief(await send([['E2001-O2-01', 19.4]], 0))).toEqual(['E2001-O2-01|threshold_low:L2'])
    expect(brief(await send([['E2001-O2-01', 20.9]], 1000))).toEqual(['E2001-O2-01|threshold_low:clear'])
    expect(brief(await send([['E2001-O2-01', 23.6]], 2000))).toEqual(['E2001-O2-01|threshold_high:L2'])
  })

  it('pipe pressure drop rate', async () => {
    expect(await send([['E3001-P-01', 0.40]], 0)).toEqual([])
    expect(await send([['E3001-P-01', 0.38]], 30_000)).toEqual([])
    expect(brief(await send([['E3001-P-01', 0.25]], 60_000))).toEqual(['E3001-P-01|rate:L2'])
    expect(brief(await send([['E3001-P-01', 0.15]], 75_000))).toEqual(['E3001-P-01|threshold_low:L2', 'E3001-P-01|rate:L1'])
  })

  it('device fault, then ok', async () => {
    expect(brief(await send([['E1001-CH4-01', 0, 'fault']], 0))).toEqual(['E1001-CH4-01|fault:L3'])
    expect(await send([['E1001-CH4-01', 9, 'calibrating']], 1000)).toEqual([])
    expect(brief(await send([['E1001-CH4-01', 0.2]], 2000))).toEqual(['E1001-CH4-01|fault:clear'])
  })

  it('offline by timer with heartbeats: one silent sensor is raised every tick, and cleared when it reports', async () => {
    const others = ALL.filter((id) => id !== 'E2001-TK-01')
    const quiet = await seconds(30, others)
    expect(quiet.flat()).toEqual([])
    const raised = (await seconds(3, others)).flat()
    expect(raised.length).toBeGreaterThanOrEqual(2)
    expect(new Set(brief(raised))).toEqual(new Set(['E2001-TK-01|offline:L3']))
    expect(await metrics.sensorsOffline.get()).toMatchObject({ values: [{ value: 1 }] })
    const back = await send([['E2001-TK-01', 50]])
    expect(brief(back)).toEqual(['E2001-TK-01|offline:clear'])
    expect((await seconds(2, ALL)).flat()).toEqual([])
  })

  it('a silent gateway raises one gateway finding, not one per sensor', async () => {
    const notE3 = ALL.filter((id) => !id.startsWith('E3001'))
    const per = await seconds(34, notE3)
    const fs = per.flat()
    expect(new Set(brief(fs))).toEqual(new Set(['gw-E3001|gateway_offline:L2']))
    expect(fs[0]).toMatchObject({ kind: 'offline', ruleId: 'gateway_offline', gatewayId: 'gw-E3001', enterpriseId: 'E3001', regionId: 'R5101' })
  })

  it('a silent pipeline raises the platform finding and no sensor-offline flood', async () => {
    await seconds(5, ALL)
    const silent = (await seconds(60, [], false)).flat()
    expect(silent.length).toBeGreaterThan(30)
    expect(new Set(brief(silent))).toEqual(new Set(['platform|ingest_silent:L2']))
    expect(silent[0]).toMatchObject({ kind: 'platform', enterpriseId: '-', regionId: 'R51' })
    expect(stage.health!().ok).toBe(false)
    const resumed = (await seconds(5, ['E1001-CH4-01'])).flat()
    // the first tick after the resume still saw the silence (it runs before that second's messages)
    expect(brief(resumed)).toEqual(['platform|ingest_silent:L2', 'platform|ingest_silent:clear'])
    expect(stage.health!().ok).toBe(true)
  })

  it('registry change: recompiles, keeps the state of sensors that remain, releases removed ones', async () => {
    expect(await send([['E3001-MH-01', 30]], 0)).toEqual([]) // pending (1 of 2)
    expect(brief(await send([['E1001-CH4-01', 1.6]], 0))).toEqual(['E1001-CH4-01|threshold:L1'])
    const doc = structuredClone(holder.current().doc)
    doc.sensors = doc.sensors.filter((s) => s.id !== 'E1001-CH4-01')
    const { indexRegistry } = await import('../core/registry/registry-index.js')
    holder.set(indexRegistry(doc, 2))
    await bus.drain()
    expect(brief(take())).toEqual(['E1001-CH4-01|threshold:clear'])
    expect(brief(await send([['E3001-MH-01', 30]], 1000))).toEqual(['E3001-MH-01|threshold:L2'])
  })
})

describe('rules over a bus with round trips (Kafka)', () => {
  it('the readings handler does not wait for each finding to be acknowledged; the readings commit waits for all of them', async () => {
    const rt = roundTripBus(topics.readings, topics.findings)
    const s = createRulesStage({ bus: rt.bus, registry: holder, metrics: createMetrics({ defaults: false }), logger: createLogger({ level: 'silent' }), clock })
    await s.start()
    try {
      const readings = rt.input()
      expect(readings.beforeCommit).toBeTypeOf('function')
      const batch = (sensorId: string, value: number): ReadingBatch => ({ enterpriseId: 'E1001', gatewayId: 'gw-E1001', receivedAt: clock.now(), items: [{ sensorId, type: 'ch4', ts: clock.now(), value, quality: 'ok' }] })
      const meta: MessageMeta = { topic: 'readings', key: 'E1001', offset: '0', partition: 0 }
      // Two readings that each raise a finding: both handled while the first publish is unacknowledged.
      await readings.handler(batch('E1001-CH4-01', 1.6), meta)
      await readings.handler(batch('E1001-CH4-02', 1.6), meta)
      expect(rt.published.map((f) => f.key)).toEqual(['E1001-CH4-01|threshold'])
      let committed = false
      const commit = readings.beforeCommit!().then(() => { committed = true })
      rt.ackOne()
      await new Promise((r) => setImmediate(r))
      expect(rt.published.map((f) => f.key)).toEqual(['E1001-CH4-01|threshold', 'E1001-CH4-02|threshold'])
      expect(committed).toBe(false) // the second is not acknowledged yet
      rt.ackOne()
      await commit
      expect(committed).toBe(true)
    } finally {
      rt.ackAll()
      await s.stop()
      await rt.close()
    }
  })
})
