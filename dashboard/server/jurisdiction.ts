// What a user may see: `regionIds` limits to those regions and everything below them, `enterpriseIds`
// to those enterprises; both together = the intersection; neither = everything. Region aggregates
// are visible only to region-scoped (or unrestricted) users, since they summarise other enterprises.
import type { User } from '../../core/contracts/registry.js'
import type { RegistryIndex } from '../../core/registry/registry-index.js'

export interface Jurisdiction {
  readonly unrestricted: boolean
  /** Equal for users who see the same things (used to group sockets). */
  readonly key: string
  seesRegion(regionId: string): boolean
  seesEnterprise(enterpriseId: string): boolean
  seesSensor(sensorId: string): boolean
  seesWarning(w: { enterpriseId: string; regionId: string }): boolean
  seesRisk(r: { kind: 'region' | 'enterprise'; id: string }): boolean
  seesRejection(r: { enterpriseId?: string | undefined }): boolean
  /** Ids of every visible enterprise in the registry; null = all (unrestricted). */
  visibleEnterpriseIds(): readonly string[] | null
  /** Ids of every visible region; null = all (unrestricted). */
  visibleRegionIds(): readonly string[] | null
}

export type ScopedUser = Pick<User, 'regionIds' | 'enterpriseIds'>

export function jurisdictionKey(user: ScopedUser): string {
  const r = user.regionIds ? [...user.regionIds].sort().join(',') : '*'
  const e = user.enterpriseIds ? [...user.enterpriseIds].sort().join(',') : '*'
  return `r=${r};e=${e}`
}

export function jurisdictionOf(user: ScopedUser, index: RegistryIndex): Jurisdiction {
  const regionIds = user.regionIds
  const enterpriseSet = user.enterpriseIds ? new Set(user.enterpriseIds) : undefined
  const unrestricted = !regionIds && !enterpriseSet
  const key = jurisdictionKey(user)

  const inRegions = (regionId: string): boolean => !regionIds || regionIds.some((r) => index.isWithin(regionId, r))
  const seesRegion = (regionId: string): boolean => {
    if (unrestricted) return true
    if (enterpriseSet) return false
    return index.regions.has(regionId) && inRegions(regionId)
  }
  const seesEnterprise = (enterpriseId: string): boolean => {
    if (unrestricted) return true
    const e = index.enterprises.get(enterpriseId)
    if (!e) return false
    if (enterpriseSet && !enterpriseSet.has(enterpriseId)) return false
    return inRegions(e.regionId)
  }
  let enterpriseCache: string[] | undefined
  let regionCache: string[] | undefined
  return {
    unrestricted,
    key,
    seesRegion,
    seesEnterprise,
    seesSensor(sensorId) {
      if (unrestricted) return true
      const s = index.sensors.get(sensorId)
      return !!s && seesEnterprise(s.enterpriseId)
    },
    seesWarning(w) {
      if (unrestricted) return true
      if (index.enterprises.has(w.enterpriseId)) return seesEnterprise(w.enterpriseId) && inRegions(w.regionId)
      // An enterprise the registry does not know (e.g. a platform warning): region-scoped users only.
      return !enterpriseSet && index.regions.has(w.regionId) && inRegions(w.regionId)
    },
    seesRisk(r) {
      return r.kind === 'enterprise' ? seesEnterprise(r.id) : seesRegion(r.id)
    },
    seesRejection(r) {
      if (unrestricted) return true
      return r.enterpriseId !== undefined && seesEnterprise(r.enterpriseId)
    },
    visibleEnterpriseIds() {
      if (unrestricted) return null
      enterpriseCache ??= [...index.enterprises.keys()].filter(seesEnterprise)
      return enterpriseCache
    },
    visibleRegionIds() {
      if (unrestricted) return null
      regionCache ??= [...index.regions.keys()].filter(seesRegion)
      return regionCache
    },
  }
}

/** Caches jurisdictions per (registry version, user scope). */
export function createJurisdictionCache(): (user: ScopedUser, index: RegistryIndex) => Jurisdiction {
  let version = -1
  let docRef: unknown
  const cache = new Map<string, Jurisdiction>()
  return (user, index) => {
    if (index.version !== version || index.doc !== docRef) { cache.clear(); version = index.version; docRef = index.doc }
    const k = jurisdictionKey(user)
    let j = cache.get(k)
    if (!j) { j = jurisdictionOf(user, index); cache.set(k, j) }
    return j
  }
}
