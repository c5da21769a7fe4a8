// The SQLite history store behind a worker thread (see telemetry-worker.ts): `write` only queues, and
// the queued batches are posted to the worker together every `handOverMs` (sooner once
// `handOverReadings` wait), so the pipeline never waits for SQLite and a trickle of single readings
// from thousands of gateways is not a message (a structured clone and a thread wake-up) per reading; the
// queue is bounded (oldest dropped and counted). The other calls are requests to the worker.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { ReadingBatch } from '../contracts/reading.js'
import { AppError } from '../runtime/errors.js'
import type { Logger } from '../runtime/logger.js'
import type { ReadingPoint, TelemetryStore } from './ports.js'
import { toColumns } from './reading-columns.js'
import type { WorkerRequest } from './telemetry-worker.js'

export interface WorkerTelemetryOptions {
  dataDir: string
  flushMs?: number
  batchMax?: number
  /** Readings queued here and in the worker at most; beyond, the oldest are dropped and counted. */
  bufferMax?: number
  /** Readings posted to the worker and not yet taken by it, at most (default 20,000). */
  maxInTransit?: number
  /** How long written readings may wait here to be posted to the worker together; default 20 ms (the
   *  worker writes to SQLite every `flushMs` anyway), 0 = every event-loop turn. */
  handOverMs?: number
  /** Readings waiting here at which they are posted at once (default 2,000). */
  handOverReadings?: number
  logger?: Logger
  onDropped?: (n: number) => void
}

/** The compiled worker: beside this module, or (when this module runs from TypeScript sources in
 * tests) in dist/ after `npm run build`. */
function workerFile(): string {
  const here = fileURLToPath(new URL('./telemetry-worker.js', import.meta.url))
  if (existsSync(here)) return here
  const built = fileURLToPath(new URL('../../dist/core/store/telemetry-worker.js', import.meta.url))
  if (existsSync(built)) return built
  throw new AppError('STORE_UNAVAILABLE', 'telemetry worker not built (run `npm run build`)')
}

export type WorkerTelemetryStore = TelemetryStore & {
  ping(): Promise<{ ok: boolean; detail?: string }>
  healthy(): { ok: boolean; detail?: string }
  /** 'write' messages posted to the worker so far (for metrics and tests). */
  handOvers(): number
}

