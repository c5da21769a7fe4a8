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
