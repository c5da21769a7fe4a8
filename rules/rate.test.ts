import { describe, expect, it } from 'vitest'
import { compileRate } from './compile.js'
import { createRateState, pushAndRate, stepRate } from './rate.js'

describe('rate of change', () => {
  const drop = compileRate({ orange: -0.05, red: -0.2 })!

  it.each([
    // readings [value, tsSeconds], expected rate per minute after the last one (null = window too short)
    { name: 'one reading: no rate', r: [[0.4, 0]], rate: null },
    { name: 'span below a quarter of the window: no rate', r: [[0.4, 0], [0.3, 10]], rate: null },
    { name: 'steady', r: [[0.4, 0], [0.4, 30], [0.4, 60]], rate: 0 },
    { name: 'drop of 0.06 over 60 s', r: [[0.40, 0], [0.37, 30], [0.34, 60]], rate: -0.06 },
    { name: 'oldest reading past the window is dropped', r: [[1.0, 0], [0.40, 30], [0.37, 60], [0.34, 90]], rate: -0.06 },
    { name: 'rise over 20 s counts per minute', r: [[0.10, 0], [0.11, 20]], rate: 0.03 },
  ] as const)('$name', ({ r, rate }) => {
    const s = createRateState()
    let got: number | null = null
    for (const [v, sec] of r) got = pushAndRate(drop, s, sec * 1000, v)
    if (rate === null) expect(got).toBeNull()
    else expect(got).toBeCloseTo(rate, 9)
  })

  it.each([
    { name: 'pipe pressure drop: orange, then red, then back within the lowest threshold clears', rule: drop,
      r: [[0.40, 0], [0.40, 30], [0.34, 60], [0.20, 90], [0.20, 120], [0.20, 150], [0.20, 180]],
      // rates: 0, -0.06, -0.2 (0.40→0.20 over 30..90), -0.14 (0.34→0.20), 0
      out: ['none', 'none', 'A2', 'A1', 'A2', 'clear', 'none'] },
    { name: 'crack growth (positive rate)', rule: compileRate({ orange: 0.01 })!,
      r: [[0.20, 0], [0.20, 30], [0.215, 60], [0.215, 90], [0.215, 120]], out: ['none', 'none', 'A2', 'A2', 'clear'] },
  ] as const)('$name', ({ rule, r, out }) => {
    const s = createRateState()
    const got = r.map(([v, sec]) => {
      const step = stepRate(rule, s, sec * 1000, v)
      const o = step.outcome
      return o.kind === 'active' ? `A${o.level}` : o.kind === 'cleared' ? 'clear' : o.kind
    })
    expect(got).toEqual(out)
  })

  it('keeps the window bounded for a fast sensor', () => {
    const s = createRateState()
    for (let i = 0; i < 20_000; i++) pushAndRate(drop, s, i * 10, 1) // 100 Hz for 200 s
    expect(s.ts.length - s.head).toBeLessThanOrEqual(6001)
    expect(s.ts.length).toBeLessThan(20_000)
  })
})
