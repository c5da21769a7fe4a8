// One pg Pool per schema, shared by the PostgreSQL stores: every connection's search_path is the schema,
// every query is parameterized, and health() reports whether the last query (or ping) reached the server.
import pg from 'pg'
import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg'
import type { Logger } from '../runtime/logger.js'
import { AppError } from '../runtime/errors.js'
import { systemClock, type Clock, type TimerHandle } from '../runtime/clock.js'

/** A safe, unquoted SQL identifier for a schema name (it is interpolated, so it is checked strictly). */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

export interface PgDbOptions {
  url: string
  /** Schema holding every table; default 'yujing'. */
  schema?: string
  /** Pool size; default 10. */
  maxConnections?: number
  /** Background ping period for health(); default 5,000 ms (0 = never). */
  healthIntervalMs?: number
  /** Per-statement limit on the server; default 30,000 ms. */
  statementTimeoutMs?: number
  logger?: Logger
  clock?: Clock
}

export interface PgDb {
  readonly pool: Pool
  readonly schema: string
  readonly closed: boolean
  query<R extends QueryResultRow = QueryResultRow>(sql: string, params?: unknown[]): Promise<QueryResult<R>>
  /** Run `fn` in one transaction (BEGIN … COMMIT, ROLLBACK on error). */
  tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T>
  health(): { ok: boolean; detail?: string }
  close(): Promise<void>
}

/** A pg error as an AppError: bad data is BAD_REQUEST, anything else STORE_UNAVAILABLE (retriable). */
export function pgError(err: unknown, what: string): AppError {
  if (err instanceof AppError) return err
  const code = (err as { code?: unknown })?.code
  const msg = `${what}: ${(err as Error)?.message ?? String(err)}`
  if (typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'))) return new AppError('BAD_REQUEST', msg, { cause: err })
  return new AppError('STORE_UNAVAILABLE', msg, { retriable: true, cause: err })
}

/** Whether an error says the server answered (so the connection is healthy even though the query failed). */
function serverAnswered(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code
  return typeof code === 'string' && /^(22|23|42|P0)/.test(code)
}

export function createPgDb(opts: PgDbOptions): PgDb {
  if (!opts || typeof opts.url !== 'string' || !opts.url) throw new AppError('CONFIG_INVALID', 'PostgreSQL store needs a url')
  const schema = opts.schema ?? 'yujing'
  if (!SCHEMA_NAME.test(schema)) throw new AppError('CONFIG_INVALID', `invalid PostgreSQL schema name ${JSON.stringify(schema)} (lower-case letters, digits, _)`)
  const clock = opts.clock ?? systemClock()
  const logger = opts.logger
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.maxConnections ?? 10,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    statement_timeout: opts.statementTimeoutMs ?? 30_000,
    application_name: 'yujing',
    options: `-c search_path=${schema}`,
  })
  let state: { ok: boolean; detail?: string } = { ok: true, detail: `postgres ${schema}` }
  let closed = false
  let closing: Promise<void> | null = null
  const note = (err: unknown | null): void => {
    if (err === null || serverAnswered(err)) state = { ok: true, detail: `postgres ${schema}` }
    else state = { ok: false, detail: `postgres: ${(err as Error)?.message ?? String(err)}` }
  }
  // An idle client losing its connection must not crash the process: it marks the store unhealthy.
  pool.on('error', (err) => { note(err); logger?.warn({ err }, 'idle PostgreSQL connection failed') })

  let timer: TimerHandle | null = null
  const interval = opts.healthIntervalMs ?? 5_000
  if (interval > 0) {
    timer = clock.setInterval(() => {
      if (closed) return
      pool.query('SELECT 1').then(() => note(null), (err: unknown) => note(err))
    }, interval)
  }

  const db: PgDb = {
    pool,
    schema,
    get closed() { return closed },
    async query<R extends QueryResultRow = QueryResultRow>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
      if (closed) throw new AppError('STORE_UNAVAILABLE', 'PostgreSQL store is closed')
      try {
        const r = await pool.query<R>(sql, params as unknown[] | undefined)
        note(null)
        return r
      } catch (err) { note(err); throw err }
    },
    async tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
      if (closed) throw new AppError('STORE_UNAVAILABLE', 'PostgreSQL store is closed')
      let client: PoolClient
      try { client = await pool.connect() } catch (err) { note(err); throw err }
      try {
        await client.query('BEGIN')
        const out = await fn(client)
        await client.query('COMMIT')
        note(null)
        client.release()
        return out
      } catch (err) {
        note(err)
        let broken: unknown = undefined
        try { await client.query('ROLLBACK') } catch (e) { broken = e }
        // A connection that cannot roll back is destroyed rather than returned to the pool.
        client.release(broken instanceof Error ? broken : undefined)
        throw err
      }
    },
    health() { return closed ? { ok: false, detail: 'closed' } : { ...state } },
    close() {
      if (!closing) {
        closed = true
        if (timer) clock.clear(timer)
        closing = pool.end().catch((err: unknown) => { logger?.warn({ err }, 'closing the PostgreSQL pool failed') })
      }
      return closing
    },
  }
  return db
}

/** A store's view of the shared pool: close() only marks this store closed; later use is a clear error. */
export function pgHandle(db: PgDb, what: string): { check(): void; close(): void; readonly closed: boolean } {
  let closed = false
  return {
    check() { if (closed || db.closed) throw new AppError('STORE_UNAVAILABLE', `${what} store is closed`) },
    close() { closed = true },
    get closed() { return closed || db.closed },
  }
}

/** Text for an indexed column: PostgreSQL text cannot hold NUL, so it is removed (the JSON doc keeps it). */
export const col = (s: string | undefined | null): string | null => (s === undefined || s === null ? null : String(s).replace(/\u0000/g, ''))
