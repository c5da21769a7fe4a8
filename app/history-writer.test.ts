// The history writer reports a time-series store that stopped accepting writes as unhealthy.
import { describe, expect, it } from 'vitest'
import { createMemoryBus } from '../core/bus/memory-bus.js'
import { topics } from '../core/contracts/topics.js'
import type { ReadingBatch } from '../core/contracts/reading.js'
import type { TelemetryStore } from '../core/store/ports.js'
import { fakeClock } from '../core/runtime/clock.js'
import { createLogger } from '../core/runtime/logger.js'
import { createMetrics } from '../core/runtime/metrics.js'
import { createHistoryWriter } from './history-writer.js'

function store(accepting: () => boolean): TelemetryStore {
  let buffered = 0
  let written = 0
  return {
    write(b: ReadingBatch) { buffered += b.items.length; if (accepting()) { written += buffered; buffered = 0 } },
    query: async () => [],
    flush: async () => { if (!accepting()) throw new Error('down') },
    prune: async () => ({ raw: 0, agg: 0 }),
    stats: () => ({ buffered, written, dropped: 0 }),
    close: async () => undefined,
  }
}

const batch = (ts: number): ReadingBatch => ({ enterpriseId: 'E1', gatewayId: 'gw', receivedAt: ts, items: [{ sensorId: 'S1', type: 'co', ts, value: 1, quality: 'ok' }] })

describe('history writer health', () => {
  it.each([[true, true], [false, false]])('store accepting writes: %s → healthy: %s', async (accepting, healthy) => {
    const clock = fakeClock()
    const bus = createMemoryBus()
    const w = createHistoryWriter({ bus, telemetry: store(() => accepting), clock, logger: createLogger({ level: 'silent' }), metrics: createMetrics({ defaults: false }), options: { rawDays: 90, aggregateDays: 730, pruneIntervalMinutes: 60, group: 'history' } })
    await w.start()
    for (let i = 0; i < 15; i++) {
      await bus.publish(topics.readings, batch(clock.now()))
      await bus.drain()
      clock.advance(1000)
    }
    expect(w.health!().ok).toBe(healthy)
    if (!healthy) expect(w.health!().detail).toMatch(/not accepting writes/)
    await w.stop().catch(() => undefined)
    await bus.close()
  })
})

describe('history writer backpressure', () => {
  /** A store that writes 5 readings every 5 ms (slow but alive), or nothing when `alive` is false. */
  function slowStore(alive: () => boolean): TelemetryStore & { stop(): void } {
    let buffered = 0
    let written = 0
    const t = setInterval(() => { if (alive()) { const n = Math.min(5, buffered); buffered -= n; written += n } }, 5)
    return {
      write(b: ReadingBatch) { buffered += b.items.length },
      query: async () => [],
      flush: async () => undefined,
      prune: async () => ({ raw: 0, agg: 0 }),
      stats: () => ({ buffered, written, dropped: 0 }),
      close: async () => undefined,
      stop: () => clearInterval(t),
    }
  }

  it('holds its consumer while a slow store is above the high-water mark, so the bus backs up instead of the store dropping', async () => {
    const clock = fakeClock()
    const bus = createMemoryBus()
    const s = slowStore(() => true)
    const metrics = createMetrics({ defaults: false })
    const w = createHistoryWriter({ bus, telemetry: s, clock, logger: createLogger({ level: 'silent' }), metrics, options: { rawDays: 90, aggregateDays: 730, pruneIntervalMinutes: 60, group: 'history', highWater: 20 } })
    await w.start()
    try {
      for (let i = 0; i < 100; i++) await bus.publish(topics.readings, batch(i))
      // While held, the store never has much more than the high-water mark waiting.
      let peak = 0
      while (s.stats().written < 100) { peak = Math.max(peak, s.stats().buffered); await new Promise((r) => setTimeout(r, 5)) }
      expect(peak).toBeLessThanOrEqual(21)
      expect(s.stats().written).toBe(100)
      expect(await metrics.registry.getSingleMetricAsString('yujing_history_backpressure_total')).not.toMatch(/ 0$/)
    } finally {
      s.stop()
      await w.stop().catch(() => undefined)
    }
  })

  it('does not hold the pipeline for a store that has stopped writing (down or hung): warnings never wait for it', async () => {
    const clock = fakeClock()
    const bus = createMemoryBus()
    const s = slowStore(() => false)
    const w = createHistoryWriter({ bus, telemetry: s, clock, logger: createLogger({ level: 'silent' }), metrics: createMetrics({ defaults: false }), options: { rawDays: 90, aggregateDays: 730, pruneIntervalMinutes: 60, group: 'history', highWater: 20 } })
    await w.start()
    try {
      for (let i = 0; i < 10; i++) await bus.publish(topics.readings, batch(i))
      await bus.drain()
      clock.advance(11_000) // no progress for longer than the stall limit
      for (let i = 10; i < 100; i++) await bus.publish(topics.readings, batch(i))
      await bus.drain(2000)
      expect(s.stats().buffered).toBe(100)
      expect(w.health!().ok).toBe(false)
    } finally {
      s.stop()
      await w.stop().catch(() => undefined)
    }
  })
})
