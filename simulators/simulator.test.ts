// The simulator publishing over MQTT to the embedded broker of a real ingest stage.
import { afterEach, describe, expect, it } from 'vitest'
import { createMemoryBus } from '../core/bus/memory-bus.js'
import { topics } from '../core/contracts/topics.js'
import type { ReadingBatch, Rejection } from '../core/contracts/reading.js'
import { indexRegistry } from '../core/registry/registry-index.js'
import { createRegistryHolder } from '../core/registry/registry-holder.js'
import { createMetrics } from '../core/runtime/metrics.js'
import { createLogger } from '../core/runtime/logger.js'
import { systemClock } from '../core/runtime/clock.js'
import { createIngestStage } from '../ingest/ingest-stage.js'
import { memoryRejectionStore } from '../ingest/testing/fixtures.js'
import { generateDemoProvince } from './demo-province.js'
import { createSimulator, isoCst, type Simulator } from './simulator.js'
import { runSimulateCommand } from './simulate-command.js'

const logger = createLogger({ level: 'silent' })

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 20))
  }
}

async function setup(enterprises: number) {
  const doc = generateDemoProvince({ seed: 11, enterprises, secret: 'sim-test' })
  const bus = createMemoryBus()
  const batches: ReadingBatch[] = []
  const dlq: Rejection[] = []
  await bus.subscribe(topics.readings, { group: 't' }, (m) => { batches.push(m) })
  await bus.subscribe(topics.readingsDlq, { group: 't' }, (m) => { dlq.push(m) })
  const stage = createIngestStage({
    bus, registry: createRegistryHolder(indexRegistry(doc)), rejections: memoryRejectionStore(), metrics: createMetrics({ defaults: false }),
    logger, clock: systemClock(), options: { mode: 'embedded', host: '127.0.0.1', port: 0 },
  })
  await stage.start()
  return { doc, bus, stage, batches, dlq, url: `mqtt://127.0.0.1:${stage.mqttPort()}` }
}

describe('simulator → embedded broker → ingest → bus', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

  it('single messages at QoS 0 with a methane scenario and malformed input: readings and rejections reach the bus', async () => {
    const r = await setup(9)
    cleanups.push(async () => { await r.stage.stop(); await r.bus.close() })
    const progress: number[] = []
    const sim: Simulator = createSimulator({
      mqttUrl: r.url, registry: r.doc, rate: 300, seed: 2, scenarios: ['methane_accumulation', 'malformed'], tickMs: 50, logger,
      onProgress: (s) => progress.push(s.sent),
    })
    cleanups.push(() => sim.stop())
    await sim.start()
    await until(() => r.batches.reduce((n, b) => n + b.items.length, 0) >= 300 && r.dlq.length >= 1)
    const items = r.batches.flatMap((b) => b.items)
    const sensorIds = new Set(r.doc.sensors.map((s) => s.id))
    expect(items.every((i) => sensorIds.has(i.sensorId) && i.quality === 'ok' && Number.isFinite(i.value))).toBe(true)
    expect(new Set(items.map((i) => i.sensorId)).size).toBeGreaterThan(50)
    // The methane scenario's sensor reports its ramp (starting at 0.4).
    const ch4 = r.doc.sensors.find((s) => s.type === 'ch4' && s.role === 'working_face')!
    expect(items.some((i) => i.sensorId === ch4.id && i.value >= 0.4)).toBe(true)
    expect(r.dlq[0]!.reason).toBe('bad_json')
    const st = sim.stats()
    expect(st.connected).toBe(9)
    expect(st.errors).toBe(0)
    expect(st.activeScenarios).toEqual(['methane_accumulation', 'malformed'])
    expect(progress.length).toBeGreaterThan(0)
  })

  it('batch messages at QoS 1: every acknowledged reading is on the bus', async () => {
    const r = await setup(12)
    cleanups.push(async () => { await r.stage.stop(); await r.bus.close() })
    const sim = createSimulator({ mqttUrl: r.url, registry: r.doc, rate: 500, seed: 3, qos: 1, batch: 50, tsFormat: 'epoch', tickMs: 50, logger })
    cleanups.push(() => sim.stop())
    await sim.start()
    await until(() => sim.stats().sent >= 400)
    const sent = sim.stats().sent
    await r.bus.drain()
    const onBus = r.batches.reduce((n, b) => n + b.items.length, 0)
    expect(onBus).toBeGreaterThanOrEqual(sent)
    expect(r.batches.some((b) => b.items.length > 1)).toBe(true)
    expect(r.dlq).toEqual([])
  })

  it('refuses to start when no gateway can connect (wrong secret), naming the broker', async () => {
    const r = await setup(3)
    cleanups.push(async () => { await r.stage.stop(); await r.bus.close() })
    const wrong = generateDemoProvince({ seed: 11, enterprises: 3, secret: 'not-the-server-secret' })
    const sim = createSimulator({ mqttUrl: r.url, registry: wrong, rate: 10, logger })
    await expect(sim.start()).rejects.toThrow(/no gateway could connect to mqtt:\/\/127\.0\.0\.1:\d+/)
    await sim.stop()
  })

  it('runSimulateCommand runs for durationSeconds with a progress line', async () => {
    const r = await setup(9)
    cleanups.push(async () => { await r.stage.stop(); await r.bus.close() })
    let text = ''
    const out = { isTTY: false, write: (x: string) => { text += x; return true } } as unknown as NodeJS.WritableStream
    await runSimulateCommand({ mqttUrl: r.url, enterprises: 9, provinceSeed: 11, seed: 5, batch: 20, secret: 'sim-test', rate: 200, durationSeconds: 1.5, scenario: 'demo', out })
    await r.bus.drain()
    expect(r.batches.length).toBeGreaterThan(50)
    expect(text).toMatch(/\[simulate\] 9 enterprises, \d+ sensors → mqtt:\/\/127\.0\.0\.1:\d+ at 200 readings\/s, scenario demo/)
    expect(text).toMatch(/\[simulate\] \d+ readings\/s {2}sent \d+ {2}errors 0/)
    expect(text).toMatch(/\[simulate\] done: sent \d+ readings/)
  })

  it('formats China time with an explicit offset', () => {
    expect(isoCst(Date.parse('2026-11-28T00:00:00.000Z'))).toBe('2026-11-28T08:00:00.000+08:00')
  })
})
