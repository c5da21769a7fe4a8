// The SQLite history store behind its worker thread (needs `npm run build`: the worker runs from dist/).
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ReadingBatch } from '../contracts/reading.js'
import { createWorkerTelemetryStore } from './telemetry-worker-host.js'

const T0 = Date.parse('2026-11-28T08:00:00Z')
const batch = (b: number, size: number): ReadingBatch => ({
  enterpriseId: 'E1', gatewayId: 'gw', receivedAt: T0,
  items: Array.from({ length: size }, (_, i) => ({ sensorId: `S${i % 50}`, type: 'ch4' as const, ts: T0 + b * size + i, value: i % 7, quality: 'ok' as const })),
})

describe('worker telemetry store', () => {
  it('stores what it is given and answers queries', async () => {
    const store = await createWorkerTelemetryStore({ dataDir: mkdtempSync(join(tmpdir(), 'yj-tw-')) })
    try {
      for (let b = 0; b < 20; b++) store.write(batch(b, 500))
      await store.flush()
      expect(store.stats()).toMatchObject({ buffered: 0, written: 10_000, dropped: 0 })
      const rows = await store.query('S3', T0, T0 + 10_000_000, 10_000)
      expect(rows).toHaveLength(200)
    } finally {
      await store.close()
    }
  })

  it('carries every value, timestamp and quality to the worker exactly, and drops an invalid reading counted', async () => {
    const store = await createWorkerTelemetryStore({ dataDir: mkdtempSync(join(tmpdir(), 'yj-tw-')) })
    try {
      const qualities = ['ok', 'fault', 'maintenance', 'calibrating'] as const
      const items = Array.from({ length: 40 }, (_, i) => ({ sensorId: 'Q1', type: 'ch4' as const, ts: T0 + i * 1000 + 0.75, value: i * 0.1 + 1e-9, quality: qualities[i % 4]! }))
      store.write({ enterpriseId: 'E1', gatewayId: 'gw', receivedAt: T0, items: items.slice(0, 20) })
      store.write({ enterpriseId: 'E1', gatewayId: 'gw', receivedAt: T0, items: [...items.slice(20), { sensorId: 'Q1', type: 'ch4' as const, ts: T0 + 99_000, value: Number.NaN, quality: 'ok' as const }] })
      store.write({ enterpriseId: 'E1', gatewayId: 'gw', receivedAt: T0, items: [{ sensorId: 'Q2', type: 'ch4' as const, ts: T0, value: -3.5 } as ReadingBatch['items'][number]] }) // no quality (a producer outside the schema): ok
      store.write({ enterpriseId: 'E1', gatewayId: 'gw', receivedAt: T0, items: [{ sensorId: 'Q3', type: 'ch4' as const, ts: T0, value: 1, quality: 'bogus' } as unknown as ReadingBatch['items'][number]] }) // unknown quality: dropped
      await store.flush()
      await new Promise((r) => setTimeout(r, 300)) // the worker's stats arrive every 250 ms
      expect(store.stats()).toMatchObject({ buffered: 0, written: 41, dropped: 2 })
      expect(await store.query('Q3', T0, T0)).toEqual([])
      expect(await store.query('Q1', T0, T0 + 100_000)).toEqual(items.map((it) => ({ ts: Math.trunc(it.ts), value: it.value, quality: it.quality })))
      expect(await store.query('Q2', T0, T0)).toEqual([{ ts: T0, value: -3.5, quality: 'ok' }])
    } finally {
      await store.close()
    }
  })

  it('hands single readings written in separate event-loop turns to the worker together, and at once when many wait', async () => {
    // Thousands of gateways at a few messages a second each: every reading arrives in its own turn.
    const turn = (): Promise<void> => new Promise((r) => setImmediate(r))
    const store = await createWorkerTelemetryStore({ dataDir: mkdtempSync(join(tmpdir(), 'yj-tw-')), handOverMs: 300, handOverReadings: 1000 })
    const perTurn = await createWorkerTelemetryStore({ dataDir: mkdtempSync(join(tmpdir(), 'yj-tw-')), handOverMs: 0 })
    try {
      for (let i = 0; i < 30; i++) { store.write(batch(i, 1)); perTurn.write(batch(i, 1)); await turn() }
      expect(store.handOvers()).toBe(0) // waiting for the hand-over interval
      expect(perTurn.handOvers()).toBe(30)
      await new Promise((r) => setTimeout(r, 400))
      expect(store.handOvers()).toBe(1)
      // 1,000 readings waiting: posted in this turn, not after the interval.
      store.write(batch(100, 1000))
      await turn()
      expect(store.handOvers()).toBe(2)
      await store.flush()
      await perTurn.flush()
      expect(store.stats()).toMatchObject({ buffered: 0, written: 1030 })
      expect(perTurn.stats()).toMatchObject({ buffered: 0, written: 30 })
      // flush() hands over what waits without the interval.
      store.write(batch(200, 1))
      await store.flush()
      expect(store.handOvers()).toBe(3)
      expect(await store.query('S0', T0 + 200, T0 + 200)).toHaveLength(1)
    } finally {
      await store.close()
      await perTurn.close()
    }
  })

  it('under a flood holds back what the worker has not taken and drops the oldest beyond its bound, counted', async () => {
    const store = await createWorkerTelemetryStore({ dataDir: mkdtempSync(join(tmpdir(), 'yj-tw-')), bufferMax: 30_000, maxInTransit: 5000 })
    try {
      // 200,000 readings handed over in one event-loop turn: far beyond what can be in transit or buffered.
      for (let b = 0; b < 200; b++) store.write(batch(b, 1000))
      expect(store.stats().buffered).toBeLessThanOrEqual(30_000)
      await new Promise((r) => setTimeout(r, 50))
      await store.flush()
      await new Promise((r) => setTimeout(r, 300)) // the worker's stats arrive every 250 ms
      const s = store.stats()
      expect(s.buffered).toBe(0)
      expect(s.written + s.dropped).toBe(200_000)
      expect(s.written).toBeGreaterThanOrEqual(29_000)
      // The newest readings are the ones kept.
      const newest = await store.query('S0', T0 + 199_000, T0 + 200_000, 100)
      expect(newest).toHaveLength(20)
    } finally {
      await store.close()
    }
  })
})
