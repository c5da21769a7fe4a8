// Inherent (static) risk level of an enterprise from its profile (domain.md "Scoring"): the most
// severe of the declared level, GB 18218 major-hazard level, assessment class and worst LEC point;
// blue when nothing is known. Pure.
import type { Color } from '../contracts/levels.js'
import { COLOR_OF_LEVEL, LEVEL_OF_COLOR, maxLevel } from '../contracts/levels.js'
import type { EnterpriseProfile } from '../contracts/registry.js'
import type { RiskFactor } from '../contracts/risk.js'

/** GB 18218-2018 一级…四级 → red…blue; null / out of range → none. */
export function majorHazardColor(level: number | null | undefined): Color | null {
  if (level === 1 || level === 2 || level === 3 || level === 4) return COLOR_OF_LEVEL[level]
  return null
}

/** Enterprise assessment (100-point deduction): < 60 red, [60, 75) orange, [75, 90) yellow, ≥ 90 blue. */
export function assessmentColor(score: number | null | undefined): Color | null {
  if (score === null || score === undefined || !Number.isFinite(score)) return null
  if (score < 60) return 'red'
  if (score < 75) return 'orange'
  if (score < 90) return 'yellow'
  return 'blue'
}

/** LEC, D = L×E×C: D > 320 red, [160, 320] orange, [70, 160) yellow, [20, 70) blue, < 20 none. */
export function lecColor(d: number | null | undefined): Color | null {
  if (d === null || d === undefined || !Number.isFinite(d)) return null
  if (d > 320) return 'red'
  if (d >= 160) return 'orange'
  if (d >= 70) return 'yellow'
  if (d >= 20) return 'blue'
  return null
}

/** The more severe of two colours (null = none). */
export function maxColor(a: Color | null, b: Color | null): Color | null {
  const l = maxLevel(a === null ? null : LEVEL_OF_COLOR[a], b === null ? null : LEVEL_OF_COLOR[b])
  return l === null ? null : COLOR_OF_LEVEL[l]
}

export interface StaticLevel { level: Color; factors: RiskFactor[] }

export function staticLevel(profile: EnterpriseProfile | undefined): StaticLevel {
  const factors: RiskFactor[] = []
  const declared = profile?.staticRiskLevel ?? null
  if (declared) factors.push({ kind: 'static_profile', level: declared, detail: `declared static risk level ${declared}` })
  const mh = majorHazardColor(profile?.majorHazardLevel)
  if (mh) factors.push({ kind: 'major_hazard', level: mh, detail: `GB 18218 major hazard level ${profile?.majorHazardLevel}` })
  const as = assessmentColor(profile?.assessmentScore)
  if (as) factors.push({ kind: 'assessment', level: as, detail: `assessment score ${profile?.assessmentScore}` })
  const lec = lecColor(profile?.worstLec)
  if (lec) factors.push({ kind: 'lec', level: lec, detail: `worst LEC point D=${profile?.worstLec}` })
  let level: Color | null = null
  for (const f of factors) level = maxColor(level, f.level)
  if (level === null) {
    factors.push({ kind: 'default', level: 'blue', detail: 'no static risk information: default blue' })
    level = 'blue'
  }
  return { level, factors }
}
