// Scoring parameters (a proposal built on the standards, not a national formula — domain.md):
// every number here is a configurable default an administrator should sign off.
import type { Color } from '../contracts/levels.js'

export interface ScoringParams {
  /** Alarm burst: at least this many level-1 (red) warnings raised in `burstWindowMs` raise the level. */
  burstN: number
  burstWindowMs: number
  /** R0 by level: the base of the ranking score. */
  baseScore: Record<Color, number>
  /** R = R0 × (1 + w.alarmPressure·P + w.openHiddenDangers·H + w.offlineRatio·O), each term in [0, 1]. */
  weights: { alarmPressure: number; openHiddenDangers: number; offlineRatio: number }
  /** P = min(1, Σ over not-closed warnings of pressureWeight[level] × (active ? 1 : clearedPressureFactor)). */
  pressureWeight: Record<Color, number>
  clearedPressureFactor: number
  /** H = min(1, openHiddenDangers / hiddenDangerSaturation). */
  hiddenDangerSaturation: number
  /** Region score = max + λ·ln(1 + Σ) over the enterprises of the subtree. */
  lambda: number
  /** At most this many per-warning / per-member factors are listed. */
  maxListedFactors: number
}

export const DEFAULT_SCORING: ScoringParams = {
  burstN: 3,
  burstWindowMs: 24 * 3600_000,
  baseScore: { red: 90, orange: 70, yellow: 50, blue: 25 },
  weights: { alarmPressure: 0.5, openHiddenDangers: 0.2, offlineRatio: 0.3 },
  pressureWeight: { red: 1, orange: 0.6, yellow: 0.3, blue: 0.1 },
  clearedPressureFactor: 0.25,
  hiddenDangerSaturation: 10,
  lambda: 5,
  maxListedFactors: 10,
}

export function scoringParams(over: Partial<ScoringParams> = {}): ScoringParams {
  return {
    ...DEFAULT_SCORING,
    ...over,
    baseScore: { ...DEFAULT_SCORING.baseScore, ...over.baseScore },
    weights: { ...DEFAULT_SCORING.weights, ...over.weights },
    pressureWeight: { ...DEFAULT_SCORING.pressureWeight, ...over.pressureWeight },
  }
}
