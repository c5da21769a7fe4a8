// The ingest journal: sequence continuity across reopen, replay after the lowest checkpoint, torn
// final lines, rotation and deletion of fully checkpointed segments.
import { appendFileSync, mkdtempSync, readdirSync } from 'node:fs'
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

  it('rotates segments and deletes those fully below both checkpoints', () => {
    const dir = mkdtempSync(join(tmpdir(), 'yj-journal-'))
    const j = openReadingJournal({ dir, segmentBytes: 4096 })
    for (let i = 1; i <= 200; i++) j.append(batch(i), [])
    const before = j.segments().length
    expect(before).toBeGreaterThan(3)
    j.checkpoint('readings', 150)
    expect(j.segments().length).toBe(before) // rejections still at 0
    j.checkpoint('rejections', 200)
    const after = j.segments()
    expect(after.length).toBeLessThan(before)
    expect([...j.replay()].map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 151 + i))
    j.checkpoint('readings', 200)
    expect(j.segments()).toHaveLength(1) // the segment being written stays
    expect(j.checkpoints()).toEqual({ readings: 200, rejections: 200 })
  })
})
