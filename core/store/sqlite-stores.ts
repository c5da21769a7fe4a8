// The embedded, durable default: every store in SQLite files under the data directory —
// yujing.db (warnings, registry versions + audit, risk, kv, rejections) and telemetry.db (readings).
// `close()` flushes the buffered stores, then closes both files.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from '../runtime/logger.js'
import type { Clock } from '../runtime/clock.js'
import { AppError } from '../runtime/errors.js'
import type { Stores } from './ports.js'
import { createWorkerTelemetryStore } from './telemetry-worker-host.js'
import { openSharedDb, type SharedDb } from './sqlite-db.js'
import { createSqliteWarningStore } from './sqlite-warning-store.js'
import { startWalCheckpointer, type WalCheckpointer } from './wal-checkpointer.js'
import { createSqliteTelemetryStore } from './sqlite-telemetry-store.js'
import { createSqliteRejectionStore } from './sqlite-rejection-store.js'
import { createSqliteKeyValueStore, createSqliteRegistryStore, createSqliteRiskStore } from './sqlite-small-stores.js'

export interface SqliteStoreOptions {
  dataDir: string
  /** Telemetry (and rejection) buffer flush period; default 200 ms. */
  telemetryFlushMs?: number
  /** Rows per telemetry transaction; default 5,000. */
  telemetryBatchMax?: number
  /** Readings buffered at most; beyond that the oldest are dropped and counted; default 200,000. */
  telemetryBufferMax?: number
  /** Rejections kept (oldest deleted); default 100,000. */
  rejectionsMax?: number
  logger?: Logger
  /** Called with the number of readings dropped (buffer full, bad item, or written after close). */
  onTelemetryDropped?: (n: number) => void
  /** Timers and default audit times; default the system clock. */
  clock?: Clock
  /** `synchronous` of yujing.db: NORMAL (default; survives a process crash) or FULL (also a power loss). */
  synchronous?: 'NORMAL' | 'FULL'
  /** Run the history store (telemetry.db) in a worker thread so its writes never block the event loop. */
  telemetryWorker?: boolean
  /** Checkpoint yujing.db from a worker thread instead of inside commits on the event loop (see wal-checkpointer.ts). */
  walCheckpointWorker?: boolean
}

export async function openSqliteStores(opts: SqliteStoreOptions): Promise<Stores> {
  if (!opts || typeof opts.dataDir !== 'string' || !opts.dataDir) throw new AppError('CONFIG_INVALID', 'openSqliteStores needs a dataDir')
  try { mkdirSync(opts.dataDir, { recursive: true }) } catch (err) {
    throw new AppError('STORE_UNAVAILABLE', `cannot create data directory ${opts.dataDir}: ${(err as Error).message}`, { cause: err })
  }
  const { logger, clock } = opts
  const main: SharedDb = openSharedDb(join(opts.dataDir, 'yujing.db'), { synchronous: opts.synchronous ?? 'NORMAL', ...(logger ? { logger } : {}) })
  let tele: SharedDb | undefined
  let worker: Awaited<ReturnType<typeof createWorkerTelemetryStore>> | undefined
  try {
    if (opts.telemetryWorker) {
      worker = await createWorkerTelemetryStore({
        dataDir: opts.dataDir, flushMs: opts.telemetryFlushMs, batchMax: opts.telemetryBatchMax, bufferMax: opts.telemetryBufferMax,
        ...(logger ? { logger } : {}), ...(opts.onTelemetryDropped ? { onDropped: opts.onTelemetryDropped } : {}),
      })
    } else {
      tele = openSharedDb(join(opts.dataDir, 'telemetry.db'), { synchronous: 'NORMAL', ...(logger ? { logger } : {}) })
    }
  } catch (err) {
    main.retain(); main.release()
    throw err
  }
  // The composite holds one reference to each file, so a single store's close() never closes a file
  // another store still uses.
  let checkpointer: WalCheckpointer | undefined
  if (opts.walCheckpointWorker) {
    try {
      checkpointer = await startWalCheckpointer(main.db, main.file, { synchronous: opts.synchronous ?? 'NORMAL', ...(logger ? { logger } : {}) })
    } catch (err) {
      logger?.warn({ err }, 'WAL checkpoint worker not started; yujing.db checkpoints inside commits')
    }
  }
  main.retain()
  tele?.retain()
  const opt = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T

  const stores = {
    warnings: createSqliteWarningStore(main, logger),
    telemetry: worker ?? createSqliteTelemetryStore(tele!, opt({
      flushMs: opts.telemetryFlushMs, batchMax: opts.telemetryBatchMax, bufferMax: opts.telemetryBufferMax,
      logger, clock, onDropped: opts.onTelemetryDropped,
    })),
    rejections: createSqliteRejectionStore(main, opt({ max: opts.rejectionsMax, flushMs: opts.telemetryFlushMs, logger, clock })),
    registry: createSqliteRegistryStore(main, opt({ clock, logger })),
    risk: createSqliteRiskStore(main, opt({ logger })),
    kv: createSqliteKeyValueStore(main),
  }
  let closing: Promise<void> | null = null
  return {
    ...stores,
    health() {
      if (closing) return { ok: false, detail: 'closed' }
      const a = main.ping()
      const b = worker ? worker.healthy() : tele!.ping()
      if (a.ok && b.ok) return { ok: true, detail: 'sqlite' }
      return { ok: false, detail: [a.detail, b.detail].filter(Boolean).join('; ') }
    },
    close() {
      if (!closing) {
        closing = (async () => {
          for (const s of Object.values(stores)) {
            try { await s.close() } catch (err) { logger?.error({ err }, 'closing a store failed') }
          }
          await checkpointer?.stop()
          main.release()
          tele?.release()
        })()
      }
      return closing
    },
  }
}
