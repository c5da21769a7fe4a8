// Outstanding-delivery counts by journal sequence number, oldest first: a ring of integers indexed by
// seq − base instead of a Map entry per message. The pipeline tracker keeps every journal entry here
// from ingest until the next history checkpoint (hundreds of milliseconds): as Map entries they outlive
// two young-generation GCs and are promoted at thousands a second, and the Map's tables are
// reallocated as it grows and shrinks; the ring is one typed array, reused.
// Seqs are added in increasing order (gaps allowed: entries that publish nothing are never added).

const ABSENT = -1

export interface SeqCounts {
  /** Adds `seq` with count 0 if it is not present (seqs below the oldest present one are ignored). */
  add(seq: number): void
  /** Its count, or undefined when not present. */
  get(seq: number): number | undefined
  /** Adds `by` to a present seq's count (never below 0); absent seqs are ignored. */
  adjust(seq: number, by: number): void
  /** Retires every seq at the front whose count is 0 and returns the oldest seq still counting, or
   *  undefined when none is left. */
  oldestPending(): number | undefined
  /** Seqs present. */
  size(): number
}

export function createSeqCounts(initialCapacity = 1024): SeqCounts {
  let cap = 1
  while (cap < initialCapacity) cap *= 2
  let ring = new Int32Array(cap).fill(ABSENT)
  let head = 0 // ring index of `base`
  let base = 0 // seq at ring[head]
  let len = 0 // seqs base … base + len − 1 are covered (present or ABSENT)
  let present = 0

  const at = (seq: number): number => (head + (seq - base)) & (cap - 1)
  function grow(need: number): void {
    let c = cap
    while (c < need) c *= 2
    const next = new Int32Array(c).fill(ABSENT)
    for (let i = 0; i < len; i++) next[i] = ring[(head + i) & (cap - 1)]!
    ring = next
    cap = c
    head = 0
  }

  return {
    add(seq) {
      if (len === 0) { base = seq; head = 0; len = 1; ring[0] = 0; present++; return }
      if (seq < base) return
      const off = seq - base
      if (off >= len) {
        if (off + 1 > cap) grow(off + 1)
        for (let i = len; i < off; i++) ring[(head + i) & (cap - 1)] = ABSENT
        len = off + 1
        ring[at(seq)] = 0
        present++
        return
      }
      const i = at(seq)
      if (ring[i] === ABSENT) { ring[i] = 0; present++ }
    },
    get(seq) {
      if (seq < base || seq >= base + len) return undefined
      const v = ring[at(seq)]!
      return v === ABSENT ? undefined : v
    },
    adjust(seq, by) {
      if (seq < base || seq >= base + len) return
      const i = at(seq)
      const v = ring[i]!
      if (v === ABSENT) return
      ring[i] = Math.max(0, v + by)
    },
    oldestPending() {
      while (len > 0) {
        const v = ring[head]!
        if (v > 0) return base
        if (v === 0) present--
        ring[head] = ABSENT
        head = (head + 1) & (cap - 1)
        base++
        len--
      }
      return undefined
    },
    size: () => present,
  }
}
