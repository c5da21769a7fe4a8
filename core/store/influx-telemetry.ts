// Readings history in InfluxDB 2: write() only queues line protocol (never blocks, never throws); one
// sender at a time ships batches through the client's WriteApi, retrying with backoff; the queue is bounded
// (the oldest lines are dropped and counted beyond maxBufferLines). query() is Flux; retention is the bucket's.
//
// Why not the client's own batching: its defaults flush every 60 s and drop beyond 32,000 buffered lines
// (seconds of an outage at our rates), every full batch starts another concurrent request, and its flush()
// does not wait for those. Here the sizes come from config, at most one request is in flight, and
// stats().buffered counts exactly what is not yet written.
//
// Outage survived without loss = maxBufferLines / readings per second. With the defaults (1,000,000 lines,
// about 120 bytes each ≈ 120 MB of heap at most): 10,000 readings/s → 100 s; 2,000/s → 500 s (8 min);
// 500/s → 33 min. Beyond that the oldest readings are dropped (stats().dropped, onDropped, one log line per
// logIntervalMs); live alerting is unaffected, only history has a gap. Raise maxBufferLines to ride out longer.
import { InfluxDB, HttpError, Point, flux, fluxDateTime, type WriteApi } from '@influxdata/influxdb-client'
import type { ReadingBatch } from '../contracts/reading.js'
import { QUALITIES, type Quality } from '../contracts/reading.js'
import type { Logger } from '../runtime/logger.js'
import { AppError } from '../runtime/errors.js'
import { systemClock, type Clock, type TimerHandle } from '../runtime/clock.js'
import type { ReadingPoint, TelemetryStore } from './ports.js'
import { TELEMETRY_LIMIT, clampLimit } from './query-rules.js'

export interface InfluxTelemetryOptions {
  url: string
  token: string
  org: string
  bucket: string
  /** Lines per write request; default 5,000. */
  batchSize?: number
  /** A partial batch is sent after this long; default 1,000 ms. */
  flushIntervalMs?: number
  /** Lines kept in memory while InfluxDB is slow or down (oldest dropped beyond); default 1,000,000. */
  maxBufferLines?: number
  /** Failed attempts of one batch before it is dropped; default unlimited (the buffer bound decides). */
  maxRetries?: number
  /** Backoff after a failed write: 250 ms doubling up to this; default 30,000 ms. */
  maxRetryDelayMs?: number
  /** HTTP timeout of one request; default 10,000 ms. */
  timeoutMs?: number
  /** close() gives the last flush this long, then drops what is left and counts it; default 5,000 ms.
   *  Nothing acknowledged is lost by it: with Kafka those readings' offsets were never committed (they are
   *  read again), in embedded mode the journal's readings checkpoint never passed them (they are replayed). */
  closeTimeoutMs?: number
  /** At most one warning per this period about drops, failures or falling behind; default 10,000 ms. */
  logIntervalMs?: number
  logger?: Logger
  /** Called with the number of readings dropped (buffer full, bad item, refused by the server, after close). */
  onDropped?: (n: number) => void
  /** Flux endpoint when it differs from `url` (e.g. a read replica); default `url`. */
  queryUrl?: string
  clock?: Clock
}

const MIN_RETRY_DELAY_MS = 250
const QUALITY_SET = new Set<string>(QUALITIES)

/** Whether another attempt can help: no answer, a timeout, 408, 429 or 5xx. */
function retriable(err: unknown): boolean {
  if (err instanceof HttpError) return err.statusCode === 408 || err.statusCode >= 429
  return true
}

