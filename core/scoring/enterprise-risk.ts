// Risk of one enterprise (domain.md "Scoring"): level = max(static, dynamic + upgrade) where dynamic
// is the most severe warning whose condition is ACTIVE and the upgrade (one level, capped at red) is
// an overdue major hidden danger, a silent key sensor / gateway, or an alarm burst. Pure.
import type { Color } from '../contracts/levels.js'
import { COLOR_OF_LEVEL, LEVEL_OF_COLOR, raiseLevel } from '../contracts/levels.js'
import type { Enterprise } from '../contracts/registry.js'
import type { RiskFactor, RiskState } from '../contracts/risk.js'
import type { Warning } from '../contracts/warning.js'
import { DEFAULT_SCORING, type ScoringParams } from './params.js'
import { maxColor, staticLevel } from './static-level.js'

/** The fields of a warning that scoring reads. */
export type ScoredWarning = Pick<Warning, 'id' | 'level' | 'status' | 'active' | 'kind' | 'ruleId' | 'title'> &
  Partial<Pick<Warning, 'sensorId' | 'gatewayId'>>

export interface ScoredSensor { id: string; key?: boolean; /** The gateway the sensor reports through. */ gatewayId?: string }

export interface EnterpriseRiskInput {
  enterprise: Pick<Enterprise, 'id' | 'profile'>
  sensors: readonly ScoredSensor[]
  /** The enterprise's warnings; closed ones are ignored. */
  warnings: readonly ScoredWarning[]
  /** Level-1 warnings raised within the burst window (closed ones included). */
  level1Raised: number
  now: number
}

/** A gateway-offline warning: an offline warning about no single sensor. */
export function isGatewayOffline(w: ScoredWarning): boolean {
  return w.kind === 'offline' && !w.sensorId && (w.gatewayId !== undefined || w.ruleId.includes('gateway'))
}

const round2 = (x: number): number => Math.round(x * 100) / 100

export function scoreEnterprise(input: EnterpriseRiskInput, params: ScoringParams = DEFAULT_SCORING): RiskState {
  const { enterprise, sensors, now } = input
  const st = staticLevel(enterprise.profile)
  const factors: RiskFactor[] = [...st.factors]
  const open = input.warnings.filter((w) => w.status !== 'closed')
  const active = open.filter((w) => w.active)

  // dynamic level: most severe active warning (its episode level)
  let dynamic: Color | null = null
  const byLevel = [...active].sort((a, b) => a.level - b.level)
  for (const w of byLevel) dynamic = maxColor(dynamic, COLOR_OF_LEVEL[w.level])
  byLevel.slice(0, params.maxListedFactors).forEach((w) => {
    factors.push({ kind: 'warning', level: COLOR_OF_LEVEL[w.level], detail: `active warning: ${w.title}`, ref: w.id })
  })
  const cleared = open.length - active.length
  if (cleared > 0) factors.push({ kind: 'cleared_warnings', level: null, detail: `${cleared} cleared warning(s) not yet closed (counted, not coloured)` })

  // offline sensors and gateways
  const keyIds = new Set(sensors.filter((s) => s.key).map((s) => s.id))
  const offline = new Set<string>()
  let keyOffline: ScoredWarning | undefined
  for (const w of active) {
    if (w.kind !== 'offline') continue
    if (w.sensorId) {
      offline.add(w.sensorId)
      if (keyIds.has(w.sensorId)) keyOffline ??= w
    } else if (isGatewayOffline(w)) {
      keyOffline ??= w
      for (const s of sensors) if (w.gatewayId === undefined || s.gatewayId === w.gatewayId) offline.add(s.id)
    }
  }
  const offlineRatio = sensors.length ? Math.min(1, offline.size / sensors.length) : 0

  // upgrades (one level at most)
  const upgrades: RiskFactor[] = []
  const overdue = enterprise.profile?.overdueMajorHiddenDangers ?? 0
  if (overdue > 0) upgrades.push({ kind: 'overdue_hidden_danger', level: null, detail: `${overdue} overdue major hidden danger(s): +1 level` })
  if (keyOffline) {
    upgrades.push({
      kind: 'offline_key_sensor', level: null, ref: keyOffline.id,
      detail: keyOffline.sensorId ? `key sensor ${keyOffline.sensorId} offline: +1 level` : `gateway ${keyOffline.gatewayId ?? '(all sensors)'} offline: +1 level`,
    })
  }
  if (input.level1Raised >= params.burstN) {
    upgrades.push({ kind: 'alarm_burst', level: null, detail: `${input.level1Raised} level-1 warnings in ${Math.round(params.burstWindowMs / 3600_000)} h (≥ ${params.burstN}): +1 level` })
  }
  let dynamicUp: Color | null = dynamic
  if (upgrades.length) {
    // With no active warning the upgrade applies to the static level: an overdue major hidden
    // danger must show even on a quiet day.
    const base = LEVEL_OF_COLOR[dynamic ?? st.level]
    dynamicUp = COLOR_OF_LEVEL[raiseLevel(base)]
    for (const u of upgrades) factors.push({ ...u, level: dynamicUp })
  }
  const level = maxColor(st.level, dynamicUp) ?? 'blue'

  // ranking score
  let pressure = 0
  for (const w of open) pressure += params.pressureWeight[COLOR_OF_LEVEL[w.level]] * (w.active ? 1 : params.clearedPressureFactor)
  pressure = Math.min(1, pressure)
  const hidden = Math.min(1, (enterprise.profile?.openHiddenDangers ?? 0) / params.hiddenDangerSaturation)
  const w = params.weights
  const score = params.baseScore[level] * (1 + w.alarmPressure * pressure + w.openHiddenDangers * hidden + w.offlineRatio * offlineRatio)

  return {
    kind: 'enterprise',
    id: enterprise.id,
    riskLevel: level,
    score: round2(score),
    staticLevel: st.level,
    dynamicLevel: dynamicUp,
    factors,
    openWarnings: open.length,
    at: now,
  }
}
