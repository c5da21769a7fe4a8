// Risk over a registry: scores enterprises and rolls regions up (children before parents), either
// everything at once or one enterprise and its ancestor chain. Pure apart from reading the maps passed in.
import type { RiskState } from '../contracts/risk.js'
import type { RegistryIndex } from '../registry/registry-index.js'
import { scoreEnterprise, type ScoredWarning } from './enterprise-risk.js'
import { DEFAULT_SCORING, type ScoringParams } from './params.js'
import { rollUpRegion, type RegionRollup } from './region-rollup.js'

export interface RiskInputs {
  /** Not-closed warnings by enterprise id. */
  warnings(enterpriseId: string): readonly ScoredWarning[]
  /** Level-1 warnings raised within the burst window, by enterprise id. */
  level1Raised(enterpriseId: string): number
}

export function scoreRegistryEnterprise(
  reg: RegistryIndex, enterpriseId: string, inputs: RiskInputs, now: number, params: ScoringParams = DEFAULT_SCORING,
): RiskState | undefined {
  const enterprise = reg.enterprises.get(enterpriseId)
  if (!enterprise) return undefined
  const sensors = (reg.sensorsByEnterprise.get(enterpriseId) ?? []).map((s) => ({ id: s.id, key: s.key, gatewayId: reg.gatewayOf(s)?.id }))
  return scoreEnterprise({ enterprise, sensors, warnings: inputs.warnings(enterpriseId), level1Raised: inputs.level1Raised(enterpriseId), now }, params)
}

/** Roll one region up from the current states of its direct enterprises and child regions. */
export function rollUpRegistryRegion(
  reg: RegistryIndex, regionId: string, enterprises: ReadonlyMap<string, RiskState>, regions: ReadonlyMap<string, RegionRollup>,
  now: number, params: ScoringParams = DEFAULT_SCORING,
): RegionRollup {
  const es: RiskState[] = []
  for (const e of reg.enterprisesByRegion.get(regionId) ?? []) { const s = enterprises.get(e.id); if (s) es.push(s) }
  const cs: RegionRollup[] = []
  for (const c of reg.childRegions.get(regionId) ?? []) { const r = regions.get(c); if (r) cs.push(r) }
  return rollUpRegion(regionId, es, cs, now, params)
}

export interface RiskSnapshot { enterprises: Map<string, RiskState>; regions: Map<string, RegionRollup> }

/** Everything: every enterprise, then every region, children before parents. */
export function computeRegistryRisk(reg: RegistryIndex, inputs: RiskInputs, now: number, params: ScoringParams = DEFAULT_SCORING): RiskSnapshot {
  const enterprises = new Map<string, RiskState>()
  for (const id of reg.enterprises.keys()) { const s = scoreRegistryEnterprise(reg, id, inputs, now, params); if (s) enterprises.set(id, s) }
  const regions = new Map<string, RegionRollup>()
  for (const id of regionsBottomUp(reg)) regions.set(id, rollUpRegistryRegion(reg, id, enterprises, regions, now, params))
  return { enterprises, regions }
}

/** Region ids ordered so every child comes before its parent (cycles are cut). */
export function regionsBottomUp(reg: RegistryIndex): string[] {
  const out: string[] = []
  const state = new Map<string, 1 | 2>()
  const visit = (id: string): void => {
    if (state.has(id)) return
    state.set(id, 1)
    for (const c of reg.childRegions.get(id) ?? []) visit(c)
    state.set(id, 2)
    out.push(id)
  }
  for (const id of reg.regions.keys()) visit(id)
  return out
}