export function createInfluxTelemetry(opts: InfluxTelemetryOptions): TelemetryStore {
  for (const k of ['url', 'org', 'bucket'] as const) {
    if (!opts || typeof opts[k] !== 'string' || !opts[k]) throw new AppError('CONFIG_INVALID', `InfluxDB telemetry needs ${k}`)
  }
  const pos = (v: number | undefined, d: number): number => (v !== undefined && Number.isFinite(v) && v > 0 ? Math.floor(v) : d)
  const batchSize = pos(opts.batchSize, 5_000)
  const flushIntervalMs = pos(opts.flushIntervalMs, 1_000)
  const maxBuffer = Math.max(batchSize, pos(opts.maxBufferLines, 1_000_000))
  const maxRetries = opts.maxRetries !== undefined && opts.maxRetries >= 0 ? opts.maxRetries : Number.POSITIVE_INFINITY
  const maxRetryDelayMs = pos(opts.maxRetryDelayMs, 30_000)
  const logIntervalMs = pos(opts.logIntervalMs, 10_000)
  const clock = opts.clock ?? systemClock()
  const logger = opts.logger
  const timeout = pos(opts.timeoutMs, 10_000)

  const writeApi: WriteApi = new InfluxDB({ url: opts.url, token: opts.token, timeout }).getWriteApi(opts.org, opts.bucket, 'ms', {
    // The client only serializes and sends: batching, retries and the buffer bound are ours (see header).
    batchSize: batchSize + 1,
    flushInterval: 0,
    maxRetries: 0,
    maxBufferLines: batchSize + 1,
    // Returning a rejected promise makes flush() fail with the error, without the client's retry or console log.
    writeFailed: (error: Error) => Promise.reject(error),
  })
  const queryApi = new InfluxDB({ url: opts.queryUrl ?? opts.url, token: opts.token, timeout }).getQueryApi(opts.org)

  // Not yet sent, oldest first, in chunks of at most batchSize lines (only the last may be partial).
  let chunks: string[][] = []
  let queued = 0
  let inflight: string[] | null = null
  let written = 0
  let dropped = 0
  let accepted = 0
  let done = 0 // lines written or dropped, in order of acceptance
  let failures = 0
  let running: Promise<void> | null = null
  let retryTimer: TimerHandle | null = null
  let kickScheduled = false
  let closed = false
  let closing: Promise<void> | null = null
  const lastLog: Record<string, number> = {}
  let unloggedDrops = 0

  const throttled = (what: string): boolean => {
    const now = clock.now()
    const prev = lastLog[what]
    if (prev !== undefined && now - prev < logIntervalMs) return false
    lastLog[what] = now
    return true
  }
  function drop(n: number, why: string): void {
    if (n <= 0) return
    dropped += n
    unloggedDrops += n
    try { opts.onDropped?.(n) } catch (err) { logger?.error({ err }, 'onDropped callback failed') }
    if (throttled('drop')) {
      logger?.warn({ dropped: unloggedDrops, total: dropped, why, buffered: queued + (inflight?.length ?? 0) }, 'InfluxDB telemetry dropped readings')
      unloggedDrops = 0
    }
  }
  function enqueue(line: string): void {
    let tail = chunks[chunks.length - 1]
    if (!tail || tail.length >= batchSize) { tail = []; chunks.push(tail) }
    tail.push(line)
    queued++
    accepted++
    const over = queued + (inflight?.length ?? 0) - maxBuffer
    if (over > 0) {
      // Drop the oldest queued lines (they are accounted as done: nothing will write them).
      let left = over
      while (left > 0 && chunks.length) {
        const head = chunks[0]!
        if (head.length <= left) { chunks.shift(); left -= head.length; queued -= head.length }
        else { head.splice(0, left); queued -= left; left = 0 }
      }
      done += over - left
      drop(over - left, 'buffer full (maxBufferLines)')
    }
  }
  function take(force: boolean): string[] | null {
    const head = chunks[0]
    if (!head || !head.length) return null
    if (!force && chunks.length === 1 && head.length < batchSize) return null
    chunks.shift()
    queued -= head.length
    return head
  }
  async function send(lines: string[]): Promise<void> {
    writeApi.writeRecords(lines)
    await writeApi.flush()
  }
  /** Send batches until the queue is empty (or `until` lines are done); strict: a failure rejects. */
  async function drain(force: boolean, strict: boolean, until = Number.POSITIVE_INFINITY): Promise<void> {
    while (done < until) {
      if (!inflight) inflight = take(force)
      if (!inflight) return
      const n = inflight.length
      try {
        await send(inflight)
      } catch (err) {
        if (!retriable(err) || ++failures > maxRetries) {
          inflight = null
          failures = 0
          done += n
          drop(n, retriable(err) ? 'gave up after maxRetries' : `refused by InfluxDB: ${(err as Error).message}`)
          continue
        }
        if (throttled('fail')) logger?.warn({ err, attempt: failures, buffered: queued + n }, 'InfluxDB write failed; retrying with backoff')
        if (strict) throw new AppError('STORE_UNAVAILABLE', `InfluxDB write failed: ${(err as Error).message}`, { retriable: true, cause: err })
        const delay = Math.min(maxRetryDelayMs, MIN_RETRY_DELAY_MS * 2 ** Math.min(30, failures - 1))
        retryTimer = clock.setTimeout(() => { retryTimer = null; kick(true) }, delay)
        return
      }
      written += n
      done += n
      inflight = null
      failures = 0
    }
  }
  function kick(force: boolean): void {
    if (running || retryTimer || closed) return
    running = drain(force, false).catch((err: unknown) => { logger?.error({ err }, 'InfluxDB sender failed') }).finally(() => { running = null })
  }

  const tick: TimerHandle = clock.setInterval(() => {
    kick(true)
    const buffered = queued + (inflight?.length ?? 0)
    if (buffered > maxBuffer / 2 && throttled('behind')) logger?.warn({ buffered, maxBufferLines: maxBuffer }, 'InfluxDB telemetry is falling behind')
    if (unloggedDrops > 0 && throttled('drop')) {
      logger?.warn({ dropped: unloggedDrops, total: dropped }, 'InfluxDB telemetry dropped readings')
      unloggedDrops = 0
    }
  }, flushIntervalMs)

  async function flushAll(): Promise<void> {
    const until = accepted
    for (;;) {
      if (running) { await running; continue }
      if (retryTimer) { clock.clear(retryTimer); retryTimer = null }
      const p = drain(true, true, until)
      running = p.catch(() => undefined).finally(() => { running = null })
      await p
      if (done >= until || (!queued && !inflight)) return
    }
  }

  return {
    write(batch: ReadingBatch) {
      const items = (batch as Partial<ReadingBatch> | undefined)?.items
      if (!Array.isArray(items)) { drop(1, 'not a batch'); return }
      if (closed) { drop(items.length, 'written after close'); return }
      const enterprise = typeof batch.enterpriseId === 'string' ? batch.enterpriseId : ''
      let bad = 0
      for (const r of items) {
        if (!r || typeof r.sensorId !== 'string' || !r.sensorId || !Number.isFinite(r.ts) || !Number.isFinite(r.value)) { bad++; continue }
        const p = new Point('reading').tag('sensor', r.sensorId).floatField('value', r.value)
          .stringField('quality', QUALITY_SET.has(r.quality) ? r.quality : 'ok').timestamp(Math.floor(r.ts))
        if (enterprise) p.tag('enterprise', enterprise)
        const line = p.toLineProtocol(writeApi)
        if (line) enqueue(line); else bad++
      }
      if (bad) drop(bad, 'bad item')
      if (queued >= batchSize && !kickScheduled) {
        // Sending starts on the next turn of the event loop: write() itself only queues.
        kickScheduled = true
        setImmediate(() => { kickScheduled = false; kick(false) })
      }
    },

    async query(sensorId, from, to, limit) {
      if (typeof sensorId !== 'string' || !Number.isFinite(from) || !Number.isFinite(to) || to < from) return []
      const n = clampLimit(limit, TELEMETRY_LIMIT)
      // Parameterized: the client quotes the sensor id and times as Flux literals (no injection).
      const q = flux`from(bucket: ${opts.bucket})
  |> range(start: ${fluxDateTime(new Date(Math.floor(from)).toISOString())}, stop: ${fluxDateTime(new Date(Math.floor(to) + 1).toISOString())})
  |> filter(fn: (r) => r._measurement == "reading" and r.sensor == ${sensorId})
  |> filter(fn: (r) => r._field == "value" or r._field == "quality")
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> group()
  |> sort(columns: ["_time"])
  |> limit(n: ${n})`
      try {
        const rows = await queryApi.collectRows<{ _time: string; value: number | null; quality?: string | null }>(q)
        const out: ReadingPoint[] = []
        for (const r of rows) {
          const ts = Date.parse(r._time)
          if (!Number.isFinite(ts) || typeof r.value !== 'number') continue
          out.push({ ts, value: r.value, quality: (r.quality && QUALITY_SET.has(r.quality) ? r.quality : 'ok') as Quality })
        }
        return out
      } catch (err) {
        throw new AppError('STORE_UNAVAILABLE', `InfluxDB query failed: ${(err as Error).message}`, { retriable: retriable(err), cause: err })
      }
    },

    flush: () => flushAll(),

    /** InfluxDB deletes by the bucket's retention policy (set it to the raw retention); nothing is deleted
     * here, so the counts are zero. 1-minute aggregates, if wanted, belong in a downsampling task. */
    async prune() {
      await flushAll()
      return { raw: 0, agg: 0 }
    },

    stats: () => ({ buffered: queued + (inflight?.length ?? 0), written, dropped }),

    close() {
      if (!closing) {
        closing = (async () => {
          clock.clear(tick)
          const closeTimeout = pos(opts.closeTimeoutMs, 5000)
          let timer: ReturnType<typeof setTimeout> | undefined
          const gaveUp = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), closeTimeout) })
          try {
            const r = await Promise.race([flushAll().then(() => 'flushed' as const), gaveUp])
            if (r === 'timeout') logger?.warn({ closeTimeoutMs: closeTimeout, left: queued + (inflight?.length ?? 0) }, 'InfluxDB did not take the last readings in time; closing without them (they are read again from Kafka or replayed from the journal)')
          } catch (err) {
            logger?.error({ err }, 'InfluxDB flush at close failed')
          } finally {
            clearTimeout(timer)
          }
          closed = true
          if (retryTimer) { clock.clear(retryTimer); retryTimer = null }
          if (running) await Promise.race([running, new Promise((r) => setTimeout(r, 1000))])
          const left = queued + (inflight?.length ?? 0)
          chunks = []; queued = 0; inflight = null
          if (left) drop(left, 'not written at close')
          try { await Promise.race([writeApi.close(), new Promise((r) => setTimeout(r, 1000))]) } catch { /* nothing left to send */ }
        })()
      }
      return closing
    },
  }
}
