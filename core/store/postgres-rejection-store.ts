// Rejected readings in PostgreSQL: `add` buffers; a timer (and every list/flush) writes the buffer as one
// batched INSERT in a transaction that also bumps per-reason totals and deletes the oldest beyond `max`.
import type { Rejection } from '../contracts/reading.js'
import { createRejectionBuffer } from './rejection-buffer.js'
import type { Logger } from '../runtime/logger.js'
import { systemClock, type Clock, type TimerHandle } from '../runtime/clock.js'
import type { RejectionQuery, RejectionStore } from './ports.js'
import { REJECTION_LIMIT, clampLimit } from './query-rules.js'
import { col, pgError, pgHandle, type PgDb } from './postgres-db.js'

export interface PgRejectionStoreOptions { max?: number; flushMs?: number; logger?: Logger; clock?: Clock }

const INSERT = `INSERT INTO rejections (id, at, reason, gateway_id, enterprise_id, doc)
SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[]) ON CONFLICT (id) DO NOTHING`
const COUNTS = `INSERT INTO rejection_counts (reason, n) SELECT * FROM unnest($1::text[], $2::bigint[])
ON CONFLICT (reason) DO UPDATE SET n = rejection_counts.n + excluded.n`
const PRUNE = `DELETE FROM rejections WHERE seq <= (SELECT seq FROM rejections ORDER BY seq DESC OFFSET $1 LIMIT 1)`

export async function createPgRejectionStore(db: PgDb, opts: PgRejectionStoreOptions = {}): Promise<RejectionStore> {
  const h = pgHandle(db, 'rejection')
  const max = Math.max(1, Math.floor(opts.max ?? 100_000))
  const clock = opts.clock ?? systemClock()
  const logger = opts.logger
  const loaded: Record<string, number> = {}
  let rows: number
  try {
    for (const r of (await db.query<{ reason: string; n: string }>('SELECT reason, n FROM rejection_counts')).rows) loaded[r.reason] = Number(r.n)
    rows = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM rejections')).rows[0]?.n ?? 0)
  } catch (err) { throw pgError(err, 'opening the rejection store failed') }
  const pending = createRejectionBuffer(max, loaded)
  let chain: Promise<void> = Promise.resolve()
  let closing: Promise<void> | null = null

  async function writeOnce(): Promise<void> {
    const p = pending.take()
    if (!p) return
    const { items, counts: add } = p
    try {
      await db.tx(async (c) => {
        if (items.length) {
          const cols: unknown[][] = [[], [], [], [], [], []]
          for (const r of items) {
            const vals = [col(r.id), Number.isFinite(r.at) ? Math.trunc(r.at) : 0, col(String(r.reason)), col(r.gatewayId), col(r.enterpriseId), JSON.stringify(r)]
            vals.forEach((v, i) => cols[i]!.push(v))
          }
          rows += (await c.query(INSERT, cols)).rowCount ?? 0
        }
        const reasons = Object.keys(add)
        if (reasons.length) await c.query(COUNTS, [reasons.map((x) => col(x)), reasons.map((x) => add[x])])
        // `rows` is this process's estimate; the DELETE itself is exact (keeps the newest `max`).
        if (rows > max) { await c.query(PRUNE, [max]); rows = max }
      })
    } catch (err) {
      // Put them back (oldest first) for the next attempt, still bounded.
      pending.putBack(p)
      throw pgError(err, 'rejection flush failed')
    }
  }
  /** Flushes run one at a time, in order. */
  const flushNow = (): Promise<void> => {
    const next = chain.then(writeOnce)
    chain = next.catch(() => undefined)
    return next
  }

  const timer: TimerHandle = clock.setInterval(() => {
    if (h.closed || pending.isEmpty()) return
    flushNow().catch((err: unknown) => logger?.error({ err }, 'rejection flush failed; will retry'))
  }, Math.max(1, opts.flushMs ?? 200))

  return {
    add(r) {
      if (closing || h.closed) return
      pending.add(r)
    },
    async list(q: RejectionQuery) {
      h.check()
      await flushNow()
      const where: string[] = ['TRUE']
      const params: unknown[] = []
      const p = (v: unknown): string => { params.push(v); return `$${params.length}` }
      if (q.gatewayId !== undefined) where.push(`gateway_id = ${p(col(q.gatewayId))}`)
      if (q.enterpriseIds) where.push(`enterprise_id = ANY(${p(q.enterpriseIds.map((s) => col(s)))}::text[])`)
      if (q.reason !== undefined) where.push(`reason = ${p(col(q.reason))}`)
      if (q.since !== undefined && Number.isFinite(q.since)) where.push(`at >= ${p(Math.ceil(q.since))}`)
      const limit = p(clampLimit(q.limit, REJECTION_LIMIT))
      try {
        const found = await db.query<{ doc: string }>(`SELECT doc FROM rejections WHERE ${where.join(' AND ')} ORDER BY at DESC, seq DESC LIMIT ${limit}`, params)
        const out: Rejection[] = []
        for (const r of found.rows) {
          try { out.push(JSON.parse(r.doc) as Rejection) } catch (err) { logger?.error({ err }, 'corrupt rejection row skipped') }
        }
        return out
      } catch (err) { throw pgError(err, 'rejection query failed') }
    },
    counts: () => ({ ...pending.totals }),
    async flush() { h.check(); await flushNow() },
    close() {
      if (!closing) {
        closing = (async () => {
          clock.clear(timer)
          if (!h.closed) { try { await flushNow() } catch (err) { logger?.error({ err }, 'rejection flush at close failed') } }
          h.close()
        })()
      }
      return closing
    },
  }
}
