// The TelemetryStore contract suite, run by every readings-history adapter (memory, SQLite, InfluxDB).
// Only what the port promises is asserted: after `flush`, `query` returns the range oldest first.
import { afterEach, describe, expect, it } from 'vitest'
import type { Quality, Reading, ReadingBatch } from '../contracts/reading.js'
import type { TelemetryStore } from './ports.js'
import type { StoreContractOptions } from './warning-store.contract.js'

const T0 = Date.parse('2026-11-28T00:00:00.000Z')
const MIN = 60_000

export function readingBatch(items: { sensorId?: string; ts: number; value: number; quality?: Quality }[], enterpriseId = 'E1001'): ReadingBatch {
  return {
    enterpriseId, gatewayId: `gw-${enterpriseId}`, receivedAt: T0,
    items: items.map((i): Reading => ({ sensorId: i.sensorId ?? 'S1', type: 'ch4', ts: i.ts, value: i.value, quality: i.quality ?? 'ok' })),
  }
}

export function telemetryStoreContract(name: string, make: () => Promise<TelemetryStore>, opts: StoreContractOptions<TelemetryStore> = {}): void {
  describe(`TelemetryStore contract: ${name}`, () => {
    let open: TelemetryStore[] = []
    const fresh = async (): Promise<TelemetryStore> => { const s = await make(); open.push(s); return s }
    afterEach(async () => { for (const s of open) await s.close(); open = [] })

    it('returns the readings of one sensor in [from, to], oldest first, after flush', async () => {
      const s = await fresh()
      s.write(readingBatch([{ ts: T0 + 3000, value: 3 }, { ts: T0 + 1000, value: 1 }, { sensorId: 'S2', ts: T0 + 2000, value: 99 }]))
      s.write(readingBatch([{ ts: T0 + 2000, value: 2, quality: 'calibrating' }, { ts: T0 + 4000, value: 4 }, { ts: T0, value: 0 }]))
      await s.flush()
      expect(await s.query('S1', T0 + 1000, T0 + 3000)).toEqual([
        { ts: T0 + 1000, value: 1, quality: 'ok' },
        { ts: T0 + 2000, value: 2, quality: 'calibrating' },
        { ts: T0 + 3000, value: 3, quality: 'ok' },
      ])
      expect((await s.query('S1', T0, T0 + 10_000)).map((p) => p.value)).toEqual([0, 1, 2, 3, 4])
      expect(await s.query('S2', T0, T0 + 10_000)).toEqual([{ ts: T0 + 2000, value: 99, quality: 'ok' }])
      expect(await s.query('S3', T0, T0 + 10_000)).toEqual([])
      expect(await s.query('S1', T0 + 5000, T0 + 10_000)).toEqual([])
      expect(s.stats().buffered).toBe(0)
    })

    it('applies limit to the oldest readings', async () => {
      const s = await fresh()
      s.write(readingBatch(Array.from({ length: 50 }, (_, i) => ({ ts: T0 + i * 1000, value: i }))))
      await s.flush()
      expect((await s.query('S1', T0, T0 + 60_000, 5)).map((p) => p.value)).toEqual([0, 1, 2, 3, 4])
      expect(await s.query('S1', T0, T0 + 60_000)).toHaveLength(50)
    })

    it('stores a repeated (sensorId, ts) once', async () => {
      const s = await fresh()
      const b = readingBatch([{ ts: T0, value: 0.5 }, { ts: T0 + 1000, value: 0.6 }])
      s.write(b)
      await s.flush()
      s.write(b)
      await s.flush()
      expect(await s.query('S1', T0, T0 + 1000)).toEqual([{ ts: T0, value: 0.5, quality: 'ok' }, { ts: T0 + 1000, value: 0.6, quality: 'ok' }])
    })

    it('drops bad items without throwing and keeps the good ones', async () => {
      const s = await fresh()
      const b = readingBatch([{ ts: T0, value: Number.NaN }, { ts: Number.POSITIVE_INFINITY, value: 1 }, { ts: T0 + 1, value: 7 }])
      expect(() => s.write(b)).not.toThrow()
      expect(() => s.write({ items: undefined } as unknown as ReadingBatch)).not.toThrow()
      await s.flush()
      expect(await s.query('S1', T0 - MIN, T0 + MIN)).toEqual([{ ts: T0 + 1, value: 7, quality: 'ok' }])
      expect(s.stats().dropped).toBeGreaterThanOrEqual(2)
    })

    it('buffers 20,000 readings without blocking, then flushes them all', async () => {
      const s = await fresh()
      for (let b = 0; b < 20; b++) {
        s.write(readingBatch(Array.from({ length: 1000 }, (_, i) => ({ sensorId: `S${i % 10}`, ts: T0 + b * 1000 + i, value: b * 1000 + i }))))
      }
      await s.flush()
      expect(s.stats().buffered).toBe(0)
      const s3 = await s.query('S3', T0, T0 + 100_000, 100_000)
      expect(s3).toHaveLength(2000)
      expect(s3[0]).toEqual({ ts: T0 + 3, value: 3, quality: 'ok' })
      expect(s3.at(-1)).toEqual({ ts: T0 + 19_993, value: 19_993, quality: 'ok' })
    })

    it('prunes raw and aggregates, and answers older ranges with 1-minute means of ok readings', async () => {
      const s = await fresh()
      s.write(readingBatch([
        { ts: T0, value: 1 }, { ts: T0 + 10_000, value: 2 }, { ts: T0 + 20_000, value: 6 }, { ts: T0 + 30_000, value: 100, quality: 'fault' },
        { ts: T0 + MIN, value: 10 }, { ts: T0 + MIN + 5000, value: 20 },
        { ts: T0 + 2 * MIN, value: 7 }, { ts: T0 + 2 * MIN + 1000, value: 8 },
        { sensorId: 'S2', ts: T0 + 5000, value: 50 },
      ]))
      await s.flush()
      const r = await s.prune(T0 + 2 * MIN, T0 - MIN)
      expect(r).toEqual({ raw: 7, agg: 0 })
      expect(await s.query('S1', T0, T0 + 3 * MIN)).toEqual([
        { ts: T0, value: 3, quality: 'ok' },
        { ts: T0 + MIN, value: 15, quality: 'ok' },
        { ts: T0 + 2 * MIN, value: 7, quality: 'ok' },
        { ts: T0 + 2 * MIN + 1000, value: 8, quality: 'ok' },
      ])
      expect(await s.query('S2', T0, T0 + MIN)).toEqual([{ ts: T0, value: 50, quality: 'ok' }])
      const r2 = await s.prune(T0 + 2 * MIN, T0 + MIN)
      expect(r2).toEqual({ raw: 0, agg: 2 })
      expect((await s.query('S1', T0, T0 + 3 * MIN)).map((p) => p.value)).toEqual([15, 7, 8])
    })

    it('close flushes and can be repeated', async () => {
      const s = await fresh()
      s.write(readingBatch([{ ts: T0, value: 1 }]))
      await s.close()
      await s.close()
      expect(s.stats().buffered).toBe(0)
    })

    if (opts.reopen) {
      const reopen = opts.reopen
      it('keeps flushed and closed-over readings across a reopen', async () => {
        const s = await fresh()
        s.write(readingBatch([{ ts: T0, value: 1 }, { ts: T0 + 1000, value: 2 }]))
        await s.flush()
        s.write(readingBatch([{ ts: T0 + 2000, value: 3 }]))
        const s2 = await reopen(s)
        open.push(s2)
        expect((await s2.query('S1', T0, T0 + MIN)).map((p) => p.value)).toEqual([1, 2, 3])
      })
    }
  })
}
