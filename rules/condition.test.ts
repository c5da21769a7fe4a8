import { describe, expect, it } from 'vitest'
import { compileThresholds } from './compile.js'
import { IDLE, levelOf, stepCondition, type ConditionState } from './condition.js'
import type { FlatThresholds } from '../core/contracts/registry.js'

/** Runs readings [value, tsSeconds] and describes each outcome as 'none' | 'pending' | 'A<level>' | 'H<level>' (holding) | 'clear'. */
function run(t: FlatThresholds, readings: readonly (readonly [number, number])[]): string[] {
  const cond = compileThresholds(t).conditions[0]!
  let s: ConditionState = IDLE
  return readings.map(([v, sec]) => {
    const step = stepCondition(cond, s, v, sec * 1000)
    s = step.state
    const o = step.outcome
    if (o.kind === 'active') return `${o.holding ? 'H' : 'A'}${o.level}`
    if (o.kind === 'cleared') return 'clear'
    return o.kind
  })
}

const seq = (...values: number[]) => values.map((v, i) => [v, i] as const)

describe('levelOf', () => {
  const wf = compileThresholds({ orange: 1.0, red: 1.5 }).conditions[0]!
  const o2 = compileThresholds({ orange: 19.5, red: 18, direction: 'low' }).conditions[0]!
  const four = compileThresholds({ blue: 5, yellow: 10, orange: 25, red: 50 }).conditions[0]!
  it.each([
    [wf, 0.99, null], [wf, 1.0, 2], [wf, 1.49, 2], [wf, 1.5, 1], [wf, 7, 1],
    [o2, 19.6, null], [o2, 19.5, 2], [o2, 18.1, 2], [o2, 18, 1], [o2, 0, 1],
    [four, 4.9, null], [four, 5, 4], [four, 10, 3], [four, 24.9, 3], [four, 25, 2], [four, 50, 1],
  ] as const)('%#: value %s → level %s', (cond, v, level) => {
    expect(levelOf(cond, v)?.level ?? null).toBe(level)
  })
})

describe('stepCondition', () => {
  it.each([
    { name: 'working-face methane: rise, escalate, de-escalate, clear below 1.0', t: { orange: 1.0, red: 1.5, clear: 1.0 },
      r: seq(0.8, 1.2, 1.6, 1.2, 1.0, 0.95, 0.5), out: ['none', 'A2', 'A1', 'A2', 'A2', 'clear', 'none'] },
    { name: 'return airway: a crossing is red', t: { red: 1.0, clear: 1.0 }, r: seq(0.99, 1.0, 0.99), out: ['none', 'A1', 'clear'] },
    { name: 'hysteresis: flapping 24.9/25.1 with clear 20 stays active at the lowest level', t: { orange: 25, red: 50, clear: 20 },
      r: seq(25.1, 24.9, 25.1, 24.9, 20, 19.9), out: ['A2', 'H2', 'A2', 'H2', 'H2', 'clear'] },
    { name: 'without clear, flapping raises and clears each time', t: { orange: 25, red: 50 },
      r: seq(25.1, 24.9, 25.1), out: ['A2', 'clear', 'A2'] },
    { name: 'forCount 2: two consecutive readings', t: { blue: 5, yellow: 10, orange: 25, red: 50, forCount: 2 },
      r: seq(30, 4, 30, 55, 55, 12, 8, 4), out: ['pending', 'none', 'pending', 'A1', 'A1', 'A3', 'A4', 'clear'] },
    { name: 'forSeconds 10: measured in reading time', t: { orange: 25, forSeconds: 10 },
      r: [[26, 0], [27, 5], [28, 9.999], [28, 10], [28, 11]], out: ['pending', 'pending', 'pending', 'A2', 'A2'] },
    { name: 'forSeconds: a value past clear restarts the wait', t: { orange: 25, forSeconds: 10 },
      r: [[26, 0], [20, 5], [26, 6], [26, 15], [26, 16]], out: ['pending', 'none', 'pending', 'pending', 'A2'] },
    { name: 'forSeconds: a value in the hysteresis band keeps the pending episode', t: { orange: 25, forSeconds: 10, clear: 20 },
      r: [[26, 0], [24, 5], [26, 10]], out: ['pending', 'none', 'A2'] },
    { name: 'forSeconds and forCount both required', t: { orange: 25, forSeconds: 10, forCount: 3 },
      r: [[26, 0], [26, 20], [26, 21]], out: ['pending', 'pending', 'A2'] },
    { name: 'low direction (oxygen): ≤ orange, clears above', t: { orange: 19.5, red: 18, direction: 'low' },
      r: seq(20.9, 19.5, 17.9, 19.0, 19.6), out: ['none', 'A2', 'A1', 'A2', 'clear'] },
    { name: 'low direction with clear 20: 19.8 holds', t: { orange: 19.5, direction: 'low', clear: 20 },
      r: seq(19.4, 19.8, 20, 20.1), out: ['A2', 'H2', 'H2', 'clear'] },
  ] as const)('$name', ({ t, r, out }) => {
    expect(run(t, r)).toEqual(out)
  })

  it('is pure: the input state is not changed, and an idle non-meeting step allocates no new state', () => {
    const cond = compileThresholds({ orange: 1 }).conditions[0]!
    const s0 = IDLE
    const a = stepCondition(cond, s0, 2, 1000)
    expect(s0).toEqual({ active: false, since: Number.NaN, count: 0 })
    expect(a.state).toEqual({ active: true, since: 1000, count: 1 })
    expect(stepCondition(cond, IDLE, 0.1, 2000).state).toBe(IDLE)
  })
})
