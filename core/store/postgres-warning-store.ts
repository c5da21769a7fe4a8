// Warnings in PostgreSQL: the JSONB document plus indexed columns for the list filters and order (the
// same semantics as the SQLite adapter). Every write is one statement that has committed when it resolves.
import type { Warning } from '../contracts/warning.js'
import type { Logger } from '../runtime/logger.js'
import { AppError } from '../runtime/errors.js'
import type { WarningQuery, WarningStore } from './ports.js'
import { WARNING_LIMIT, clampLimit, isoMs } from './query-rules.js'
import { col, pgError, pgHandle, type PgDb } from './postgres-db.js'

/** Rows per upsert statement (arrays bound as parameters). */
const CHUNK = 2000

const UPSERT = `INSERT INTO warnings (id, dedup_key, status, level, region_id, enterprise_id, sensor_id, raised_at, updated_at, closed_at, doc)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::smallint[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::bigint[], $11::jsonb[])
ON CONFLICT (id) DO UPDATE SET dedup_key = excluded.dedup_key, status = excluded.status, level = excluded.level,
  region_id = excluded.region_id, enterprise_id = excluded.enterprise_id, sensor_id = excluded.sensor_id,
  raised_at = excluded.raised_at, updated_at = excluded.updated_at, closed_at = excluded.closed_at, doc = excluded.doc`

const ORDER = 'ORDER BY level ASC, raised_at DESC, id ASC'

function columns(ws: readonly Warning[]): unknown[][] {
  const cols: unknown[][] = Array.from({ length: 11 }, () => [])
  // One row per id (the last given wins): ON CONFLICT cannot touch a row twice in one statement.
  const byId = new Map<string, Warning>()
  for (const w of ws) {
    if (!w || typeof w.id !== 'string' || !w.id || typeof w.dedupKey !== 'string') throw new AppError('BAD_REQUEST', 'warning without id or dedupKey')
    byId.delete(w.id)
    byId.set(w.id, w)
  }
  for (const w of byId.values()) {
    const level = Number.isInteger(w.level) ? w.level : 4
    const vals = [col(w.id), col(w.dedupKey), col(w.status), level, col(w.regionId) ?? '', col(w.enterpriseId) ?? '', col(w.sensorId),
      isoMs(w.raisedAt), isoMs(w.updatedAt), w.closedAt === undefined ? null : isoMs(w.closedAt), JSON.stringify(w)]
    vals.forEach((v, i) => cols[i]!.push(v))
  }
  return cols
}

export function createPgWarningStore(db: PgDb, logger?: Logger): WarningStore {
  const h = pgHandle(db, 'warning')
  const docs = (rows: { doc: Warning }[]): Warning[] => rows.map((r) => r.doc)
  const write = async (ws: readonly Warning[]): Promise<void> => {
    h.check()
    if (!ws.length) return
    const cols = columns(ws)
    const n = cols[0]!.length
    try {
      if (n <= CHUNK) { await db.query(UPSERT, cols); return }
      await db.tx(async (c) => {
        for (let i = 0; i < n; i += CHUNK) await c.query(UPSERT, cols.map((a) => a.slice(i, i + CHUNK)))
      })
    } catch (err) {
      logger?.error({ err, count: n }, 'warning upsert failed')
      throw pgError(err, 'warning upsert failed')
    }
  }
  const read = async <R extends object>(sql: string, params: unknown[]): Promise<R[]> => {
    h.check()
    try { return (await db.query(sql, params)).rows as R[] } catch (err) { throw pgError(err, 'warning query failed') }
  }

  return {
    upsert: (w) => write([w]),
    upsertMany: (ws) => write(ws),
    async get(id) {
      return docs(await read<{ doc: Warning }>('SELECT doc FROM warnings WHERE id = $1', [String(id)]))[0]
    },
    async list(q: WarningQuery) {
      const where: string[] = []
      const params: unknown[] = []
      const p = (v: unknown): string => { params.push(v); return `$${params.length}` }
      if (q.status) where.push(`status = ANY(${p(q.status.map(String))}::text[])`)
      else where.push(`status <> 'closed'`)
      if (q.level) where.push(`level = ANY(${p(q.level.filter((l) => Number.isInteger(l)))}::smallint[])`)
      if (q.regionIds) where.push(`region_id = ANY(${p(q.regionIds.map((s) => col(s)))}::text[])`)
      if (q.enterpriseIds) where.push(`enterprise_id = ANY(${p(q.enterpriseIds.map((s) => col(s)))}::text[])`)
      if (q.sensorId !== undefined) where.push(`sensor_id = ${p(col(q.sensorId))}`)
      if (q.since !== undefined && Number.isFinite(q.since)) where.push(`updated_at >= ${p(Math.ceil(q.since))}`)
      const limit = p(clampLimit(q.limit, WARNING_LIMIT))
      return docs(await read<{ doc: Warning }>(`SELECT doc FROM warnings WHERE ${where.join(' AND ')} ${ORDER} LIMIT ${limit}`, params))
    },
    async notClosed() {
      return docs(await read<{ doc: Warning }>(`SELECT doc FROM warnings WHERE status <> 'closed' ${ORDER}`, []))
    },
    async episodes(dedupKey) {
      const rows = await read<{ n: string }>('SELECT count(*) AS n FROM warnings WHERE dedup_key = $1', [col(dedupKey)])
      return Number(rows[0]?.n ?? 0)
    },
    async lastClosed(dedupKey) {
      return docs(await read<{ doc: Warning }>(`SELECT doc FROM warnings WHERE dedup_key = $1 AND status = 'closed'
        ORDER BY coalesce(closed_at, updated_at) DESC, raised_at DESC LIMIT 1`, [col(dedupKey)]))[0]
    },
    async close() { h.close() },
  }
}
