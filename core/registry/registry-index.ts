// The registry in memory, indexed for the lookups every stage makes per reading.
import type { Enterprise, Gateway, Region, RegistryDoc, Sensor, User } from '../contracts/registry.js'

export interface RegistryIndex {
  readonly doc: RegistryDoc
  readonly version: number
  readonly regions: ReadonlyMap<string, Region>
  readonly enterprises: ReadonlyMap<string, Enterprise>
  readonly sensors: ReadonlyMap<string, Sensor>
  readonly gateways: ReadonlyMap<string, Gateway>
  readonly users: ReadonlyMap<string, User>
  /** Child region ids of a region. */
  readonly childRegions: ReadonlyMap<string, readonly string[]>
  /** Sensors of an enterprise. */
  readonly sensorsByEnterprise: ReadonlyMap<string, readonly Sensor[]>
  /** Enterprises directly in a region. */
  readonly enterprisesByRegion: ReadonlyMap<string, readonly Enterprise[]>
  /** Gateways of an enterprise. */
  readonly gatewaysByEnterprise: ReadonlyMap<string, readonly Gateway[]>
  /** The region and its ancestors, nearest first. */
  ancestors(regionId: string): readonly Region[]
  /** Is `regionId` equal to or below `ancestorId`? */
  isWithin(regionId: string, ancestorId: string): boolean
  /** The gateway a sensor reports through: its own `gatewayId`, else its enterprise's first gateway. */
  gatewayOf(sensor: Sensor): Gateway | undefined
  /** Top-level regions (no parent). */
  readonly roots: readonly Region[]
}

function group<T>(items: readonly T[], key: (t: T) => string | undefined): Map<string, T[]> {
  const m = new Map<string, T[]>()
  for (const it of items) {
    const k = key(it)
    if (k === undefined) continue
    const arr = m.get(k)
    if (arr) arr.push(it)
    else m.set(k, [it])
  }
  return m
}

export function indexRegistry(doc: RegistryDoc, version = 1): RegistryIndex {
  const regions = new Map(doc.regions.map((r) => [r.id, r]))
  const enterprises = new Map(doc.enterprises.map((e) => [e.id, e]))
  const sensors = new Map(doc.sensors.map((s) => [s.id, s]))
  const gateways = new Map((doc.gateways ?? []).map((g) => [g.id, g]))
  const users = new Map((doc.users ?? []).map((u) => [u.username, u]))
  const childRegions = new Map<string, string[]>()
  for (const r of doc.regions) if (r.parentId) {
    const arr = childRegions.get(r.parentId)
    if (arr) arr.push(r.id)
    else childRegions.set(r.parentId, [r.id])
  }
  const ancestorCache = new Map<string, Region[]>()
  const ancestors = (regionId: string): Region[] => {
    let cached = ancestorCache.get(regionId)
    if (cached) return cached
    cached = []
    const seen = new Set<string>()
    let cur = regions.get(regionId)
    while (cur && !seen.has(cur.id)) { seen.add(cur.id); cached.push(cur); cur = cur.parentId ? regions.get(cur.parentId) : undefined }
    ancestorCache.set(regionId, cached)
    return cached
  }
  const gatewaysByEnterprise = group(doc.gateways ?? [], (g) => g.enterpriseId)
  return {
    doc,
    version,
    regions,
    enterprises,
    sensors,
    gateways,
    users,
    childRegions,
    sensorsByEnterprise: group(doc.sensors, (s) => s.enterpriseId),
    enterprisesByRegion: group(doc.enterprises, (e) => e.regionId),
    gatewaysByEnterprise,
    ancestors,
    isWithin: (regionId, ancestorId) => ancestors(regionId).some((r) => r.id === ancestorId),
    gatewayOf: (s) => (s.gatewayId ? gateways.get(s.gatewayId) : gatewaysByEnterprise.get(s.enterpriseId)?.[0]),
    roots: doc.regions.filter((r) => !r.parentId),
  }
}
