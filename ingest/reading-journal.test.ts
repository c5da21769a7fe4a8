// The ingest journal: sequence continuity across reopen, replay after the lowest checkpoint, torn
// final lines, rotation and deletion of fully checkpointed segments.
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ReadingBatch, Rejection } from '../core/contracts/reading.js'
import { openReadingJournal } from './reading-journal.js'

const batch = (v: number): ReadingBatch => ({ enterpriseId: 'E1', gatewayId: 'gw', receivedAt: 1, items: [{ sensorId: 'S', type: 'ch4', ts: v, value: v, quality: 'ok' }] })
const rej = (id: string): Rejection => ({ id, at: 1, reason: 'bad_json', message: 'x', topic: 't', raw: '{' })

describe('reading journal', () => {
  it('keeps sequence numbers increasing across reopen and replays only entries after the lowest checkpoint', () => {
    const dir = mkdtempSync(join(tmpdir(), 'yj-journal-'))
    const j = openReadingJournal({ dir })
    expect([j.append(batch(1), []), j.append(null, [rej('a')]), j.append(batch(3), [rej('b')])]).toEqual([1, 2, 3])
    j.checkpoint('readings', 3)
    j.checkpoint('rejections', 1)
    j.close()
    const k = openReadingJournal({ dir })
    expect(k.lastSeq()).toBe(3)
    const entries = [...k.replay()]
    expect(entries.map((e) => e.seq)).toEqual([2, 3])
    expect(entries[1]!.batch!.items[0]!.value).toBe(3)
    expect(entries[1]!.rejections[0]!.id).toBe('b')
    expect(k.append(batch(4), [])).toBe(4)
    k.close()
  })

  it('cuts a torn final line and goes on appending', () => {
    const dir = mkdtempSync(join(tmpdir(), 'yj-journal-'))
    const j = openReadingJournal({ dir })
    j.append(batch(1), [])
    j.close()
    appendFileSync(join(dir, readdirSync(dir).find((f) => f.startsWith('seg-'))!), '{"s":2,"b":{"enterp')
    const k = openReadingJournal({ dir })
    expect(k.lastSeq()).toBe(1)
    expect(k.append(batch(2), [])).toBe(2)
    expect([...k.replay()].map((e) => e.seq)).toEqual([1, 2])
  })

  it('rotates segments and deletes those fully below both checkpoints', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'yj-journal-'))
    const j = openReadingJournal({ dir, segmentBytes: 4096 })
    for (let i = 1; i <= 200; i++) j.append(batch(i), [])
    j.flush()
    const before = j.segments().length
    expect(before).toBeGreaterThan(3)
    j.checkpoint('readings', 150)
    await j.idle()
    expect(j.segments().length).toBe(before) // rejections still at 0
    j.checkpoint('rejections', 200)
    await j.idle()
    const after = j.segments()
    expect(after.length).toBeLessThan(before)
    expect([...j.replay()].map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 151 + i))
    j.checkpoint('readings', 200)
    await j.idle()
    expect(j.segments()).toHaveLength(1) // the segment being written stays
    expect(j.checkpoints()).toEqual({ readings: 200, rejections: 200 })
  })
})

describe('reading journal: checkpoints off the event loop', () => {
  it('writes checkpoints and deletes segments in the background, newest values last, and close() writes what is still pending', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'yj-journal-'))
    const ckptFile = join(dir, 'checkpoint.json')
    const onDisk = (): unknown => JSON.parse(readFileSync(ckptFile, 'utf8'))
    const segs = (): number => readdirSync(dir).filter((f) => f.startsWith('seg-')).length
    const j = openReadingJournal({ dir, segmentBytes: 4096 })
    for (let i = 1; i <= 300; i++) j.append(batch(i), [])
    j.flush()
    const before = segs()
    j.checkpoint('readings', 100)
    j.checkpoint('rejections', 100)
    // Nothing was written or deleted by the calls themselves (they ran on the event loop).
    expect(readdirSync(dir)).not.toContain('checkpoint.json')
    expect(segs()).toBe(before)
    expect(j.checkpoints()).toEqual({ readings: 100, rejections: 100 })
    // Recorded while the first write is in flight: written after it, newest values only.
    j.checkpoint('readings', 200)
    j.checkpoint('readings', 250)
    j.checkpoint('rejections', 250)
    await j.idle()
    expect(onDisk()).toEqual({ readings: 250, rejections: 250 })
    expect(segs()).toBeLessThan(before)
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([])
    // A checkpoint still pending at close is written by close() itself.
    j.checkpoint('readings', 300)
    j.checkpoint('rejections', 300)
    j.close()
    expect(onDisk()).toEqual({ readings: 300, rejections: 300 })
    await new Promise((r) => setTimeout(r, 50)) // the superseded asynchronous write finishes
    expect(onDisk()).toEqual({ readings: 300, rejections: 300 })
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([])
    const k = openReadingJournal({ dir })
    expect([...k.replay()]).toEqual([])
    expect(k.lastSeq()).toBe(300)
    k.close()
  })
})

