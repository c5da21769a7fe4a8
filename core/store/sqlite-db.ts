// Opens one SQLite database file the way every embedded store wants it (WAL, busy_timeout, prepared
// statements cached by SQL text) and shares it among stores: the file closes when its last user releases it.
import Database from 'better-sqlite3'
import type { Logger } from '../runtime/logger.js'
import { AppError } from '../runtime/errors.js'

export type Db = Database.Database
export type Stmt = Database.Statement

export interface SharedDb {
  readonly db: Db
  readonly file: string
  /** A prepared statement for this SQL, prepared once. */
  stmt(sql: string): Stmt
  /** Take one more reference; `release()` it when done. */
  retain(): void
  release(): void
  readonly closed: boolean
  /** Run a trivial query; false when the file is not usable. */
  ping(): { ok: boolean; detail?: string }
}

export function openSharedDb(file: string, opts: { synchronous?: 'NORMAL' | 'FULL'; logger?: Logger } = {}): SharedDb {
  let db: Db
  try {
    db = new Database(file)
    db.pragma('journal_mode = WAL')
    db.pragma(`synchronous = ${opts.synchronous ?? 'NORMAL'}`)
    db.pragma('busy_timeout = 5000')
    db.pragma('foreign_keys = ON')
  } catch (err) {
    throw new AppError('STORE_UNAVAILABLE', `cannot open SQLite database ${file}: ${(err as Error).message}`, { cause: err })
  }
  const cache = new Map<string, Stmt>()
  let refs = 0
  let closed = false
  const shared: SharedDb = {
    db,
    file,
    stmt(sql) {
      if (closed) throw new AppError('STORE_UNAVAILABLE', `database ${file} is closed`)
      let s = cache.get(sql)
      if (!s) { s = db.prepare(sql); cache.set(sql, s) }
      return s
    },
    retain() { refs++ },
    release() {
      if (closed) return
      if (--refs > 0) return
      closed = true
      cache.clear()
      try { db.pragma('wal_checkpoint(TRUNCATE)') } catch (err) { opts.logger?.warn({ err, file }, 'WAL checkpoint at close failed') }
      db.close()
    },
    get closed() { return closed },
    ping() {
      if (closed) return { ok: false, detail: `${file} closed` }
      try { db.prepare('SELECT 1').get(); return { ok: true } } catch (err) { return { ok: false, detail: `${file}: ${(err as Error).message}` } }
    },
  }
  return shared
}

/** A store's handle on a shared database: `close()` releases it once, later use is a clear error. */
export function storeHandle(shared: SharedDb, what: string): { check(): void; close(): void; readonly closed: boolean } {
  shared.retain()
  let closed = false
  return {
    check() { if (closed || shared.closed) throw new AppError('STORE_UNAVAILABLE', `${what} store is closed`) },
    close() { if (!closed) { closed = true; shared.release() } },
    get closed() { return closed || shared.closed },
  }
}

/** Parse a stored JSON document; a corrupt row is logged and skipped, never thrown. */
export function parseRow<T>(json: string, logger: Logger | undefined, what: string): T | undefined {
  try { return JSON.parse(json) as T } catch (err) { logger?.error({ err, what }, 'corrupt row skipped'); return undefined }
}

export const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r))
