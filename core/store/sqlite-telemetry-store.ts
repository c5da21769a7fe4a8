// Readings history in SQLite (its own file, telemetry.db). `write` only appends to a bounded buffer
// (oldest dropped and counted when full); a timer drains it in transactions of at most `batchMax`
// rows, yielding between them, into raw points (first (sensor, ts) wins, so a replayed batch changes
// nothing). Layout for write speed: a sensor is a small integer key (`sensor_keys`), points are
// (key, ts, value, quality) rows inserted many per statement, and the 1-minute aggregates of `ok`
// points are computed when raw points are pruned (in the same transaction as their deletion), not on
// every write — the write path touches one B-tree per reading instead of two.
import type { ReadingBatch } from '../contracts/reading.js'
import type { Logger } from '../runtime/logger.js'
import { AppError } from '../runtime/errors.js'
import { systemClock, type Clock, type TimerHandle } from '../runtime/clock.js'
import type { ReadingPoint, TelemetryStore } from './ports.js'
import { TELEMETRY_LIMIT, clampLimit } from './query-rules.js'
import { storeHandle, yieldToLoop, type SharedDb } from './sqlite-db.js'
import { QUALITY_CODES, toColumns, type ReadingColumns } from './reading-columns.js'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sensor_keys (sensor_id TEXT PRIMARY KEY, k INTEGER NOT NULL UNIQUE) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS points (
  k INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL NOT NULL, quality INTEGER NOT NULL,
  PRIMARY KEY (k, ts)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS points_1m (
  k INTEGER NOT NULL, minute INTEGER NOT NULL, vsum REAL NOT NULL, n INTEGER NOT NULL, vmin REAL NOT NULL, vmax REAL NOT NULL,
  PRIMARY KEY (k, minute)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
`
const PRUNE_CHUNK = 10_000
const MINUTE = 60_000
/** Rows per multi-row INSERT (4 parameters each; SQLite allows 32,766). */
const ROWS_PER_INSERT = 128

interface Item { s: string; t: number; v: number; q: number }

export interface SqliteTelemetryOptions {
  flushMs?: number
  batchMax?: number
  bufferMax?: number
  logger?: Logger
  clock?: Clock
  onDropped?: (n: number) => void
}

/** Databases written before the integer-key layout: their rows move to the new tables once, at open. */
function migrateTextKeyedLayout(shared: SharedDb, logger: Logger | undefined): void {
  const { db } = shared
  const old = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('readings', 'readings_1m', 'sensors')`).all() as { name: string }[]
  if (!old.length) return
  const has = (n: string): boolean => old.some((x) => x.name === n)
  const t0 = Date.now()
  db.transaction(() => {
    if (has('sensors')) {
      const ids = db.prepare('SELECT sensor_id FROM sensors').pluck().all() as string[]
      let k = (db.prepare('SELECT coalesce(max(k), 0) FROM sensor_keys').pluck().get() as number) + 1
      const put = db.prepare('INSERT OR IGNORE INTO sensor_keys (sensor_id, k) VALUES (?, ?)')
      for (const id of ids) if (put.run(id, k).changes) k++
    }
    if (has('readings')) db.exec(`INSERT OR IGNORE INTO points (k, ts, value, quality) SELECT sk.k, r.ts, r.value, r.quality FROM readings r JOIN sensor_keys sk USING (sensor_id)`)
    // Old aggregates covered every reading, raw or not; only those below the raw boundary are ever read.
    if (has('readings_1m')) {
      db.exec(`INSERT INTO points_1m (k, minute, vsum, n, vmin, vmax) SELECT sk.k, a.minute, a.vsum, a.n, a.vmin, a.vmax FROM readings_1m a JOIN sensor_keys sk USING (sensor_id)
        WHERE a.minute < coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'raw_boundary'), -9007199254740991) ON CONFLICT (k, minute) DO NOTHING`)
    }
    for (const n of ['readings', 'readings_1m', 'sensors']) if (has(n)) db.exec(`DROP TABLE ${n}`)
  })()
  logger?.info({ ms: Date.now() - t0 }, 'telemetry.db: moved history to the integer-key layout')
}

export type SqliteTelemetryStore = TelemetryStore & {
  /** Like write(), for readings handed over as columns (the history worker's input). */
  writeColumns(c: ReadingColumns): void
}

