// Worker thread that owns telemetry.db: the SQLite history store runs here so its transactions never
// block the pipeline's event loop. Messages from telemetry-worker-host.ts; replies carry the request id.
import { parentPort, workerData } from 'node:worker_threads'
import { join } from 'node:path'
import type { ReadingColumns } from './reading-columns.js'
import { openSharedDb } from './sqlite-db.js'
import { createSqliteTelemetryStore } from './sqlite-telemetry-store.js'

interface Init { dataDir: string; flushMs?: number; batchMax?: number; bufferMax?: number }
export type WorkerRequest =
  | { type: 'write'; cols: ReadingColumns }
  | { type: 'call'; id: number; op: 'query'; args: [string, number, number, number | undefined] }
  | { type: 'call'; id: number; op: 'flush' | 'close' | 'ping' }
  | { type: 'call'; id: number; op: 'prune'; args: [number, number] }

const init = workerData as Init
const port = parentPort!
const shared = openSharedDb(join(init.dataDir, 'telemetry.db'), { synchronous: 'NORMAL' })
shared.retain()
const store = createSqliteTelemetryStore(shared, {
  ...(init.flushMs !== undefined ? { flushMs: init.flushMs } : {}),
  ...(init.batchMax !== undefined ? { batchMax: init.batchMax } : {}),
  ...(init.bufferMax !== undefined ? { bufferMax: init.bufferMax } : {}),
})

/** Readings taken from 'write' messages so far (the host's backpressure counts on it). */
let taken = 0
const postStats = (): void => port.postMessage({ type: 'stats', ...store.stats() })
const statsTimer = setInterval(postStats, 250)

port.on('message', (msg: WorkerRequest) => {
  if (msg.type === 'write') {
    store.writeColumns(msg.cols)
    taken += msg.cols.n
    port.postMessage({ type: 'taken', total: taken })
    return
  }
  const reply = (p: Promise<unknown>): void => {
    p.then(
      (result) => { postStats(); port.postMessage({ type: 'reply', id: msg.id, ok: true, result }) },
      (err: unknown) => port.postMessage({ type: 'reply', id: msg.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
    )
  }
  switch (msg.op) {
    case 'query': reply(store.query(...msg.args)); break
    case 'flush': reply(store.flush()); break
    case 'prune': reply(store.prune(...msg.args)); break
    case 'ping': reply(Promise.resolve(shared.ping())); break
    case 'close':
      clearInterval(statsTimer)
      reply(store.close().then(() => { shared.release() }))
      break
  }
})
