// Checkpoints a WAL-mode SQLite file from a worker thread, so the connection that writes (on the event
// loop) never does. SQLite's automatic checkpoint runs inside whichever commit crosses 1,000 WAL pages:
// it copies the pages into the database file and fsyncs it, there and then. With warnings changing
// hundreds of times a second (each change dirties a page of the table and of each of its 7 indexes)
// that was every ~100 changes, a third of the cost of a warning write (micro-benchmark: 83 → 56 µs a
// row) and an fsync on the event loop. Here a second connection in a worker runs a PASSIVE checkpoint
// every `intervalMs` (it never blocks the writer); the writer's automatic checkpoint is switched off
// while the worker runs and back on if it fails or stops, so the WAL cannot grow without bound.
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import type { Logger } from '../runtime/logger.js'
import type { Db } from './sqlite-db.js'

export interface WalCheckpointer {
  /** Checkpoints the worker has completed. */
  checkpoints(): number
  /** Stops the worker (the writer checkpoints automatically again). */
  stop(): Promise<void>
}

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.sqlite)
const db = new Database(workerData.file)
db.pragma('busy_timeout = 1000')
db.pragma('synchronous = ' + workerData.synchronous)
const tick = () => {
  try {
    const r = db.pragma('wal_checkpoint(PASSIVE)')[0]
    parentPort.postMessage({ ok: true, busy: r.busy, log: r.log, checkpointed: r.checkpointed })
  } catch (e) {
    parentPort.postMessage({ ok: false, error: String((e && e.message) || e) })
  }
}
const timer = setInterval(tick, workerData.intervalMs)
parentPort.on('message', (m) => {
  if (m !== 'stop') return
  clearInterval(timer)
  try { db.close() } finally { parentPort.postMessage({ stopped: true }); parentPort.close() }
})
parentPort.postMessage({ ready: true })
`

const AUTO_CHECKPOINT_PAGES = 1000

/** Starts the worker for `file` (already open in WAL mode as `db`); resolves once it is ready. */
export async function startWalCheckpointer(db: Db, file: string, opts: { intervalMs?: number; synchronous?: 'NORMAL' | 'FULL'; logger?: Logger } = {}): Promise<WalCheckpointer> {
  const sqlite = createRequire(import.meta.url).resolve('better-sqlite3')
  const worker = new Worker(WORKER, { eval: true, workerData: { file, sqlite, intervalMs: Math.max(10, opts.intervalMs ?? 500), synchronous: opts.synchronous ?? 'NORMAL' } })
  worker.unref()
  let done = 0
  let failures = 0
  let stopping = false
  const fallBack = (why: string, err?: unknown): void => {
    try { db.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`) } catch { /* the database is closed */ }
    if (!stopping) opts.logger?.warn({ file, why, err }, 'WAL checkpoint worker stopped; the writer checkpoints again')
  }
  await new Promise<void>((resolve, reject) => {
    const onError = (err: unknown): void => { reject(err) }
    worker.once('error', onError)
    worker.once('message', () => { worker.off('error', onError); resolve() })
  })
  db.pragma('wal_autocheckpoint = 0')
  const exited = new Promise<void>((resolve) => worker.once('exit', () => { fallBack('exit'); resolve() }))
  worker.on('error', (err) => fallBack('error', err))
  worker.on('message', (m: { ok?: boolean; error?: string; busy?: number }) => {
    if (m.ok) { done++; failures = 0 }
    else if (m.ok === false && ++failures % 20 === 1) opts.logger?.warn({ file, err: m.error, failures }, 'WAL checkpoint failed; retrying')
  })
  return {
    checkpoints: () => done,
    async stop() {
      if (stopping) return exited
      stopping = true
      worker.postMessage('stop')
      const t = setTimeout(() => { void worker.terminate() }, 2000)
      await exited
      clearTimeout(t)
    },
  }
}