describe('reading journal: group commit', () => {
  it('writes every append of one event-loop turn with one write, and durable() resolves after it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'yj-journal-'))
    const j = openReadingJournal({ dir })
    const seg = (): string => join(dir, readdirSync(dir).find((f) => f.startsWith('seg-'))!)
    for (let i = 1; i <= 100; i++) j.append(batch(i), [])
    const d = j.durable()
    expect(readdirSync(dir).filter((f) => f.startsWith('seg-'))).toEqual([]) // nothing written yet in this turn
    await d
    expect(readFileSync(seg(), 'utf8').split('\n').filter(Boolean)).toHaveLength(100)
    await expect(j.durable()).resolves.toBeUndefined() // nothing pending: resolved at once
    j.append(batch(101), [])
    await j.durable()
    expect(readFileSync(seg(), 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { s: number }).s).at(-1)).toBe(101)
    j.close()
  })

  it('shares one write among appends of separate event-loop turns within the group-commit window', async () => {
    // Thousands of gateways: each message arrives in its own turn; a write per turn is a syscall per message.
    const turn = (): Promise<void> => new Promise((r) => setImmediate(r))
    const lines = (dir: string): number => readdirSync(dir).filter((f) => f.startsWith('seg-')).reduce((n, f) => n + readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean).length, 0)
    const dir = mkdtempSync(join(tmpdir(), 'yj-journal-'))
    const j = openReadingJournal({ dir, groupCommitMs: 200 })
    const acks: Promise<void>[] = []
    for (let i = 1; i <= 20; i++) { j.append(batch(i), []); acks.push(j.durable()); await turn() }
    expect(j.writes()).toBe(0) // still inside the window
    await Promise.all(acks)
    expect(j.writes()).toBe(1)
    expect(lines(dir)).toBe(20)
    // A full window is not waited for: 512 entries cut it short.
    const t0 = Date.now()
    for (let i = 0; i < 512; i++) j.append(batch(100 + i), [])
    await j.durable()
    expect(Date.now() - t0).toBeLessThan(150)
    expect(j.writes()).toBe(2)
    j.close()
    // Without a window (0): one write per turn.
    const dir0 = mkdtempSync(join(tmpdir(), 'yj-journal-'))
    const k = openReadingJournal({ dir: dir0, groupCommitMs: 0 })
    for (let i = 1; i <= 20; i++) { k.append(batch(i), []); await k.durable() }
    expect(k.writes()).toBe(20)
    expect(lines(dir0)).toBe(20)
    k.close()
  })

  it('keeps line order when a synchronous flush runs beside the asynchronous group write, and replays across a hole', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'yj-journal-'))
    const j = openReadingJournal({ dir, groupCommitMs: 0 })
    for (let i = 1; i <= 50; i++) j.append(batch(i), [])
    const first = j.durable()
    await new Promise((r) => setImmediate(r)) // the group write is now on the thread pool
    for (let i = 51; i <= 100; i++) j.append(batch(i), [])
    j.flush() // synchronous, beside it: written at the positions after it
    await first
    await j.idle()
    j.close()
    const seg = join(dir, readdirSync(dir).find((f) => f.startsWith('seg-'))!)
    const seqs = readFileSync(seg, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { s: number }).s)
    expect(seqs).toEqual(Array.from({ length: 100 }, (_, i) => i + 1))
    // A crash with the asynchronous write unfinished leaves a hole before the synchronous one's lines.
    const text = readFileSync(seg, 'utf8')
    const cut = text.indexOf('{"s":51,')
    writeFileSync(seg, text.slice(0, text.indexOf('{"s":41,')) + '\0'.repeat(cut - text.indexOf('{"s":41,')) + text.slice(cut))
    const k = openReadingJournal({ dir })
    expect(k.lastSeq()).toBe(100)
    expect([...k.replay()].map((e) => e.seq)).toEqual([...Array.from({ length: 40 }, (_, i) => i + 1), ...Array.from({ length: 50 }, (_, i) => i + 51)])
    k.close()
  })

  it('rejects durable() with STORE_UNAVAILABLE when the write fails, and stays usable for later turns', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'yj-journal-'))
    const j = openReadingJournal({ dir, segmentBytes: 4096 })
    j.append(batch(1), [])
    await j.durable()
    // The next segment cannot be created: a directory already has its name.
    const big = { ...batch(2), items: Array.from({ length: 100 }, (_, i) => ({ sensorId: 'S', type: 'ch4' as const, ts: i, value: i, quality: 'ok' as const })) }
    j.append(big, [])
    await j.durable()
    mkdirSync(join(dir, 'seg-0000000000000003.jsonl'))
    j.append(batch(3), [])
    await expect(j.durable()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' })
    rmdirSync(join(dir, 'seg-0000000000000003.jsonl'))
    j.append(batch(4), [])
    await expect(j.durable()).resolves.toBeUndefined()
    j.close()
  })
})
