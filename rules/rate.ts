// Rate-of-change rule: the rate per minute from the oldest to the newest reading of a sliding window
// (default 60 s), judged by the condition state machine (signed thresholds: negative = a drop).
// No rate is computed until the window spans at least `minSpanMs` of reading time (noise guard).
import type { CompiledRate } from './compile.js'
import { IDLE, stepCondition, type ConditionOutcome, type ConditionState } from './condition.js'

/** Mutable per-sensor window of (ts, value), oldest at `head`. */
export interface RateState {
  ts: number[]
  values: number[]
  head: number
  condition: ConditionState
}

const MAX_WINDOW_ITEMS = 2048
const NONE: ConditionOutcome = Object.freeze({ kind: 'none' })

export function createRateState(): RateState {
  return { ts: [], values: [], head: 0, condition: IDLE }
}

/** Adds a reading (ts must increase) and returns the rate per minute over the window, or null when too short. */
export function pushAndRate(rule: CompiledRate, s: RateState, ts: number, value: number): number | null {
  s.ts.push(ts)
  s.values.push(value)
  const from = ts - rule.windowMs
  while (s.head < s.ts.length - 1 && (s.ts[s.head]! < from || s.ts.length - s.head > MAX_WINDOW_ITEMS)) s.head++
  if (s.head > 256 && s.head * 2 > s.ts.length) {
    s.ts = s.ts.slice(s.head)
    s.values = s.values.slice(s.head)
    s.head = 0
  }
  const span = ts - s.ts[s.head]!
  if (span <= 0 || span < rule.minSpanMs) return null
  return ((value - s.values[s.head]!) * 60_000) / span
}

export interface RateStep { readonly rate: number | null; readonly outcome: ConditionOutcome }

/** Updates the window and the rate condition in place; the outcome is `none` while no rate is known. */
export function stepRate(rule: CompiledRate, s: RateState, ts: number, value: number): RateStep {
  const rate = pushAndRate(rule, s, ts, value)
  if (rate === null) return { rate, outcome: NONE }
  const step = stepCondition(rule, s.condition, rate, ts)
  s.condition = step.state
  return { rate, outcome: step.outcome }
}
