// The ingest journal (embedded mode): every accepted ReadingBatch and every kept Rejection is appended
// to an append-only segment file before its message is acknowledged, so a process crash loses nothing
// that was acknowledged. Appends are group-committed: append() assigns the sequence number at once and
// queues the line; what is appended within a short window (groupCommitMs, or until 512 entries wait) is
// written by one write (and one fsync when asked), and durable() resolves when what was appended so
// far is written. With thousands of gateways each message arrives in its own event-loop turn, so a
// write per turn would be a syscall per message. The group's write runs on libuv's thread pool, one at a
// time: appending to a page the kernel is writing back can block for tens of milliseconds, and that
// must delay only the acknowledgements, not the event loop (warnings). Writes go to positions reserved
// when the group is laid out, so the synchronous flush() (close, replay) can run beside an
// asynchronous one without reordering lines. Invariant: sequence numbers strictly increase
// across segments and restarts; a segment is deleted only when every entry in it is at or below all
// consumers' checkpoints.
import { closeSync, constants as fsc, existsSync, fstatSync, fsync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, truncateSync, unlinkSync, write, writeFileSync, writeSync } from 'node:fs'
import { open as openAsync, readdir as readdirAsync, rename as renameAsync, unlink as unlinkAsync, writeFile as writeFileAsync } from 'node:fs/promises'
import { join } from 'node:path'
import type { ReadingBatch, Rejection } from '../core/contracts/reading.js'
import type { Logger } from '../core/runtime/logger.js'
import { AppError } from '../core/runtime/errors.js'
import { decodeEntry, encodeEntry, seqOfLine } from './journal-codec.js'

export interface JournalEntry { seq: number; batch: ReadingBatch | null; rejections: Rejection[] }

/** Who has made an entry durable elsewhere: `readings` (history store + pipeline), `rejections` (rejection store). */
export type JournalConsumer = 'readings' | 'rejections'
export type Checkpoints = Record<JournalConsumer, number>

export interface ReadingJournalOptions {
  dir: string
  /** A segment is closed and a new one started once it exceeds this size. Default 16 MiB. */
  segmentBytes?: number
  /** fsync after every append (power-loss durability; a process crash needs none). Default false. */
  fsync?: boolean
  /** How long an append may wait for others to share its write (and fsync); default 2 ms, 0 = the
   *  appends of one event-loop turn only. It delays the acknowledgement, not the pipeline. */
  groupCommitMs?: number
  logger?: Logger
}

export interface ReadingJournal {
  /** Queues one entry and returns its sequence number; it is written with the rest of this event-loop
   *  turn's entries (see durable()). Throws when the journal is closed. */
  append(batch: ReadingBatch | null, rejections: readonly Rejection[]): number
  /** Resolves once every entry appended so far is written (fsynced with `fsync`); rejects with
   *  STORE_UNAVAILABLE when the write failed. A message may be acknowledged only after this. */
  durable(): Promise<void>
  /** Writes what is queued now (synchronously). Throws STORE_UNAVAILABLE when it cannot. */
  flush(): void
  /** Writes made to segment files so far (group commits; for metrics and tests). */
  writes(): number
  /** Resolves once no asynchronous write (of entries or checkpoints) is in flight (then close() has
   *  nothing left to wait for). */
  idle(): Promise<void>
  /** Highest sequence appended (or recovered). */
  lastSeq(): number
  checkpoints(): Checkpoints
  /** Records that `consumer` has everything up to `seq` durably. The checkpoint file is written, and the
   *  segments below every checkpoint deleted, in the background (idle() waits for it, close() writes it). */
  checkpoint(consumer: JournalConsumer, seq: number): void
  /** Entries after min(checkpoints), in order (call before appending). */
  replay(): Generator<JournalEntry>
  /** Segment files present (for tests and health); entries still queued may not be in them yet. */
  segments(): string[]
  close(): void
}

const SEG_RE = /^seg-(\d{16})\.jsonl$/
const segName = (start: number): string => `seg-${String(start).padStart(16, '0')}.jsonl`
const CKPT = 'checkpoint.json'
/** A line after a hole: a crash after a synchronous flush() wrote past an asynchronous write still in
 *  flight leaves NUL bytes where that write's lines (never acknowledged) would have gone. */
const unhole = (line: string): string => (line.charCodeAt(0) === 0 ? line.replace(/^\0+/, '') : line)

interface Seg { name: string; start: number }

