// The journal's line codec: every batch comes back exactly as it went in, in both forms, and a line
// whose columns do not fit together is refused (replay counts it as unreadable) instead of misread.
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { QUALITIES, type Reading, type ReadingBatch, type Rejection } from '../core/contracts/reading.js'
import { COLUMNAR_MIN_ITEMS, decodeEntry, encodeEntry, seqOfLine } from './journal-codec.js'
import { openReadingJournal } from './reading-journal.js'

const readingArb: fc.Arbitrary<Reading> = fc.record({
  sensorId: fc.string({ minLength: 1, maxLength: 40 }),
  type: fc.constantFrom('ch4', 'co', 'pipe_pressure', 'water_level'),
  ts: fc.integer({ min: 0, max: 4_102_444_800_000 }),
  value: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }).filter((v) => !Object.is(v, -0)), fc.integer({ min: -1e6, max: 1e6 }).map((i) => i / 1000)),
  quality: fc.constantFrom(...QUALITIES),
  seq: fc.option(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), { nil: undefined }),
}).map((r) => { const out: Reading = { sensorId: r.sensorId, type: r.type as Reading['type'], ts: r.ts, value: r.value, quality: r.quality }; if (r.seq !== undefined) out.seq = r.seq; return out })

const batchArb: fc.Arbitrary<ReadingBatch> = fc.record({
  enterpriseId: fc.string({ minLength: 1, maxLength: 20 }),
  gatewayId: fc.string({ minLength: 1, maxLength: 20 }),
  receivedAt: fc.integer({ min: 0, max: 4_102_444_800_000 }),
  items: fc.array(readingArb, { minLength: 1, maxLength: 60 }),
})

const rejection = (id: string): Rejection => ({ id, at: 5, reason: 'unknown_sensor', message: 'sensorId "X" is not registered', topic: 'sensors/E1', raw: '{"sensorId":"X"}', index: 3 })

describe('journal line codec', () => {
  it('round-trips any batch exactly, columnar from COLUMNAR_MIN_ITEMS readings on', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 2 ** 40 }), batchArb, fc.boolean(), (seq, batch, withRejection) => {
      const rejections = withRejection ? [rejection('rj-1')] : []
      const line = encodeEntry(seq, batch, rejections)
      expect(line.endsWith('\n')).toBe(true)
      expect(line.indexOf('\n')).toBe(line.length - 1) // one line, whatever the strings hold
      expect(line.includes('"c":{')).toBe(batch.items.length >= COLUMNAR_MIN_ITEMS)
      expect(decodeEntry(line.slice(0, -1))).toEqual({ seq, batch, rejections })
      expect(seqOfLine(line.slice(0, -1))).toBe(seq)
    }), { numRuns: 300 })
  })

  it('writes a batch of 100 in fewer bytes than its JSON, and a rejection-only entry as before', () => {
    const items: Reading[] = Array.from({ length: 100 }, (_, i) => ({ sensorId: `E1-S${i}`, type: 'ch4', ts: 1_764_400_000_000 + i, value: i / 7, quality: 'ok', seq: i }))
    const batch: ReadingBatch = { enterpriseId: 'E1', gatewayId: 'gw-E1', receivedAt: 1_764_400_000_123, items }
    const line = encodeEntry(9, batch, [])
    expect(line.length).toBeLessThan(0.75 * JSON.stringify({ s: 9, b: batch, r: [] }).length)
    expect(decodeEntry(line.trim())!.batch).toEqual(batch)
    expect(decodeEntry(encodeEntry(10, null, [rejection('a')]).trim())).toEqual({ seq: 10, batch: null, rejections: [rejection('a')] })
  })

  it('refuses columns that do not fit together', () => {
    const items: Reading[] = Array.from({ length: 10 }, (_, i) => ({ sensorId: `S${i}`, type: 'co', ts: i, value: i, quality: 'ok' }))
    const line = encodeEntry(3, { enterpriseId: 'E1', gatewayId: 'g', receivedAt: 1, items }, []).trim()
    const j = JSON.parse(line) as { c: { id: string[]; q: string; f: string } }
    const broken = [
      { ...j, c: { ...j.c, id: j.c.id.slice(1) } },
      { ...j, c: { ...j.c, q: Buffer.from([0, 1, 2]).toString('base64') } },
      { ...j, c: { ...j.c, f: j.c.f.slice(0, 40) } },
      { ...j, c: { ...j.c, q: Buffer.alloc(10, 9).toString('base64') } }, // no such quality
      { ...j, c: 'nope' },
    ]
    for (const b of broken) expect(decodeEntry(JSON.stringify(b))).toBeUndefined()
    expect(decodeEntry('{"s":1,"c":')).toBeUndefined()
  })

  it('a journal written with columnar batches replays them exactly after reopening', () => {
    const dir = mkdtempSync(join(tmpdir(), 'yj-journal-codec-'))
    const j = openReadingJournal({ dir })
    const batches: ReadingBatch[] = Array.from({ length: 5 }, (_, k) => ({ enterpriseId: `E${k}`, gatewayId: `gw${k}`, receivedAt: 1000 + k,
      items: Array.from({ length: 1 + k * 20 }, (_, i) => ({ sensorId: `E${k}-S${i}`, type: 'ch4', ts: 2000 + i, value: Math.PI * i, quality: QUALITIES[i % 4]!, ...(i % 3 ? { seq: i } : {}) })) }))
    for (const b of batches) j.append(b, [])
    j.close()
    expect(readFileSync(join(dir, readdirSync(dir).find((f) => f.startsWith('seg-'))!), 'utf8')).toContain('"c":{')
    const k = openReadingJournal({ dir })
    expect(k.lastSeq()).toBe(5)
    expect([...k.replay()].map((e) => e.batch)).toEqual(batches)
    k.close()
  })
})
