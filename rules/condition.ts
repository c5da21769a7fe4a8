// The level / hysteresis / duration / count state machine of one (sensor, rule), pure:
// (condition, state, value, ts) → (state, outcome). Becomes active after `forMs` of reading time and
// `forCount` consecutive meeting readings; while active follows the reading's level; clears only past `clear`.
import type { WarningLevel } from '../core/contracts/levels.js'
import type { CompiledCondition, LevelThreshold } from './compile.js'

export interface ConditionState {
  readonly active: boolean
  /** Reading time of the first meeting reading of the pending or active episode; NaN when idle. */
  readonly since: number
  /** Consecutive meeting readings of the pending episode (0 when idle). */
  readonly count: number
}

export type ConditionOutcome =
  /** Not met and not active. */
  | { readonly kind: 'none' }
  /** Met, waiting for forSeconds / forCount. */
  | { readonly kind: 'pending'; readonly level: WarningLevel; readonly threshold: number }
  /** Active: `raised` on the reading that made it active; `holding` when the value is between clear and the lowest threshold. */
  | { readonly kind: 'active'; readonly level: WarningLevel; readonly threshold: number; readonly label: string; readonly raised: boolean; readonly holding: boolean }
  /** Cleared by this reading (past `clear`). */
  | { readonly kind: 'cleared'; readonly threshold: number }

export interface ConditionStep { readonly state: ConditionState; readonly outcome: ConditionOutcome }

export const IDLE: ConditionState = Object.freeze({ active: false, since: Number.NaN, count: 0 })
const NONE: ConditionOutcome = Object.freeze({ kind: 'none' })
const IDLE_STEP: ConditionStep = Object.freeze({ state: IDLE, outcome: NONE })

/** The most severe level whose threshold the value meets (≥ for high, ≤ for low), or null. */
export function levelOf(cond: CompiledCondition, value: number): LevelThreshold | null {
  const levels = cond.levels
  if (cond.direction === 'high') {
    for (let i = 0; i < levels.length; i++) { const l = levels[i]!; if (value >= l.value) return l }
  } else {
    for (let i = 0; i < levels.length; i++) { const l = levels[i]!; if (value <= l.value) return l }
  }
  return null
}

/** Strictly past the clear value (below it for high, above it for low). */
export function pastClear(cond: CompiledCondition, value: number): boolean {
  return cond.direction === 'high' ? value < cond.clear : value > cond.clear
}

function active(hit: LevelThreshold, raised: boolean, holding: boolean): ConditionOutcome {
  return { kind: 'active', level: hit.level, threshold: hit.value, label: hit.label, raised, holding }
}

export function stepCondition(cond: CompiledCondition, state: ConditionState, value: number, ts: number): ConditionStep {
  const hit = levelOf(cond, value)
  if (!state.active) {
    if (hit) {
      const since = state.count > 0 ? state.since : ts
      const count = state.count + 1
      if (count >= cond.forCount && ts - since >= cond.forMs) {
        return { state: { active: true, since, count }, outcome: active(hit, true, false) }
      }
      return { state: { active: false, since, count }, outcome: { kind: 'pending', level: hit.level, threshold: hit.value } }
    }
    // Pending and in the hysteresis band: neither counts nor resets the episode.
    if (state.count > 0 && !pastClear(cond, value)) return { state, outcome: NONE }
    return IDLE_STEP
  }
  if (hit) return { state, outcome: active(hit, false, false) }
  if (pastClear(cond, value)) return { state: IDLE, outcome: { kind: 'cleared', threshold: cond.clear } }
  return { state, outcome: active(cond.lowest, false, true) }
}
