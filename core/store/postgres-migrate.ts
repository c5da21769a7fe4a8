// Versioned schema migrations for the PostgreSQL stores: NNN_name.sql files applied in order, each in its
// own transaction and recorded in schema_migrations; an advisory lock makes concurrent starts safe.
import { readdirSync, readFileSync, existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import type { Logger } from '../runtime/logger.js'
import { AppError } from '../runtime/errors.js'
import { SCHEMA_NAME, type PgDb } from './postgres-db.js'

export interface Migration { version: number; name: string; sql: string }

/** Lock namespace for pg_advisory_lock(int, int): "yj" + "mg". */
const LOCK_NS = 0x796a6d67 | 0

/** The migrations folder: beside this module (sources, tests) or, when compiled to dist/, in the sources. */
export function defaultMigrationsDir(): string {
  const here = fileURLToPath(new URL('./migrations/', import.meta.url))
  if (existsSync(here)) return here
  const fromDist = fileURLToPath(new URL('../../../core/store/migrations/', import.meta.url))
  if (existsSync(fromDist)) return fromDist
  throw new AppError('CONFIG_INVALID', `PostgreSQL migrations not found (looked in ${here} and ${fromDist})`)
}

export function loadMigrations(dir: string = defaultMigrationsDir()): Migration[] {
  const out: Migration[] = []
  for (const f of readdirSync(dir).sort()) {
    const m = /^(\d+)_([\w-]+)\.sql$/.exec(f)
    if (!m) continue
    out.push({ version: Number(m[1]), name: m[2]!, sql: readFileSync(join(dir, f), 'utf8') })
  }
  const seen = new Set<number>()
  for (const m of out) {
    if (seen.has(m.version)) throw new AppError('CONFIG_INVALID', `two PostgreSQL migrations have version ${m.version}`)
    seen.add(m.version)
  }
  return out.sort((a, b) => a.version - b.version)
}

/** Apply the missing migrations; returns the versions applied now (empty when up to date). */
export async function migrate(db: PgDb, migrations: readonly Migration[], logger?: Logger): Promise<number[]> {
  const schema = db.schema
  if (!SCHEMA_NAME.test(schema)) throw new AppError('CONFIG_INVALID', `invalid schema name ${schema}`)
  const client = await db.pool.connect()
  let broken: Error | undefined
  try {
    // Session lock keyed by schema: a second process waits here until the first has finished.
    await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [LOCK_NS, schema])
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
      await client.query(`CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (
        version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
      const done = new Set((await client.query<{ version: number }>(`SELECT version FROM ${schema}.schema_migrations`)).rows.map((r) => r.version))
      const applied: number[] = []
      for (const m of migrations) {
        if (done.has(m.version)) continue
        await client.query('BEGIN')
        try {
          await client.query(`SET LOCAL search_path TO ${schema}`)
          await client.query(m.sql)
          await client.query(`INSERT INTO ${schema}.schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name])
          await client.query('COMMIT')
        } catch (err) {
          await client.query('ROLLBACK').catch((e: Error) => { broken = e })
          throw new AppError('STORE_UNAVAILABLE', `PostgreSQL migration ${m.version}_${m.name} failed: ${(err as Error).message}`, { cause: err })
        }
        applied.push(m.version)
        logger?.info({ schema, version: m.version, name: m.name }, 'PostgreSQL migration applied')
      }
      return applied
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [LOCK_NS, schema]).catch((e: Error) => { broken = e })
    }
  } finally {
    client.release(broken)
  }
}
