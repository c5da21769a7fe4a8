// The pipeline tracker's ring of outstanding-delivery counts, against a Map model of the same rules.
import { describe, expect, it } from 'vitest'
import { createSeqCounts } from './seq-counts.js'

describe('seq counts', () => {
  it('keeps counts by seq across gaps, wrap-around and growth, and retires only the zero-count front', () => {
    const c = createSeqCounts(4)
    c.add(10)
    c.add(11)
    c.add(14) // 12, 13: entries that published nothing
    expect([c.get(10), c.get(12), c.get(14), c.size()]).toEqual([0, undefined, 0, 3])
    c.adjust(11, 2)
    c.adjust(12, 5) // absent: ignored
    expect([c.get(11), c.get(12)]).toEqual([2, undefined])
    expect(c.oldestPending()).toBe(11) // 10 retired
    expect([c.get(10), c.size()]).toEqual([undefined, 2])
    c.add(9) // below the oldest: ignored
    expect(c.get(9)).toBeUndefined()
    c.adjust(11, -5) // never below 0
    expect(c.get(11)).toBe(0)
    expect(c.oldestPending()).toBeUndefined() // 11 and 14 retired
    expect(c.size()).toBe(0)
    c.add(1000) // empty: starts over at any seq
    c.adjust(1000, 1)
    expect(c.oldestPending()).toBe(1000)
  })

  it('agrees with a Map model over a long random run', () => {
    let seed = 7
    const rnd = (): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31 }
    const c = createSeqCounts(2)
    const model = new Map<number, number>() // insertion order = seq order
    let next = 1
    for (let step = 0; step < 20_000; step++) {
      const r = rnd()
      if (r < 0.4) {
        next += rnd() < 0.1 ? 1 + Math.floor(rnd() * 5) : 1
        c.add(next)
        if (!model.has(next)) model.set(next, 0)
      } else if (r < 0.85) {
        const seq = next - Math.floor(rnd() * 40)
        const by = rnd() < 0.5 ? 1 + Math.floor(rnd() * 3) : -1
        c.adjust(seq, by)
        const v = model.get(seq)
        if (v !== undefined) model.set(seq, Math.max(0, v + by))
      } else {
        let expected: number | undefined
        for (const [seq, v] of model) { if (v > 0) { expected = seq; break } model.delete(seq) }
        expect(c.oldestPending()).toBe(expected)
      }
      if (step % 97 === 0) {
        expect(c.size()).toBe(model.size)
        for (let s = next - 50; s <= next; s++) expect(c.get(s)).toBe(model.get(s))
      }
    }
  })
})
