// Writes every accepted reading to the history store (buffered, never blocking the pipeline; with Kafka
// its offsets are committed only after the store flushed them) and
// prunes old history on a timer without stopping the pipeline. With a journal checkpoint it records,
// after each telemetry.flush(), the journal sequence everything up to which is durably stored.
import type { Bus, Subscription } from '../core/bus/bus.js'
import { topics } from '../core/contracts/topics.js'
import type { TelemetryStore } from '../core/store/ports.js'
import type { Clock, TimerHandle } from '../core/runtime/clock.js'
import type { Logger } from '../core/runtime/logger.js'
import type { Metrics } from '../core/runtime/metrics.js'
import type { Stage } from '../core/runtime/stage.js'

const STALL_MS = 10_000
const STOP_FLUSH_MS = 5000

export interface HistoryOptions {
  rawDays: number; aggregateDays: number; pruneIntervalMinutes: number; group: string
  /** Readings waiting in the store above which the writer holds its consumer (backpressure up the bus to
   *  ingest, so an overload slows the gateways' acknowledgements instead of dropping history) until they
   *  fall to half — unless the store has made no progress for 10 s (down or hung: then it buffers, drops
   *  the oldest and counts them, and warnings never wait for it). Default 100,000. */
  highWater?: number
}

/** The ingest journal's readings checkpoint: `watermark()` is taken before a flush, `commit` after it. */
export interface HistoryCheckpoint {
  watermark(): number
  commit(seq: number): void
  /** Default 500 ms. */
  intervalMs?: number
}

export function createHistoryWriter(deps: { bus: Bus; telemetry: TelemetryStore; clock: Clock; logger: Logger; metrics: Metrics; options: HistoryOptions; checkpoint?: HistoryCheckpoint }): Stage {
  const { bus, telemetry, clock, logger, metrics, options, checkpoint: ck } = deps
  let ckTimer: TimerHandle | undefined
  let checkpointing = false

  /** Everything handed to the store up to the watermark taken now is durable once the flush resolves. */
  async function checkpointNow(): Promise<void> {
    if (!ck || checkpointing) return
    checkpointing = true
    try {
      const seq = ck.watermark()
      await telemetry.flush()
      ck.commit(seq)
    } catch (err) {
      logger.warn({ err }, 'history checkpoint failed; the journal keeps the entries')
    } finally {
      checkpointing = false
    }
  }
  let sub: Subscription | undefined
  let pruneTimer: TimerHandle | undefined
  let statsTimer: TimerHandle | undefined
  let lastDropped = 0
  let lastWritten = 0
  let lastProgressAt = clock.now()
  let pruning = false

  const highWater = Math.max(1, options.highWater ?? 100_000)
  const stalled = (): boolean => clock.now() - lastProgressAt > STALL_MS
  async function roomInStore(): Promise<void> {
    metrics.historyBackpressure.inc()
    while (telemetry.stats().buffered > highWater / 2 && !stalled() && sub) await new Promise((r) => setTimeout(r, 10))
  }

  async function prune(): Promise<void> {
    if (pruning) return
    pruning = true
    try {
      const now = clock.now()
      const r = await telemetry.prune(now - options.rawDays * 86_400_000, now - options.aggregateDays * 86_400_000)
      if (r.raw || r.agg) logger.info({ raw: r.raw, agg: r.agg }, 'pruned old readings')
    } catch (err) {
      logger.error({ err }, 'pruning readings failed')
    } finally {
      pruning = false
    }
  }

  return {
    name: 'history',
    async start() {
      // With Kafka, offsets are committed only after the store flushed what was handed to it (a crash
      // then re-reads the rest from Kafka); in embedded mode the journal checkpoint below does that.
      sub = await bus.subscribe(topics.readings, { group: options.group, beforeCommit: () => telemetry.flush() }, (batch) => {
        telemetry.write(batch)
        if (telemetry.stats().buffered >= highWater && !stalled()) return roomInStore()
        return undefined
      })
      pruneTimer = clock.setInterval(() => void prune(), options.pruneIntervalMinutes * 60_000)
      statsTimer = clock.setInterval(() => {
        const s = telemetry.stats()
        if (s.written !== lastWritten || s.buffered === 0) { lastWritten = s.written; lastProgressAt = clock.now() }
        metrics.telemetryBuffered.set(s.buffered)
        if (s.dropped > lastDropped) {
          metrics.telemetryDropped.inc(s.dropped - lastDropped)
          logger.warn({ dropped: s.dropped - lastDropped, buffered: s.buffered }, 'history store fell behind: readings dropped from its buffer')
          lastDropped = s.dropped
        }
      }, 1000)
      if (ck) ckTimer = clock.setInterval(() => void checkpointNow(), ck.intervalMs ?? 500)
      void prune()
    },
    async stop() {
      await sub?.unsubscribe()
      if (pruneTimer) clock.clear(pruneTimer)
      if (statsTimer) clock.clear(statsTimer)
      if (ckTimer) clock.clear(ckTimer)
      // The last flush gets STOP_FLUSH_MS: a store that is down or hung must not hold the shutdown (what it
      // did not take stays in the journal, or in Kafka with its offsets uncommitted, and comes again).
      const until = Date.now() + STOP_FLUSH_MS
      const flushed = await Promise.race([
        telemetry.flush().then(() => true, (err: unknown) => { logger.warn({ err }, 'history flush at stop failed'); return false }),
        new Promise<false>((r) => setTimeout(() => r(false), STOP_FLUSH_MS).unref()),
      ])
      if (!flushed) logger.warn({ waitedMs: STOP_FLUSH_MS, buffered: telemetry.stats().buffered }, 'history store did not take the last readings in time; stopping without them (replayed from the journal or re-read from Kafka)')
      while (checkpointing && Date.now() < until) await new Promise((r) => setTimeout(r, 20))
      if (flushed && !checkpointing) await checkpointNow()
    },
    health() {
      const s = telemetry.stats()
      const detail = `buffered ${s.buffered}, written ${s.written}, dropped ${s.dropped}`
      // Readings waiting while nothing has been written for a while: the time-series store is down or
      // stuck (warnings go on regardless; the buffer is bounded and its drops are counted).
      const stalled = s.buffered > 0 && clock.now() - lastProgressAt > STALL_MS
      return stalled ? { ok: false, detail: `history store not accepting writes for ${Math.round((clock.now() - lastProgressAt) / 1000)} s; ${detail}` } : { ok: true, detail }
    },
  }
}
