// Crash safety of the embedded mode: wires the ingest journal (ingest/reading-journal.ts) to the
// pipeline tracker, the history checkpoint and the rejection store, and replays unfinished entries on
// start. Invariant: an entry leaves the journal only after its readings are in the telemetry store,
// everything they caused on the bus was handled, and its rejections are in the rejection store.
import { join } from 'node:path'
import type { Bus } from '../core/bus/bus.js'
import { topics } from '../core/contracts/topics.js'
import type { RejectionStore } from '../core/store/ports.js'
import type { Clock, TimerHandle } from '../core/runtime/clock.js'
import type { Logger } from '../core/runtime/logger.js'
import type { Stage } from '../core/runtime/stage.js'
import { openReadingJournal, type ReadingJournal } from '../ingest/reading-journal.js'
import type { IngestJournal } from '../ingest/ingest-stage.js'
import { createPipelineTracker, type PipelineTracker } from './pipeline-tracker.js'
import type { HistoryCheckpoint } from './history-writer.js'

export interface DurableIngestOptions {
  /** fsync every append (power-loss durability). Default false: a process crash loses nothing without it. */
  fsync?: boolean
  /** See ReadingJournalOptions.groupCommitMs (default 2 ms). */
  groupCommitMs?: number
  segmentBytes?: number
  /** Rejection-store checkpoint interval; default 500 ms. */
  checkpointMs?: number
}

export interface DurableIngest {
  /** The bus all stages must use (tracks what each journal entry caused). */
  bus: Bus
  /** For the ingest stage. */
  journal: IngestJournal
  /** For the history writer. */
  historyCheckpoint: HistoryCheckpoint
  /** Start it after the consumers and before ingest: it replays, then checkpoints rejections on a timer. */
  stage: Stage
  readonly raw: ReadingJournal
  readonly tracker: PipelineTracker
}

export function createDurableIngest(deps: { bus: Bus; rejections: RejectionStore; dataDir: string; clock: Clock; logger: Logger; options?: DurableIngestOptions }): DurableIngest {
  const { rejections, clock, logger } = deps
  const o = deps.options ?? {}
  const raw = openReadingJournal({ dir: join(deps.dataDir, 'journal'), fsync: o.fsync, groupCommitMs: o.groupCommitMs, segmentBytes: o.segmentBytes, logger })
  const tracker = createPipelineTracker(deps.bus, raw.lastSeq())
  const bus = tracker.bus
  let timer: TimerHandle | undefined
  let busy = false

  async function checkpointRejections(): Promise<void> {
    if (busy) return
    busy = true
    try {
      const seq = raw.lastSeq() // every entry appended so far has been add()ed to the store (same tick)
      await rejections.flush()
      raw.checkpoint('rejections', seq)
    } catch (err) {
      logger.warn({ err }, 'rejection checkpoint failed; the journal keeps the entries')
    } finally {
      busy = false
    }
  }

  const stage: Stage = {
    name: 'journal',
    async start() {
      const ck = raw.checkpoints()
      let batches = 0
      let readings = 0
      let rejected = 0
      for (const e of raw.replay()) {
        tracker.note(e.seq)
        if (e.seq > ck.rejections) for (const r of e.rejections) { rejections.add(r); rejected++ }
        if (e.batch && e.seq > ck.readings && Array.isArray(e.batch.items)) {
          tracker.tag(e.batch, e.seq)
          await bus.publish(topics.readings, e.batch)
          batches++
          readings += e.batch.items.length
        }
      }
      if (batches || rejected) logger.info({ batches, readings, rejections: rejected, checkpoints: ck, lastSeq: raw.lastSeq() }, 'journal replayed after an unclean stop')
      timer = clock.setInterval(() => void checkpointRejections(), o.checkpointMs ?? 500)
    },
    async stop() {
      if (timer) clock.clear(timer)
      while (busy) await new Promise((r) => setImmediate(r))
      await checkpointRejections()
      raw.flush()
      await raw.idle()
      raw.close()
    },
    health() {
      const ck = raw.checkpoints()
      return { ok: true, detail: `last ${raw.lastSeq()}, checkpoints readings ${ck.readings} rejections ${ck.rejections}, segments ${raw.segments().length}, pending ${tracker.pending()}` }
    },
  }

  return {
    bus,
    raw,
    tracker,
    stage,
    journal: {
      record(batch, rej) {
        const seq = raw.append(batch, rej)
        if (batch) tracker.tag(batch, seq)
        else tracker.note(seq)
      },
      durable: () => raw.durable(),
    },
    historyCheckpoint: { watermark: () => tracker.watermark(), commit: (seq) => raw.checkpoint('readings', seq) },
  }
}
