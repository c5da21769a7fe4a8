// The soak script's trend arithmetic (the soak itself is a long script, not a test).
import { describe, expect, it } from 'vitest'
import { slope, trend, type SoakSample } from './soak.js'

const sample = (atS: number, heapMB: number): SoakSample => ({ atS, rssMB: 300, heapMB, handles: 40, fds: 60, eventLoopLagP99Ms: 10, acceptedPerSec: 5000, busLag: 0, historyBuffered: 0, warningP50Ms: 3, warningP99Ms: 9 })

describe('soak trends', () => {
  it('fits a least-squares slope', () => {
    expect(slope([0, 1, 2, 3], [1, 3, 5, 7])).toBeCloseTo(2)
    expect(slope([0, 1, 2], [5, 5, 5])).toBe(0)
    expect(slope([1], [9])).toBe(0)
  })

  it('reports growth per hour of a series sampled in seconds', () => {
    // heap grows 1 MB every 360 s = 10 MB/h
    const t = trend([0, 360, 720, 1080].map((s, i) => sample(s, 100 + i)), 'heapMB')
    expect(t).toEqual({ first: 100, last: 103, min: 100, max: 103, slopePerHour: 10, growthPct: 3 })
    expect(trend([0, 30, 60].map((s) => sample(s, 80)), 'heapMB').slopePerHour).toBe(0)
  })
})