export async function createWorkerTelemetryStore(opts: WorkerTelemetryOptions): Promise<WorkerTelemetryStore> {
  const bufferMax = Math.max(1, opts.bufferMax ?? 200_000)
  const worker = new Worker(workerFile(), {
    workerData: { dataDir: opts.dataDir, flushMs: opts.flushMs, batchMax: opts.batchMax, bufferMax },
  })
  let queue: ReadingBatch[] = []
  let queued = 0
  let scheduled = false
  let handOverTimer: ReturnType<typeof setTimeout> | undefined
  let handOvers = 0
  const handOverMs = Math.max(0, opts.handOverMs ?? 20)
  const handOverReadings = Math.max(1, opts.handOverReadings ?? 2000)
  let droppedHere = 0
  let remote = { buffered: 0, written: 0, dropped: 0 }
  let failed: Error | undefined
  let closing: Promise<void> | undefined
  let nextId = 1
  const maxInTransit = Math.max(1000, opts.maxInTransit ?? 20_000)
  let postedTotal = 0
  /** Readings the worker has taken from 'write' messages (its 'taken' replies). */
  let takenTotal = 0
  /** flush() callers waiting for the worker to take more (the in-transit bound held their batches back). */
  const takenWaiters: (() => void)[] = []
  const calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()

  const fail = (err: Error): void => {
    failed = err
    opts.logger?.error({ err }, 'telemetry worker failed')
    for (const c of calls.values()) c.reject(new AppError('STORE_UNAVAILABLE', `telemetry store failed: ${err.message}`, { retriable: true, cause: err }))
    calls.clear()
    for (const w of takenWaiters.splice(0)) w()
  }
  worker.on('error', fail)
  worker.on('exit', (code) => { if (!closing && code !== 0) fail(new Error(`telemetry worker exited with ${code}`)) })
  worker.on('message', (m: { type: 'stats'; buffered: number; written: number; dropped: number } | { type: 'taken'; total: number } | { type: 'reply'; id: number; ok: boolean; result?: unknown; error?: string }) => {
    if (m.type === 'taken') {
      takenTotal = m.total
      if (queue.length) postSoon()
      for (const w of takenWaiters.splice(0)) w()
      return
    }
    if (m.type === 'stats') {
      const newlyDropped = m.dropped - remote.dropped
      remote = { buffered: m.buffered, written: m.written, dropped: m.dropped }
      if (newlyDropped > 0) opts.onDropped?.(newlyDropped)
      return
    }
    const c = calls.get(m.id)
    if (!c) return
    calls.delete(m.id)
    if (m.ok) c.resolve(m.result)
    else c.reject(new AppError('STORE_UNAVAILABLE', m.error ?? 'telemetry store error', { retriable: true }))
  })

  // Backpressure: at most maxInTransit readings posted and not yet taken by the worker. Beyond, they wait
  // (and the oldest are dropped) here, where it costs nothing to hold them; otherwise a flood fills the
  // worker's message queue, and it spends its time cloning batches it then drops instead of writing.
  /** Readings not yet written: held here, in transit, and buffered in the worker. */
  const backlog = (): number => queued + (postedTotal - takenTotal) + remote.buffered
  const post = (): void => {
    scheduled = false
    if (handOverTimer) { clearTimeout(handOverTimer); handOverTimer = undefined }
    if (!queue.length || failed) return
    if (postedTotal - takenTotal >= maxInTransit) return // the worker's next 'taken' posts again
    const batches = queue
    postedTotal += queued
    queue = []
    queued = 0
    handOvers++
    const cols = toColumns(batches)
    worker.postMessage({ type: 'write', cols } satisfies WorkerRequest, [cols.num.buffer, cols.q.buffer])
  }
  /** Posts in this event-loop turn's setImmediate (a timer may have been waiting: it is cut short). */
  const postSoon = (): void => {
    if (scheduled && !handOverTimer) return
    if (handOverTimer) { clearTimeout(handOverTimer); handOverTimer = undefined }
    scheduled = true
    setImmediate(post)
  }
  /** Posts within handOverMs, or in this turn once handOverReadings wait. */
  const schedulePost = (): void => {
    if (queued >= handOverReadings || handOverMs === 0) { postSoon(); return }
    if (scheduled) return
    scheduled = true
    handOverTimer = setTimeout(post, handOverMs)
    handOverTimer.unref()
  }

  const call = <T>(op: string, args?: unknown[]): Promise<T> => {
    if (failed) return Promise.reject(new AppError('STORE_UNAVAILABLE', `telemetry store failed: ${failed.message}`, { retriable: true }))
    post()
    const id = nextId++
    return new Promise<T>((resolve, reject) => {
      calls.set(id, { resolve: resolve as (v: unknown) => void, reject })
      worker.postMessage({ type: 'call', id, op, ...(args ? { args } : {}) })
    })
  }

  // Wait until the worker is up (its first stats message) so a broken database fails start-up.
  await new Promise<void>((resolve, reject) => {
    const onMsg = (): void => { worker.off('error', onErr); resolve() }
    const onErr = (err: Error): void => { worker.off('message', onMsg); reject(new AppError('STORE_UNAVAILABLE', `telemetry store: ${err.message}`, { cause: err })) }
    worker.once('message', onMsg)
    worker.once('error', onErr)
  })

  return {
    write(batch: ReadingBatch) {
      const n = Array.isArray(batch?.items) ? batch.items.length : 0
      if (!n) return
      if (closing || failed) { droppedHere += n; opts.onDropped?.(n); return }
      queue.push(batch)
      queued += n
      while (backlog() > bufferMax && queue.length > 1) {
        const old = queue.shift()!
        queued -= old.items.length
        droppedHere += old.items.length
        opts.onDropped?.(old.items.length)
      }
      schedulePost()
    },
    query: (sensorId, from, to, limit) => call<ReadingPoint[]>('query', [sensorId, from, to, limit]),
    async flush() {
      // Everything written so far: first hand the held-back batches over, then flush in the worker.
      while (queue.length && !failed) {
        const before = queue.length
        post()
        if (queue.length === before) await new Promise<void>((r) => takenWaiters.push(r))
      }
      return call<void>('flush')
    },
    prune: (rawBefore, aggBefore) => call<{ raw: number; agg: number }>('prune', [rawBefore, aggBefore]),
    ping: () => call<{ ok: boolean; detail?: string }>('ping'),
    healthy: () => (failed ? { ok: false, detail: `telemetry worker: ${failed.message}` } : { ok: true }),
    handOvers: () => handOvers,
    stats: () => ({ buffered: backlog(), written: remote.written, dropped: droppedHere + remote.dropped }),
    close() {
      closing ??= (async () => {
        try { await call('close') } catch (err) { opts.logger?.error({ err }, 'closing the telemetry worker failed') }
        await worker.terminate()
      })()
      return closing
    },
  }
}
