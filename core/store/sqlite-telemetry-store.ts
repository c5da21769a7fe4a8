// Readings history in SQLite (its own file, telemetry.db). `write` only appends to a bounded buffer
// (oldest dropped and counted when full); a timer drains it in transactions of at most `batchMax`
// rows, yielding between them, into raw readings (first (sensor, ts) wins) and 1-minute aggregates of
// the `ok` readings actually inserted, so a replayed batch changes nothing.
import type { Quality, ReadingBatch } from '../contracts/reading.js'
import type { Logger } from '../runtime/logger.js'
import { AppError } from '../runtime/errors.js'
import { systemClock, type Clock, type TimerHandle } from '../runtime/clock.js'
import type { ReadingPoint, TelemetryStore } from './ports.js'
import { TELEMETRY_LIMIT, clampLimit, minuteOf } from './query-rules.js'
import { storeHandle, yieldToLoop, type SharedDb } from './sqlite-db.js'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS readings (
  sensor_id TEXT NOT NULL, ts INTEGER NOT NULL, value REAL NOT NULL, quality INTEGER NOT NULL,
  PRIMARY KEY (sensor_id, ts)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS readings_1m (
  sensor_id TEXT NOT NULL, minute INTEGER NOT NULL, vsum REAL NOT NULL, n INTEGER NOT NULL, vmin REAL NOT NULL, vmax REAL NOT NULL,
  PRIMARY KEY (sensor_id, minute)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sensors (sensor_id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
`
const QUALITY_CODES: readonly Quality[] = ['ok', 'fault', 'maintenance', 'calibrating']
const PRUNE_CHUNK = 10_000

interface Item { s: string; t: number; v: number; q: number }

export interface SqliteTelemetryOptions {
  flushMs?: number
  batchMax?: number
  bufferMax?: number
  logger?: Logger
  clock?: Clock
  onDropped?: (n: number) => void
}

export function createSqliteTelemetryStore(shared: SharedDb, opts: SqliteTelemetryOptions = {}): TelemetryStore {
  const { db } = shared
  db.exec(SCHEMA)
  const h = storeHandle(shared, 'telemetry')
  const logger = opts.logger
  const clock = opts.clock ?? systemClock()
  const batchMax = Math.max(1, opts.batchMax ?? 1000)
  const bufferMax = Math.max(1, opts.bufferMax ?? 200_000)
  const flushMs = Math.max(1, opts.flushMs ?? 200)

  let buf: Item[] = []
  let head = 0
  let written = 0
  let dropped = 0
  let droppedUnlogged = 0
  let flushing: Promise<void> | null = null
  let early = false
  let closing: Promise<void> | null = null
  const metaRow = shared.stmt(`SELECT value FROM meta WHERE key = 'raw_boundary'`).get() as { value: string } | undefined
  let boundary = metaRow ? Number(metaRow.value) : Number.MIN_SAFE_INTEGER

  const buffered = (): number => buf.length - head

  // Sensors already in the `sensors` table (rows are never deleted from it): a known one costs no insert.
  const knownSensors = new Set((shared.stmt('SELECT sensor_id FROM sensors').all() as { sensor_id: string }[]).map((r) => r.sensor_id))
  let newSensors: string[] = []
  const writeTx = db.transaction((items: Item[]) => {
    const ins = shared.stmt('INSERT OR IGNORE INTO readings (sensor_id, ts, value, quality) VALUES (?, ?, ?, ?)')
    const aggs = new Map<string, { s: string; m: number; sum: number; n: number; min: number; max: number }>()
    const sensors = new Set<string>()
    for (const it of items) {
      if (!knownSensors.has(it.s)) sensors.add(it.s)
      if (ins.run(it.s, it.t, it.v, it.q).changes !== 1 || it.q !== 0) continue
      const m = minuteOf(it.t)
      const k = `${it.s}\u0000${m}`
      const a = aggs.get(k)
      if (a) { a.sum += it.v; a.n++; a.min = Math.min(a.min, it.v); a.max = Math.max(a.max, it.v) }
      else aggs.set(k, { s: it.s, m, sum: it.v, n: 1, min: it.v, max: it.v })
    }
    const up = shared.stmt(`INSERT INTO readings_1m (sensor_id, minute, vsum, n, vmin, vmax) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (sensor_id, minute) DO UPDATE SET vsum = vsum + excluded.vsum, n = n + excluded.n,
        vmin = min(vmin, excluded.vmin), vmax = max(vmax, excluded.vmax)`)
    for (const a of aggs.values()) up.run(a.s, a.m, a.sum, a.n, a.min, a.max)
    if (sensors.size) {
      const sen = shared.stmt('INSERT OR IGNORE INTO sensors (sensor_id) VALUES (?)')
      for (const s of sensors) sen.run(s)
    }
    newSensors = [...sensors]
  })
  /** One transaction; the sensors it added are known only once it committed. */
  const writeChunk = (items: Item[]): void => {
    newSensors = []
    writeTx(items)
    for (const s of newSensors) knownSensors.add(s)
  }

  function compact(): void {
    if (head > 0 && (head === buf.length || (head > 65_536 && head > buf.length / 2))) { buf = buf.slice(head); head = 0 }
  }

  function flushAll(): Promise<void> {
    if (flushing) return flushing.then(() => (buffered() > 0 && !shared.closed ? flushAll() : undefined))
    const run = async (): Promise<void> => {
      while (buffered() > 0) {
        const chunk = buf.slice(head, head + batchMax)
        try { writeChunk(chunk) } catch (err) {
          throw new AppError('STORE_UNAVAILABLE', `telemetry flush failed: ${(err as Error).message}`, { retriable: true, cause: err })
        }
        head += chunk.length
        written += chunk.length
        compact()
        if (buffered() > 0) await yieldToLoop()
      }
    }
    // Cleared by identity after it settles (a run that never awaits settles before this assignment).
    const p: Promise<void> = run().finally(() => { if (flushing === p) flushing = null })
    flushing = p
    return p
  }

  function backgroundFlush(): void {
    if (droppedUnlogged > 0) {
      logger?.warn({ dropped: droppedUnlogged, bufferMax }, 'telemetry buffer full: oldest readings dropped')
      droppedUnlogged = 0
    }
    if (buffered() === 0 || flushing || shared.closed) return
    flushAll().catch((err: unknown) => logger?.error({ err }, 'telemetry flush failed; will retry'))
  }

  const timer: TimerHandle = clock.setInterval(backgroundFlush, flushMs)

  function drop(n: number): void {
    dropped += n
    droppedUnlogged += n
    try { opts.onDropped?.(n) } catch (err) { logger?.warn({ err }, 'onTelemetryDropped threw') }
  }

  return {
    write(batch: ReadingBatch) {
      const items = Array.isArray(batch?.items) ? batch.items : []
      if (closing || h.closed) { if (items.length) drop(items.length); return }
      let bad = 0
      for (const it of items) {
        const q = QUALITY_CODES.indexOf(it?.quality ?? 'ok')
        if (!it || typeof it.sensorId !== 'string' || !Number.isFinite(it.ts) || !Number.isFinite(it.value) || q < 0) { bad++; continue }
        buf.push({ s: it.sensorId, t: Math.trunc(it.ts), v: it.value, q })
      }
      if (bad) drop(bad)
      const excess = buffered() - bufferMax
      if (excess > 0) { head += excess; drop(excess); compact() }
      if (buffered() >= batchMax && !flushing && !early) {
        early = true
        setImmediate(() => { early = false; backgroundFlush() })
      }
    },

    async query(sensorId, from, to, limit) {
      h.check()
      if (typeof sensorId !== 'string' || !Number.isFinite(from) || !Number.isFinite(to) || from > to) return []
      const max = clampLimit(limit, TELEMETRY_LIMIT)
      const out: ReadingPoint[] = []
      if (from < boundary) {
        const rows = shared.stmt(`SELECT minute, vsum / n AS value FROM readings_1m
          WHERE sensor_id = ? AND minute >= ? AND minute <= ? AND minute < ? ORDER BY minute LIMIT ?`)
          .all(sensorId, Math.ceil(from), Math.floor(to), boundary, max) as { minute: number; value: number }[]
        for (const r of rows) out.push({ ts: r.minute, value: r.value, quality: 'ok' })
      }
      if (out.length < max && to >= boundary) {
        const rows = shared.stmt(`SELECT ts, value, quality FROM readings WHERE sensor_id = ? AND ts >= ? AND ts <= ? ORDER BY ts LIMIT ?`)
          .all(sensorId, Math.max(Math.ceil(from), boundary), Math.floor(to), max - out.length) as { ts: number; value: number; quality: number }[]
        for (const r of rows) out.push({ ts: r.ts, value: r.value, quality: QUALITY_CODES[r.quality] ?? 'ok' })
      }
      return out
    },

    async flush() { h.check(); await flushAll() },

    async prune(rawBefore, aggBefore) {
      h.check()
      await flushAll()
      let raw = 0
      let agg = 0
      const sensors = (shared.stmt('SELECT sensor_id FROM sensors').all() as { sensor_id: string }[]).map((r) => r.sensor_id)
      const delRaw = `DELETE FROM readings WHERE sensor_id = ? AND ts IN (SELECT ts FROM readings WHERE sensor_id = ? AND ts < ? ORDER BY ts LIMIT ${PRUNE_CHUNK})`
      const delAgg = `DELETE FROM readings_1m WHERE sensor_id = ? AND minute IN (SELECT minute FROM readings_1m WHERE sensor_id = ? AND minute < ? ORDER BY minute LIMIT ${PRUNE_CHUNK})`
      const chunked = async (sql: string, s: string, before: number): Promise<number> => {
        let n = 0
        for (;;) {
          if (shared.closed) return n
          const c = shared.stmt(sql).run(s, s, before).changes
          n += c
          if (c < PRUNE_CHUNK) return n
          await yieldToLoop()
        }
      }
      let i = 0
      for (const s of sensors) {
        if (Number.isFinite(rawBefore)) raw += await chunked(delRaw, s, rawBefore)
        if (Number.isFinite(aggBefore)) agg += await chunked(delAgg, s, aggBefore)
        if (++i % 200 === 0) await yieldToLoop()
      }
      if (Number.isFinite(rawBefore) && rawBefore > boundary && !shared.closed) {
        boundary = Math.floor(rawBefore)
        shared.stmt(`INSERT INTO meta (key, value) VALUES ('raw_boundary', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`).run(String(boundary))
      }
      return { raw, agg }
    },

    stats: () => ({ buffered: buffered(), written, dropped }),

    close() {
      if (!closing) {
        closing = (async () => {
          clock.clear(timer)
          if (!h.closed) {
            try { await flushAll() } catch (err) { logger?.error({ err, lost: buffered() }, 'telemetry flush at close failed') }
          }
          h.close()
        })()
      }
      return closing
    },
  }
}