export function openReadingJournal(opts: ReadingJournalOptions): ReadingJournal {
  const { dir, logger } = opts
  const segmentBytes = Math.max(4096, opts.segmentBytes ?? 16 * 1024 * 1024)
  try { mkdirSync(dir, { recursive: true }) } catch (err) {
    throw new AppError('STORE_UNAVAILABLE', `cannot create the ingest journal directory ${dir}: ${(err as Error).message}`, { cause: err })
  }
  const ckptFile = join(dir, CKPT)
  const ckpt: Checkpoints = { readings: 0, rejections: 0 }
  if (existsSync(ckptFile)) {
    try {
      const j = JSON.parse(readFileSync(ckptFile, 'utf8')) as Partial<Checkpoints>
      if (Number.isSafeInteger(j.readings)) ckpt.readings = j.readings!
      if (Number.isSafeInteger(j.rejections)) ckpt.rejections = j.rejections!
    } catch (err) { logger?.error({ err, file: ckptFile }, 'journal checkpoint unreadable: replaying the whole journal') }
  }
  /** The segment files among a directory's entries, oldest first. */
  const segsOf = (names: string[]): Seg[] => names.flatMap((name) => {
    const m = SEG_RE.exec(name)
    return m ? [{ name, start: Number(m[1]) }] : []
  }).sort((a, b) => a.start - b.start)
  const listSegs = (): Seg[] => segsOf(readdirSync(dir))

  // Recover the last sequence: the last complete line of the newest non-empty segment. A torn
  // final line (a crash in the middle of a write) is cut off so the segment stays well-formed.
  let last = Math.max(ckpt.readings, ckpt.rejections)
  const segs = listSegs()
  for (let i = segs.length - 1; i >= 0; i--) {
    const file = join(dir, segs[i]!.name)
    const text = readFileSync(file, 'utf8')
    const end = text.lastIndexOf('\n') + 1
    if (end < Buffer.byteLength(text)) {
      const keep = Buffer.byteLength(text.slice(0, end))
      logger?.warn({ file, cut: Buffer.byteLength(text) - keep }, 'journal: torn last line cut off')
      truncateSync(file, keep)
    }
    const lines = text.slice(0, end).split('\n').filter(Boolean)
    const lastLine = lines[lines.length - 1]
    if (!lastLine) continue
    const s = seqOfLine(unhole(lastLine))
    if (s !== undefined) last = Math.max(last, s) // else: counted in replay
    break
  }

  let fd: number | undefined
  let segSize = 0
  let closed = false

  function openSegment(start: number): void {
    // Not O_APPEND: writes go to the positions reserved for them (see layout()).
    fd = openSync(join(dir, segName(start)), fsc.O_WRONLY | fsc.O_CREAT, 0o644)
    segSize = fstatSync(fd).size
  }

  // ---- checkpoints
  // Written off the event loop: a write, a rename and segment unlinks, twice a second, took 1–20 ms of
  // the loop on a disk under writeback. One write at a time; checkpoints recorded meanwhile are written
  // next, newest values only. A checkpoint is only an optimisation of replay: one written late (or an
  // older one landing last) means entries replayed again, never lost — segments are deleted only below
  // what is already on disk.
  let ckptWriting: Promise<void> | null = null
  let ckptDirty = false
  /** Bumped by every checkpoint write; an asynchronous write superseded by close()'s does not rename. */
  let ckptGen = 0

  /** Segments fully at or below `below`, except the newest (still being written). */
  function deletable(all: Seg[], below: number): Seg[] {
    const out: Seg[] = []
    // Segment i holds [start_i, start_{i+1} - 1].
    for (let i = 0; i + 1 < all.length && all[i + 1]!.start - 1 <= below; i++) out.push(all[i]!)
    return out
  }

  function writeCheckpointsSync(): void {
    ckptGen++
    const tmp = `${ckptFile}.close.tmp` // not the asynchronous write's file, which may still be in flight
    writeFileSync(tmp, JSON.stringify(ckpt))
    if (opts.fsync) { const f = openSync(tmp, 'r+'); try { fsyncSync(f) } finally { closeSync(f) } }
    renameSync(tmp, ckptFile)
    for (const seg of deletable(listSegs(), Math.min(ckpt.readings, ckpt.rejections))) {
      try { unlinkSync(join(dir, seg.name)) } catch (err) { logger?.warn({ err, segment: seg.name }, 'journal segment not deleted') }
    }
  }

  async function writeCheckpointsAsync(values: Checkpoints, gen: number): Promise<void> {
    const tmp = `${ckptFile}.tmp`
    await writeFileAsync(tmp, JSON.stringify(values))
    if (opts.fsync) { const h = await openAsync(tmp, 'r+'); try { await h.sync() } finally { await h.close() } }
    if (gen !== ckptGen) { await unlinkAsync(tmp).catch(() => undefined); return }
    await renameAsync(tmp, ckptFile)
    for (const seg of deletable(segsOf(await readdirAsync(dir)), Math.min(values.readings, values.rejections))) {
      if (gen !== ckptGen && closed) return // close() deletes what is left
      try { await unlinkAsync(join(dir, seg.name)) } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') logger?.warn({ err, segment: seg.name }, 'journal segment not deleted')
      }
    }
  }

  function persistCheckpoints(): void {
    if (ckptWriting) { ckptDirty = true; return }
    ckptDirty = false
    const values = { ...ckpt }
    ckptWriting = writeCheckpointsAsync(values, ++ckptGen)
      .catch((err: unknown) => logger?.error({ err, checkpoints: values }, 'journal checkpoint not written (entries will be replayed again)'))
      .finally(() => {
        ckptWriting = null
        if (ckptDirty && !closed) persistCheckpoints()
      })
  }

  // ---- group commit
  const groupCommitMs = Math.max(0, opts.groupCommitMs ?? 2)
  /** Entries after which the window is cut short (bounds the write and the wait). */
  const GROUP_MAX = 512
  let pending: string[] = []
  let flushScheduled = false
  let flushTimer: ReturnType<typeof setTimeout> | undefined
  let writes = 0
  let waiter: { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } | null = null
  const RESOLVED = Promise.resolve()

  /** Async writes in flight per segment fd: a segment rotated meanwhile is closed after them. */
  const fdWrites = new Map<number, number>()
  const closeLater = new Set<number>()
  let writing: Promise<void> | null = null

  /** Closes a segment's fd (with `fsync`, every write was already followed by one). */
  function closeFd(f: number): void {
    if ((fdWrites.get(f) ?? 0) > 0) { closeLater.add(f); return }
    closeLater.delete(f)
    closeSync(f)
  }

  interface Plan { writes: { fd: number; pos: number; text: string; bytes: number }[]; retire: number[] }
  /** Lays out lines holding the consecutive sequence numbers firstSeq, firstSeq + 1, … over segments
   *  (one write per segment touched; a segment is rotated once it reaches segmentBytes, checked per
   *  line), reserving their positions now. */
  function layout(lines: string[], firstSeq: number): Plan {
    const plan: Plan = { writes: [], retire: [] }
    let chunk = ''
    let chunkBytes = 0
    let chunkPos = segSize
    const put = (): void => {
      if (!chunk) return
      plan.writes.push({ fd: fd!, pos: chunkPos, text: chunk, bytes: chunkBytes })
      segSize = chunkPos + chunkBytes
      chunk = ''
      chunkBytes = 0
    }
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!
      if (fd === undefined || chunkPos + chunkBytes >= segmentBytes) {
        put()
        if (fd !== undefined) plan.retire.push(fd)
        fd = undefined
        openSegment(firstSeq + i)
        chunkPos = segSize
      }
      chunk += line
      chunkBytes += Buffer.byteLength(line)
    }
    put()
    return plan
  }

  function runSync(plan: Plan): void {
    for (const w of plan.writes) {
      const n = writeSync(w.fd, w.text, w.pos, 'utf8')
      writes++
      if (n !== w.bytes) throw new Error(`short write (${n} of ${w.bytes} bytes)`)
    }
    if (opts.fsync) for (const f of new Set(plan.writes.map((w) => w.fd))) fsyncSync(f)
    for (const f of plan.retire) closeFd(f)
  }

  const writeAt = (f: number, text: string, pos: number): Promise<number> =>
    new Promise((resolve, reject) => write(f, text, pos, 'utf8', (err, n) => (err ? reject(err) : resolve(n))))
  const fsyncAsync = (f: number): Promise<void> => new Promise((resolve, reject) => fsync(f, (err) => (err ? reject(err) : resolve())))

  async function runAsync(plan: Plan): Promise<void> {
    const used = new Set(plan.writes.map((w) => w.fd))
    for (const f of used) fdWrites.set(f, (fdWrites.get(f) ?? 0) + 1)
    try {
      for (const w of plan.writes) {
        const n = await writeAt(w.fd, w.text, w.pos)
        writes++
        if (n !== w.bytes) throw new Error(`short write (${n} of ${w.bytes} bytes)`)
      }
      if (opts.fsync) for (const f of used) await fsyncAsync(f)
    } finally {
      for (const f of used) {
        const left = (fdWrites.get(f) ?? 1) - 1
        if (left > 0) fdWrites.set(f, left)
        else { fdWrites.delete(f); if (closeLater.has(f)) closeFd(f) }
      }
    }
    for (const f of plan.retire) closeFd(f)
  }

  const writeFailed = (err: unknown, entries: number): AppError => {
    const e = new AppError('STORE_UNAVAILABLE', `ingest journal write failed: ${(err as Error).message}`, { retriable: true, cause: err })
    logger?.error({ err: e.message, entries }, 'ingest journal write failed: the messages are not acknowledged')
    return e
  }
  const newWaiter = (): NonNullable<typeof waiter> => {
    let resolve!: () => void
    let reject!: (e: unknown) => void
    const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej })
    promise.catch(() => { /* handled by whoever awaits durable(); none may */ })
    return { promise, resolve, reject }
  }

  /** Writes what is pending now, synchronously (close, replay, tests). */
  function flushNow(): void {
    flushScheduled = false
    if (flushTimer) { clearTimeout(flushTimer); flushTimer = undefined }
    const w = waiter
    waiter = null
    if (!pending.length) { w?.resolve(); return }
    const lines = pending
    pending = []
    try {
      runSync(layout(lines, last - lines.length + 1))
    } catch (err) {
      const e = writeFailed(err, lines.length)
      if (w) { w.reject(e); return }
      throw e
    }
    w?.resolve()
  }

  /** The group commit: writes what is pending on the thread pool, one group at a time. */
  function flushAsync(): void {
    flushScheduled = false
    if (flushTimer) { clearTimeout(flushTimer); flushTimer = undefined }
    if (writing) return // its completion writes what is pending then
    if (!pending.length) { waiter?.resolve(); waiter = null; return }
    const w = waiter ?? newWaiter()
    waiter = null
    const lines = pending
    pending = []
    let plan: Plan
    try {
      plan = layout(lines, last - lines.length + 1)
    } catch (err) {
      w.reject(writeFailed(err, lines.length))
      return
    }
    writing = w.promise
    runAsync(plan).then(() => w.resolve(), (err: unknown) => w.reject(writeFailed(err, lines.length))).finally(() => {
      writing = null
      if (pending.length && !flushScheduled) flushAsync()
    })
  }

  return {
    append(batch, rejections) {
      if (closed) throw new AppError('STORE_UNAVAILABLE', 'ingest journal is closed', { retriable: true })
      const seq = last + 1
      pending.push(encodeEntry(seq, batch, rejections))
      last = seq
      if (!flushScheduled) {
        flushScheduled = true
        if (groupCommitMs > 0) flushTimer = setTimeout(flushAsync, groupCommitMs)
        else setImmediate(flushAsync)
      } else if (flushTimer && pending.length >= GROUP_MAX) {
        clearTimeout(flushTimer)
        flushTimer = undefined
        setImmediate(flushAsync)
      }
      return seq
    },
    durable() {
      if (!pending.length) return writing ?? RESOLVED
      if (!waiter) waiter = newWaiter()
      return waiter.promise
    },
    flush() { flushNow() },
    writes: () => writes,
    async idle() {
      while (writing || ckptWriting) {
        if (writing) await writing.catch(() => undefined)
        if (ckptWriting) await ckptWriting
      }
    },
    lastSeq: () => last,
    checkpoints: () => ({ ...ckpt }),
    checkpoint(consumer, seq) {
      if (!Number.isSafeInteger(seq) || seq <= ckpt[consumer]) return
      ckpt[consumer] = Math.min(seq, last)
      persistCheckpoints()
    },
    *replay() {
      flushNow()
      const from = Math.min(ckpt.readings, ckpt.rejections)
      let bad = 0
      for (const seg of listSegs()) {
        const text = readFileSync(join(dir, seg.name), 'utf8')
        for (const line of text.split('\n')) {
          if (!line) continue
          const e = decodeEntry(unhole(line))
          if (!e) { bad++; continue }
          if (e.seq <= from) continue
          yield e
        }
      }
      if (bad) logger?.error({ bad, dir }, 'journal: unreadable lines skipped during replay')
    },
    // No flush here: health reads this every few seconds, and a synchronous write on the event loop can
    // block for tens of milliseconds on a disk under writeback (what is queued is written within groupCommitMs).
    segments: () => listSegs().map((s) => s.name),
    close() {
      if (closed) return
      try { flushNow() } catch (err) { logger?.error({ err }, 'ingest journal: last entries not written at close') }
      closed = true
      if (ckptWriting || ckptDirty) {
        try { writeCheckpointsSync() } catch (err) { logger?.error({ err, checkpoints: ckpt }, 'journal checkpoint not written at close (entries will be replayed again)') }
      }
      if (fd !== undefined) {
        closeFd(fd) // after the asynchronous write still in flight on it, if any
        fd = undefined
      }
    },
  }
}