export function createSqliteTelemetryStore(shared: SharedDb, opts: SqliteTelemetryOptions = {}): SqliteTelemetryStore {
  const { db } = shared
  db.exec(SCHEMA)
  const logger = opts.logger
  migrateTextKeyedLayout(shared, logger)
  const h = storeHandle(shared, 'telemetry')
  const clock = opts.clock ?? systemClock()
  const batchMax = Math.max(1, opts.batchMax ?? 2000)
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

  // Sensor keys already in `sensor_keys` (rows are never deleted from it).
  const keys = new Map((shared.stmt('SELECT sensor_id, k FROM sensor_keys').all() as { sensor_id: string; k: number }[]).map((r) => [r.sensor_id, r.k]))
  let nextKey = 1
  for (const k of keys.values()) if (k >= nextKey) nextKey = k + 1
  const insertSql = (rows: number): string => `INSERT OR IGNORE INTO points (k, ts, value, quality) VALUES ${Array.from({ length: rows }, () => '(?,?,?,?)').join(',')}`
  const insertFull = insertSql(ROWS_PER_INSERT) // built once: the statement cache is keyed by the SQL text
  const params: number[] = new Array(ROWS_PER_INSERT * 4)
  let added: [string, number][] = []
  const writeTx = db.transaction((items: Item[]) => {
    const addKey = shared.stmt('INSERT INTO sensor_keys (sensor_id, k) VALUES (?, ?)')
    let n = 0
    const run = (rows: number): void => {
      if (rows === ROWS_PER_INSERT) shared.stmt(insertFull).run(params)
      else shared.stmt(insertSql(rows)).run(params.slice(0, rows * 4))
    }
    for (const it of items) {
      let k = keys.get(it.s)
      if (k === undefined) {
        k = nextKey + added.length
        addKey.run(it.s, k)
        added.push([it.s, k])
        keys.set(it.s, k) // undone below if the transaction fails
      }
      const o = n * 4
      params[o] = k; params[o + 1] = it.t; params[o + 2] = it.v; params[o + 3] = it.q
      if (++n === ROWS_PER_INSERT) { run(n); n = 0 }
    }
    if (n) run(n)
  })
  /** One transaction; the sensor keys it added count only once it committed. */
  const writeChunk = (items: Item[]): void => {
    added = []
    try {
      writeTx(items)
    } catch (err) {
      for (const [s] of added) keys.delete(s)
      throw err
    }
    nextKey += added.length
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

  /** After readings were queued: counts the invalid ones, bounds the buffer, flushes early when full. */
  function taken(bad: number): void {
    if (bad) drop(bad)
    const excess = buffered() - bufferMax
    if (excess > 0) { head += excess; drop(excess); compact() }
    if (buffered() >= batchMax && !flushing && !early) {
      early = true
      setImmediate(() => { early = false; backgroundFlush() })
    }
  }

  function writeColumns(c: ReadingColumns): void {
    if (closing || h.closed) { if (c.n) drop(c.n); return }
    let bad = 0
    for (let i = 0; i < c.n; i++) {
      const s = c.ids[i]
      const t = c.num[2 * i]!
      const v = c.num[2 * i + 1]!
      const q = c.q[i]!
      if (!s || !Number.isFinite(t) || !Number.isFinite(v) || q >= QUALITY_CODES.length) { bad++; continue }
      buf.push({ s, t: Math.trunc(t), v, q })
    }
    taken(bad)
  }

  return {
    write(batch: ReadingBatch) {
      if (Array.isArray(batch?.items) && batch.items.length) writeColumns(toColumns([batch]))
    },
    writeColumns,

    async query(sensorId, from, to, limit) {
      h.check()
      if (typeof sensorId !== 'string' || !Number.isFinite(from) || !Number.isFinite(to) || from > to) return []
      const max = clampLimit(limit, TELEMETRY_LIMIT)
      const out: ReadingPoint[] = []
      const k = keys.get(sensorId)
      if (k === undefined) return out
      if (from < boundary) {
        const rows = shared.stmt(`SELECT minute, vsum / n AS value FROM points_1m
          WHERE k = ? AND minute >= ? AND minute <= ? AND minute < ? ORDER BY minute LIMIT ?`)
          .all(k, Math.ceil(from), Math.floor(to), boundary, max) as { minute: number; value: number }[]
        for (const r of rows) out.push({ ts: r.minute, value: r.value, quality: 'ok' })
      }
      if (out.length < max && to >= boundary) {
        const rows = shared.stmt(`SELECT ts, value, quality FROM points WHERE k = ? AND ts >= ? AND ts <= ? ORDER BY ts LIMIT ?`)
          .all(k, Math.max(Math.ceil(from), boundary), Math.floor(to), max - out.length) as { ts: number; value: number; quality: number }[]
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
      const sensorKeys = [...keys.values()]
      // Raw points leave in chunks, each folded into the 1-minute aggregates (ok points only) in the
      // same transaction as its deletion: a crash between the two cannot count a point twice or lose it.
      const foldAndDelete = db.transaction((k: number, before: number): number => {
        const last = shared.stmt(`SELECT ts FROM points WHERE k = ? AND ts < ? ORDER BY ts LIMIT 1 OFFSET ${PRUNE_CHUNK - 1}`).pluck().get(k, before) as number | undefined
        const upTo = last === undefined ? before : last + 1
        shared.stmt(`INSERT INTO points_1m (k, minute, vsum, n, vmin, vmax)
          SELECT k, ts - (((ts % ${MINUTE}) + ${MINUTE}) % ${MINUTE}) AS m, sum(value), count(*), min(value), max(value)
          FROM points WHERE k = ? AND ts < ? AND quality = 0 GROUP BY m
          ON CONFLICT (k, minute) DO UPDATE SET vsum = vsum + excluded.vsum, n = n + excluded.n,
            vmin = min(vmin, excluded.vmin), vmax = max(vmax, excluded.vmax)`).run(k, upTo)
        return shared.stmt('DELETE FROM points WHERE k = ? AND ts < ?').run(k, upTo).changes
      })
      const delAgg = `DELETE FROM points_1m WHERE k = ? AND minute IN (SELECT minute FROM points_1m WHERE k = ? AND minute < ? ORDER BY minute LIMIT ${PRUNE_CHUNK})`
      let i = 0
      for (const k of sensorKeys) {
        if (Number.isFinite(rawBefore)) {
          for (;;) {
            if (shared.closed) return { raw, agg }
            const c = foldAndDelete(k, rawBefore)
            raw += c
            if (c < PRUNE_CHUNK) break
            await yieldToLoop()
          }
        }
        if (Number.isFinite(aggBefore)) {
          for (;;) {
            if (shared.closed) return { raw, agg }
            const c = shared.stmt(delAgg).run(k, k, aggBefore).changes
            agg += c
            if (c < PRUNE_CHUNK) break
            await yieldToLoop()
          }
        }
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
