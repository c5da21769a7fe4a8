// Read models the routes and the socket pushes share: region and enterprise summaries (risk from the
// latest RiskState, else derived from the registry profile and live warnings), enterprise detail,
// header stats and effective thresholds. Pure functions of the registry, the live view and a time.
import { COLOR_OF_LEVEL, COLORS, LEVEL_OF_COLOR, type Color } from '../../core/contracts/levels.js'
import type { Enterprise, Region, Sensor, Thresholds } from '../../core/contracts/registry.js'
import type { RiskFactor } from '../../core/contracts/risk.js'
import type { LevelCounts, RegionSummary } from '../../core/contracts/api.js'
import type { StatsPush } from '../../core/contracts/socket-events.js'
import type { Warning } from '../../core/contracts/warning.js'
import { iso } from '../../core/contracts/time.js'
import type { RegistryIndex } from '../../core/registry/registry-index.js'
import { compareWarnings } from '../../core/store/query-rules.js'
import type { Jurisdiction } from './jurisdiction.js'
import type { LiveView } from './live-view.js'
import type { EnterpriseLevelIndex } from './enterprise-level-index.js'

const zeroCounts = (): LevelCounts => ({ red: 0, orange: 0, yellow: 0, blue: 0 })
const worse = (a: Color, b: Color): Color => (LEVEL_OF_COLOR[a] <= LEVEL_OF_COLOR[b] ? a : b)

export interface EnterpriseRisk {
  riskLevel: Color
  score: number
  staticLevel: Color | null
  dynamicLevel: Color | null
  factors: RiskFactor[]
  openWarnings: number
  at: string | null
}

/** Not-closed warnings grouped by enterprise (one pass). */
export function warningsByEnterprise(live: LiveView): Map<string, Warning[]> {
  const m = new Map<string, Warning[]>()
  for (const w of live.warnings()) {
    const arr = m.get(w.enterpriseId)
    if (arr) arr.push(w)
    else m.set(w.enterpriseId, [w])
  }
  return m
}

/** Just the level of enterpriseRisk (no factors, no dates): what the header stats count (through the
 *  enterprise level index, which calls this for the enterprises whose warnings or risk changed). */
export function enterpriseRiskLevel(live: LiveView, e: Enterprise, open: readonly Warning[] | undefined): Color {
  const st = live.risk('enterprise', e.id)
  if (st) return st.riskLevel
  return fallbackLevel(e.profile?.staticRiskLevel ?? null, worstActiveLevel(open ?? []))
}

/** The worst colour among active warnings, or null. */
function worstActiveLevel(open: readonly Warning[]): Color | null {
  let dynamic: Color | null = null
  for (const w of open) {
    if (!w.active || w.currentLevel === null) continue
    const c = COLOR_OF_LEVEL[w.currentLevel]
    dynamic = dynamic ? worse(dynamic, c) : c
  }
  return dynamic
}

/** An enterprise's level without a published risk state: the worse of its profile and its warnings. */
const fallbackLevel = (staticLevel: Color | null, dynamic: Color | null): Color =>
  (staticLevel && dynamic ? worse(staticLevel, dynamic) : (dynamic ?? staticLevel ?? 'blue'))

export function enterpriseRisk(live: LiveView, e: Enterprise, open: readonly Warning[]): EnterpriseRisk {
  const st = live.risk('enterprise', e.id)
  const staticLevel = e.profile?.staticRiskLevel ?? null
  if (st) {
    return {
      riskLevel: st.riskLevel, score: st.score, staticLevel: st.staticLevel ?? staticLevel, dynamicLevel: st.dynamicLevel ?? null,
      factors: st.factors, openWarnings: open.length, at: iso(st.at),
    }
  }
  // No risk state yet (rules not running or not yet published): the profile and the active warnings.
  const factors: RiskFactor[] = []
  if (staticLevel) factors.push({ kind: 'static_profile', level: staticLevel, detail: 'registered static risk level' })
  for (const w of open) {
    if (w.active && w.currentLevel !== null) factors.push({ kind: 'warning', level: COLOR_OF_LEVEL[w.currentLevel], detail: w.title, ref: w.id })
  }
  const dynamic = worstActiveLevel(open)
  return { riskLevel: fallbackLevel(staticLevel, dynamic), score: 0, staticLevel, dynamicLevel: dynamic, factors, openWarnings: open.length, at: null }
}

export interface EnterpriseSummary {
  id: string
  name: string
  industry: Enterprise['industry']
  regionId: string
  location: Enterprise['location']
  riskLevel: Color
  score: number
  staticLevel: Color | null
  openWarnings: number
  sensors: number
}

export function enterpriseSummary(idx: RegistryIndex, live: LiveView, e: Enterprise, open: readonly Warning[]): EnterpriseSummary {
  const r = enterpriseRisk(live, e, open)
  return {
    id: e.id, name: e.name, industry: e.industry, regionId: e.regionId, location: e.location,
    riskLevel: r.riskLevel, score: r.score, staticLevel: r.staticLevel, openWarnings: open.length,
    sensors: idx.sensorsByEnterprise.get(e.id)?.length ?? 0,
  }
}

