// Rejected readings in SQLite: `add` buffers, a timer (and every `list`) writes the buffer in one
// transaction; the table keeps the newest `max` rows, and per-reason totals survive restarts.
import type { Rejection } from '../contracts/reading.js'
import { createRejectionBuffer } from './rejection-buffer.js'
import type { Logger } from '../runtime/logger.js'
import { AppError } from '../runtime/errors.js'
import { systemClock, type Clock, type TimerHandle } from '../runtime/clock.js'
import type { RejectionQuery, RejectionStore } from './ports.js'
import { REJECTION_LIMIT, clampLimit } from './query-rules.js'
import { parseRow, storeHandle, type SharedDb } from './sqlite-db.js'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS rejections (
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, at INTEGER NOT NULL, reason TEXT NOT NULL,
  gateway_id TEXT, enterprise_id TEXT, doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS rejections_at ON rejections (at);
CREATE TABLE IF NOT EXISTS rejection_counts (reason TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
`

export function createSqliteRejectionStore(shared: SharedDb, opts: { max?: number; flushMs?: number; logger?: Logger; clock?: Clock } = {}): RejectionStore {
  shared.db.exec(SCHEMA)
  const h = storeHandle(shared, 'rejection')
  const max = Math.max(1, opts.max ?? 100_000)
  const clock = opts.clock ?? systemClock()
  const logger = opts.logger
  let rows = (shared.stmt('SELECT count(*) AS n FROM rejections').get() as { n: number }).n
  const loaded: Record<string, number> = {}
  for (const r of shared.stmt('SELECT reason, n FROM rejection_counts').all() as { reason: string; n: number }[]) loaded[r.reason] = r.n
  const pending = createRejectionBuffer(max, loaded)
  let closing: Promise<void> | null = null

  const write = shared.db.transaction((items: Rejection[], addCounts: Record<string, number>) => {
    const ins = shared.stmt('INSERT OR IGNORE INTO rejections (id, at, reason, gateway_id, enterprise_id, doc) VALUES (?, ?, ?, ?, ?, ?)')
    for (const r of items) rows += ins.run(r.id, Number.isFinite(r.at) ? Math.trunc(r.at) : 0, String(r.reason), r.gatewayId ?? null, r.enterpriseId ?? null, JSON.stringify(r)).changes
    const cnt = shared.stmt('INSERT INTO rejection_counts (reason, n) VALUES (?, ?) ON CONFLICT (reason) DO UPDATE SET n = n + excluded.n')
    for (const [reason, n] of Object.entries(addCounts)) cnt.run(reason, n)
    if (rows > max) rows -= shared.stmt('DELETE FROM rejections WHERE seq IN (SELECT seq FROM rejections ORDER BY seq LIMIT ?)').run(rows - max).changes
  })

  function flushNow(): void {
    const p = pending.take()
    if (!p) return
    try { write(p.items, p.counts) } catch (err) {
      pending.putBack(p)
      throw new AppError('STORE_UNAVAILABLE', `rejection flush failed: ${(err as Error).message}`, { retriable: true, cause: err })
    }
  }

  const timer: TimerHandle = clock.setInterval(() => {
    if (shared.closed) return
    try { flushNow() } catch (err) { logger?.error({ err }, 'rejection flush failed; will retry') }
  }, Math.max(1, opts.flushMs ?? 200))

  return {
    add(r) {
      if (closing || h.closed) return
      pending.add(r)
    },
    async list(q: RejectionQuery) {
      h.check()
      flushNow()
      const where: string[] = ['1 = 1']
      const params: unknown[] = []
      if (q.gatewayId !== undefined) { where.push('gateway_id = ?'); params.push(q.gatewayId) }
      if (q.enterpriseIds) { where.push('enterprise_id IN (SELECT value FROM json_each(?))'); params.push(JSON.stringify(q.enterpriseIds)) }
      if (q.reason !== undefined) { where.push('reason = ?'); params.push(q.reason) }
      if (q.since !== undefined && Number.isFinite(q.since)) { where.push('at >= ?'); params.push(q.since) }
      params.push(clampLimit(q.limit, REJECTION_LIMIT))
      const found = shared.stmt(`SELECT doc FROM rejections WHERE ${where.join(' AND ')} ORDER BY at DESC, seq DESC LIMIT ?`).all(...params) as { doc: string }[]
      const out: Rejection[] = []
      for (const r of found) { const v = parseRow<Rejection>(r.doc, logger, 'rejection'); if (v) out.push(v) }
      return out
    },
    counts: () => ({ ...pending.totals }),
    async flush() { h.check(); flushNow() },
    close() {
      if (!closing) {
        closing = (async () => {
          clock.clear(timer)
          if (!h.closed) { try { flushNow() } catch (err) { logger?.error({ err }, 'rejection flush at close failed') } }
          h.close()
        })()
      }
      return closing
    },
  }
}
