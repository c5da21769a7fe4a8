// Warnings in SQLite: the JSON document plus indexed columns for the list filters and order. Writes are
// group-committed: the upserts made while the current callback and the promise chains it started run go
// into one transaction, committed right after them (process.nextTick: nothing waits for another
// event-loop turn, which under load is milliseconds, per finding, where a consumer handles one partition's
// findings one at a time); each promise resolves once its transaction has committed (rejects, all of them,
// when it failed). A commit costs far more than a row (WAL frames for the table and its seven indexes):
// one transaction per warning change was 13 % of the event loop in a batch flood at 750 changes/s.
// A read commits what is queued first when that could change its answer (get: that id; episodes and
// lastClosed: that dedup key; lists: anything), so a read always sees every upsert made before it.
import type { Warning } from '../contracts/warning.js'
import type { Logger } from '../runtime/logger.js'
import { AppError } from '../runtime/errors.js'
import type { WarningQuery, WarningStore } from './ports.js'
import { WARNING_LIMIT, clampLimit, isoMs } from './query-rules.js'
import { parseRow, storeHandle, type SharedDb } from './sqlite-db.js'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS warnings (
  id TEXT PRIMARY KEY,
  dedup_key TEXT NOT NULL,
  status TEXT NOT NULL,
  level INTEGER NOT NULL,
  region_id TEXT NOT NULL,
  enterprise_id TEXT NOT NULL,
  sensor_id TEXT,
  raised_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  closed_at INTEGER,
  doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS warnings_open_order ON warnings (level, raised_at DESC) WHERE status <> 'closed';
CREATE INDEX IF NOT EXISTS warnings_status_order ON warnings (status, level, raised_at DESC);
CREATE INDEX IF NOT EXISTS warnings_dedup ON warnings (dedup_key, status, closed_at);
CREATE INDEX IF NOT EXISTS warnings_region ON warnings (region_id, status);
CREATE INDEX IF NOT EXISTS warnings_enterprise ON warnings (enterprise_id, status);
CREATE INDEX IF NOT EXISTS warnings_sensor ON warnings (sensor_id) WHERE sensor_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS warnings_updated ON warnings (updated_at);
`

const UPSERT = `INSERT INTO warnings (id, dedup_key, status, level, region_id, enterprise_id, sensor_id, raised_at, updated_at, closed_at, doc)
VALUES (@id, @dedupKey, @status, @level, @regionId, @enterpriseId, @sensorId, @raisedAt, @updatedAt, @closedAt, @doc)
ON CONFLICT (id) DO UPDATE SET dedup_key = excluded.dedup_key, status = excluded.status, level = excluded.level,
  region_id = excluded.region_id, enterprise_id = excluded.enterprise_id, sensor_id = excluded.sensor_id,
  raised_at = excluded.raised_at, updated_at = excluded.updated_at, closed_at = excluded.closed_at, doc = excluded.doc`

function row(w: Warning): Record<string, unknown> {
  if (!w || typeof w.id !== 'string' || !w.id || typeof w.dedupKey !== 'string') throw new AppError('BAD_REQUEST', 'warning without id or dedupKey')
  return {
    id: w.id, dedupKey: w.dedupKey, status: w.status, level: w.level, regionId: w.regionId, enterpriseId: w.enterpriseId,
    sensorId: w.sensorId ?? null, raisedAt: isoMs(w.raisedAt), updatedAt: isoMs(w.updatedAt),
    closedAt: w.closedAt === undefined ? null : isoMs(w.closedAt), doc: JSON.stringify(w),
  }
}

/** The SQLite warning store, with the number of transactions it committed (for tests and metrics). */
export interface SqliteWarningStore extends WarningStore { transactions(): number }

export function createSqliteWarningStore(shared: SharedDb, logger?: Logger): SqliteWarningStore {
  shared.db.exec(SCHEMA)
  const h = storeHandle(shared, 'warning')
  let transactions = 0
  const upsertAll = shared.db.transaction((rows: Iterable<Record<string, unknown>>) => { for (const r of rows) shared.stmt(UPSERT).run(r) })

  /** Rows waiting for the next commit, by warning id (a later version replaces an earlier one). */
  let queued = new Map<string, Record<string, unknown>>()
  let group: { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } | null = null
  let scheduled = false
  function commitQueued(): void {
    scheduled = false
    const g = group
    if (!g) return
    const rows = queued
    queued = new Map()
    group = null
    try {
      h.check()
      upsertAll(rows.values())
      transactions++
      g.resolve()
    } catch (err) {
      g.reject(err)
    }
  }
  /** Commits what is queued now (before a read, and at close); a failure is reported to the upserts' callers. */
  function commitNow(): void { if (group) commitQueued() }
  /** Before a read of one dedup key: commits only if a row of that key is queued (alerting looks up a
   *  key's episodes while other keys' changes wait for their commit). */
  function commitKey(dedupKey: string): void {
    if (!group) return
    for (const r of queued.values()) if (r.dedupKey === dedupKey) { commitQueued(); return }
  }
  function enqueue(rows: readonly Record<string, unknown>[]): Promise<void> {
    if (!rows.length) return Promise.resolve()
    for (const r of rows) queued.set(r.id as string, r)
    if (!group) {
      let resolve!: () => void
      let reject!: (e: unknown) => void
      const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej })
      group = { promise, resolve, reject }
    }
    if (!scheduled) { scheduled = true; process.nextTick(commitQueued) }
    return group.promise
  }
  const docs = (rows: unknown[]): Warning[] => {
    const out: Warning[] = []
    for (const r of rows as { doc: string }[]) { const w = parseRow<Warning>(r.doc, logger, 'warning'); if (w) out.push(w) }
    return out
  }

  return {
    transactions: () => transactions,
    async upsert(w) { h.check(); return enqueue([row(w)]) },
    async upsertMany(ws) { h.check(); return enqueue(ws.map(row)) },
    async get(id) {
      h.check()
      if (queued.has(id)) commitNow()
      const r = shared.stmt('SELECT doc FROM warnings WHERE id = ?').get(id) as { doc: string } | undefined
      return r ? parseRow<Warning>(r.doc, logger, 'warning') : undefined
    },
    async list(q: WarningQuery) {
      h.check()
      commitNow()
      const where: string[] = []
      const params: unknown[] = []
      const inList = (col: string, values: readonly unknown[]): void => { where.push(`${col} IN (SELECT value FROM json_each(?))`); params.push(JSON.stringify(values)) }
      if (q.status) inList('status', q.status)
      else where.push(`status <> 'closed'`)
      if (q.level) inList('level', q.level)
      if (q.regionIds) inList('region_id', q.regionIds)
      if (q.enterpriseIds) inList('enterprise_id', q.enterpriseIds)
      if (q.sensorId !== undefined) { where.push('sensor_id = ?'); params.push(q.sensorId) }
      if (q.since !== undefined && Number.isFinite(q.since)) { where.push('updated_at >= ?'); params.push(Math.floor(q.since)) }
      params.push(clampLimit(q.limit, WARNING_LIMIT))
      const sql = `SELECT doc FROM warnings WHERE ${where.join(' AND ')} ORDER BY level ASC, raised_at DESC, id ASC LIMIT ?`
      return docs(shared.stmt(sql).all(...params))
    },
    async notClosed() {
      h.check()
      commitNow()
      return docs(shared.stmt(`SELECT doc FROM warnings WHERE status <> 'closed' ORDER BY level ASC, raised_at DESC, id ASC`).all())
    },
    async episodes(dedupKey) {
      h.check()
      commitKey(dedupKey)
      return (shared.stmt('SELECT count(*) AS n FROM warnings WHERE dedup_key = ?').get(dedupKey) as { n: number }).n
    },
    async lastClosed(dedupKey) {
      h.check()
      commitKey(dedupKey)
      const r = shared.stmt(`SELECT doc FROM warnings WHERE dedup_key = ? AND status = 'closed'
        ORDER BY coalesce(closed_at, updated_at) DESC, raised_at DESC LIMIT 1`).get(dedupKey) as { doc: string } | undefined
      return r ? parseRow<Warning>(r.doc, logger, 'warning') : undefined
    },
    async close() {
      if (!h.closed) commitNow()
      h.close()
    },
  }
}