/** Counts per region subtree: enterprises by level, not-closed warnings. */
export function regionAggregates(idx: RegistryIndex, live: LiveView): Map<string, { counts: LevelCounts; openWarnings: number }> {
  const out = new Map<string, { counts: LevelCounts; openWarnings: number }>()
  const get = (id: string): { counts: LevelCounts; openWarnings: number } => {
    let a = out.get(id)
    if (!a) { a = { counts: zeroCounts(), openWarnings: 0 }; out.set(id, a) }
    return a
  }
  const byEnt = warningsByEnterprise(live)
  for (const e of idx.enterprises.values()) {
    const level = enterpriseRisk(live, e, byEnt.get(e.id) ?? []).riskLevel
    for (const r of idx.ancestors(e.regionId)) get(r.id).counts[level]++
  }
  for (const w of live.warnings()) for (const r of idx.ancestors(w.regionId)) get(r.id).openWarnings++
  return out
}

export function regionSummary(region: Region, live: LiveView, agg: Map<string, { counts: LevelCounts; openWarnings: number }>): RegionSummary {
  const a = agg.get(region.id) ?? { counts: zeroCounts(), openWarnings: 0 }
  const st = live.risk('region', region.id)
  const counts = st?.counts ?? a.counts
  let derived: Color = 'blue'
  for (const c of COLORS) if (counts[c] > 0) { derived = c; break }
  return {
    id: region.id,
    name: region.name,
    level: region.level,
    parentId: region.parentId ?? null,
    riskLevel: st?.riskLevel ?? derived,
    score: st?.score ?? 0,
    counts,
    openWarnings: st ? st.openWarnings : a.openWarnings,
  }
}

export type EffectiveThresholds = { source: 'sensor' | 'enterprise' | 'region'; key?: string; regionId?: string; thresholds: Thresholds } | { source: 'catalogue'; thresholds: null }

/** The thresholds registered for a sensor, most specific first: sensor > enterprise > nearest region
 * (key "<type>:<role>" before "<type>"); `catalogue` when only the rules catalogue default applies. */
export function effectiveThresholds(idx: RegistryIndex, s: Sensor): EffectiveThresholds {
  if (s.thresholds) return { source: 'sensor', thresholds: s.thresholds }
  const keys = s.role ? [`${s.type}:${s.role}`, s.type] : [s.type]
  const e = idx.enterprises.get(s.enterpriseId)
  if (e?.thresholds) for (const k of keys) { const t = e.thresholds[k]; if (t) return { source: 'enterprise', key: k, thresholds: t } }
  if (e) {
    for (const r of idx.ancestors(e.regionId)) {
      if (!r.thresholds) continue
      for (const k of keys) { const t = r.thresholds[k]; if (t) return { source: 'region', key: k, regionId: r.id, thresholds: t } }
    }
  }
  return { source: 'catalogue', thresholds: null }
}

export function sensorView(idx: RegistryIndex, live: LiveView, s: Sensor): Record<string, unknown> {
  const l = live.latest(s.id)
  const st = live.sensorState(s.id)
  return {
    ...s,
    thresholds: s.thresholds ?? null,
    effectiveThresholds: effectiveThresholds(idx, s),
    gatewayId: idx.gatewayOf(s)?.id ?? null,
    latest: l ? { value: l.value, ts: iso(l.ts), quality: l.quality, receivedAt: iso(l.receivedAt) } : null,
    value: l?.value ?? null,
    ts: l ? iso(l.ts) : null,
    quality: l?.quality ?? null,
    state: st.state,
    level: st.state === 'alarm' ? st.level : null,
    color: st.state === 'alarm' ? COLOR_OF_LEVEL[st.level] : null,
  }
}

/** Most severe first, then newest raisedAt (the stores' own order). */
export { compareWarnings }

export function enterpriseDetail(idx: RegistryIndex, live: LiveView, e: Enterprise): Record<string, unknown> {
  const open = [...live.warnings()].filter((w) => w.enterpriseId === e.id).sort(compareWarnings)
  const risk = enterpriseRisk(live, e, open)
  const region = idx.regions.get(e.regionId)
  return {
    id: e.id,
    name: e.name,
    industry: e.industry,
    regionId: e.regionId,
    location: e.location,
    profile: e.profile ?? {},
    contacts: e.contacts ?? [],
    region: region ? { id: region.id, name: region.name, level: region.level, path: idx.ancestors(region.id).map((r) => ({ id: r.id, name: r.name, level: r.level })).reverse() } : null,
    thresholds: e.thresholds ?? null,
    risk,
    riskLevel: risk.riskLevel,
    score: risk.score,
    sensors: (idx.sensorsByEnterprise.get(e.id) ?? []).map((s) => sensorView(idx, live, s)),
    gateways: (idx.gatewaysByEnterprise.get(e.id) ?? []).map((g) => ({ id: g.id, maxSilenceSeconds: g.maxSilenceSeconds ?? null })),
    openWarnings: open,
  }
}

export function statsFor(live: LiveView, levels: EnterpriseLevelIndex, j: Jurisdiction, now: number): StatsPush {
  const enterprises = levels.counts(j)
  const openWarnings = zeroCounts()
  let overdue = 0
  for (const w of live.warnings()) {
    if (!j.seesWarning(w)) continue
    openWarnings[COLOR_OF_LEVEL[w.level]]++
    if (w.status === 'open' && Date.parse(w.ackDeadline) < now) overdue++
  }
  let sensorsOffline = 0
  for (const sid of live.offlineSensors().keys()) if (j.seesSensor(sid)) sensorsOffline++
  const rps = live.readingsPerSecond(j.visibleEnterpriseIds())
  return { readingsPerSecond: Math.round(rps * 10) / 10, sensorsOffline, openWarnings, overdue, enterprises }
}
