// The scale-out stores on PostgreSQL (warnings, registry + audit, rejections, risk, kv) with readings
// history injected (InfluxDB or SQLite). Migrations run before any store is used; close() flushes, then ends the pool.
import type { Logger } from '../runtime/logger.js'
import type { Clock } from '../runtime/clock.js'
import type { Stores, TelemetryStore } from './ports.js'
import { createPgDb, pgError } from './postgres-db.js'
import { loadMigrations, migrate } from './postgres-migrate.js'
import { createPgWarningStore } from './postgres-warning-store.js'
import { createPgRejectionStore } from './postgres-rejection-store.js'
import { createPgKeyValueStore, createPgRegistryStore, createPgRiskStore } from './postgres-small-stores.js'

export interface PostgresStoreOptions {
  /** e.g. postgres://user@host:5432/db */
  url: string
  /** Schema holding the tables (created if missing); default 'yujing'. Lower-case letters, digits, _. */
  schema?: string
  /** Readings history (InfluxDB or SQLite); closed by close(). */
  telemetry: TelemetryStore
  /** Rejections kept (oldest deleted); default 100,000. */
  rejectionsMax?: number
  /** Rejection buffer flush period; default 200 ms. */
  rejectionsFlushMs?: number
  /** Pool size; default 10. */
  maxConnections?: number
  /** Background ping period feeding health(); default 5,000 ms. */
  healthIntervalMs?: number
  /** Folder of NNN_name.sql migrations; default core/store/migrations. */
  migrationsDir?: string
  logger?: Logger
  clock?: Clock
}

export async function openPostgresStores(opts: PostgresStoreOptions): Promise<Stores> {
  const { logger, clock } = opts
  const db = createPgDb({
    url: opts.url,
    ...(opts.schema !== undefined ? { schema: opts.schema } : {}),
    ...(opts.maxConnections !== undefined ? { maxConnections: opts.maxConnections } : {}),
    ...(opts.healthIntervalMs !== undefined ? { healthIntervalMs: opts.healthIntervalMs } : {}),
    ...(logger ? { logger } : {}),
    ...(clock ? { clock } : {}),
  })
  let rejections
  try {
    await migrate(db, loadMigrations(opts.migrationsDir), logger)
    rejections = await createPgRejectionStore(db, {
      ...(opts.rejectionsMax !== undefined ? { max: opts.rejectionsMax } : {}),
      ...(opts.rejectionsFlushMs !== undefined ? { flushMs: opts.rejectionsFlushMs } : {}),
      ...(logger ? { logger } : {}), ...(clock ? { clock } : {}),
    })
  } catch (err) {
    await db.close()
    throw pgError(err, `cannot open PostgreSQL stores (schema ${db.schema})`)
  }
  const stores = {
    warnings: createPgWarningStore(db, logger),
    telemetry: opts.telemetry,
    rejections,
    registry: createPgRegistryStore(db, { ...(clock ? { clock } : {}), ...(logger ? { logger } : {}) }),
    risk: createPgRiskStore(db),
    kv: createPgKeyValueStore(db),
  }
  let closing: Promise<void> | null = null
  return {
    ...stores,
    health() {
      if (closing) return { ok: false, detail: 'closed' }
      return db.health()
    },
    close() {
      if (!closing) {
        closing = (async () => {
          for (const s of Object.values(stores)) {
            try { await s.close() } catch (err) { logger?.error({ err }, 'closing a store failed') }
          }
          await db.close()
        })()
      }
      return closing
    },
  }
}
