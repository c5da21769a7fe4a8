// Region roll-up, max-based, never an average (a single red site must stay visible): level = the
// most severe member (enterprises directly in the region and child regions); score = max + λ·ln(1 + Σ)
// over the enterprise scores of the whole subtree (so nested regions do not compound); a region with
// no enterprise is blue with score 0. Pure.
import type { Color } from '../contracts/levels.js'
import type { RiskFactor, RiskState } from '../contracts/risk.js'
import { DEFAULT_SCORING, type ScoringParams } from './params.js'
import { maxColor } from './static-level.js'

export interface RegionRollup {
  state: RiskState
  /** Highest enterprise score in the subtree. */
  maxScore: number
  /** Sum of enterprise scores in the subtree. */
  sumScores: number
}

type Counts = { red: number; orange: number; yellow: number; blue: number }
const round2 = (x: number): number => Math.round(x * 100) / 100

export function rollUpRegion(
  regionId: string,
  enterprises: readonly RiskState[],
  children: readonly RegionRollup[],
  now: number,
  params: Pick<ScoringParams, 'lambda' | 'maxListedFactors'> = DEFAULT_SCORING,
): RegionRollup {
  const counts: Counts = { red: 0, orange: 0, yellow: 0, blue: 0 }
  let level: Color | null = null
  let maxScore = 0
  let sumScores = 0
  let openWarnings = 0
  const members: { kind: string; id: string; level: Color; score: number }[] = []
  for (const e of enterprises) {
    counts[e.riskLevel]++
    level = maxColor(level, e.riskLevel)
    maxScore = Math.max(maxScore, e.score)
    sumScores += e.score
    openWarnings += e.openWarnings
    members.push({ kind: 'enterprise', id: e.id, level: e.riskLevel, score: e.score })
  }
  for (const c of children) {
    const cc = c.state.counts
    if (cc) { counts.red += cc.red; counts.orange += cc.orange; counts.yellow += cc.yellow; counts.blue += cc.blue }
    level = maxColor(level, c.state.riskLevel)
    maxScore = Math.max(maxScore, c.maxScore)
    sumScores += c.sumScores
    openWarnings += c.state.openWarnings
    members.push({ kind: 'region', id: c.state.id, level: c.state.riskLevel, score: c.state.score })
  }
  const riskLevel: Color = level ?? 'blue'
  const factors: RiskFactor[] = members
    .filter((m) => m.level === riskLevel)
    .sort((a, b) => b.score - a.score)
    .slice(0, params.maxListedFactors)
    .map((m) => ({ kind: 'member', level: m.level, detail: `${m.kind} ${m.id} is ${m.level}`, ref: m.id }))
  if (!members.length) factors.push({ kind: 'default', level: 'blue', detail: 'no enterprise in this region' })
  const score = members.length ? maxScore + params.lambda * Math.log(1 + sumScores) : 0
  return {
    state: { kind: 'region', id: regionId, riskLevel, score: round2(score), factors, counts, openWarnings, at: now },
    maxScore,
    sumScores,
  }
}

