import { describe, expect, it } from 'vitest'
import { DEMO_USERS, gatewayToken, generateDemoProvince } from './demo-province.js'
import { assertRegistry } from '../core/registry/validate-registry.js'
import { indexRegistry } from '../core/registry/registry-index.js'
import { INDUSTRIES, SENSOR_TYPES, type FlatThresholds } from '../core/contracts/registry.js'

describe('generateDemoProvince', () => {
  const doc = generateDemoProvince({ seed: 7, secret: 's3cret' })

  it('is a valid registry', () => {
    expect(() => assertRegistry(doc)).not.toThrow()
  })

  it('has a province, ≥ 3 cities with 2–3 counties each, grid cells and a park, all with polygon boundaries', () => {
    const by = (level: string) => doc.regions.filter((r) => r.level === level)
    expect(by('province').map((r) => [r.id, r.name])).toEqual([['R99', '示例省']])
    expect(by('city').length).toBeGreaterThanOrEqual(3)
    for (const c of by('city')) {
      const n = doc.regions.filter((r) => r.parentId === c.id && r.level === 'county').length
      expect(n).toBeGreaterThanOrEqual(2)
      expect(n).toBeLessThanOrEqual(3)
    }
    expect(by('grid').length).toBeGreaterThanOrEqual(4 * by('county').length)
    expect(by('park')).toHaveLength(1)
    for (const r of doc.regions) {
      expect(r.boundary?.type).toBe('Polygon')
      const ring = (r.boundary!.coordinates as number[][][])[0]!
      expect(ring[0]).toEqual(ring[ring.length - 1])
      for (const [lon, lat] of ring as [number, number][]) {
        expect(lon).toBeGreaterThanOrEqual(103); expect(lon).toBeLessThanOrEqual(106)
        expect(lat).toBeGreaterThanOrEqual(29); expect(lat).toBeLessThanOrEqual(32)
      }
      if (r.level !== 'grid') expect(r.contacts?.length).toBeGreaterThan(0)
    }
  })

  it('has ≥ 60 enterprises over every industry, each inside its region, with profile and contacts', () => {
    expect(doc.enterprises.length).toBe(72)
    expect(new Set(doc.enterprises.map((e) => e.industry))).toEqual(new Set(INDUSTRIES))
    const reg = indexRegistry(doc)
    for (const e of doc.enterprises) {
      expect(e.name).toMatch(/[\u4e00-\u9fff]/)
      expect(e.profile?.staticRiskLevel).toBeTruthy()
      expect(e.contacts?.length).toBeGreaterThan(0)
      const [x0, y0] = (reg.regions.get(e.regionId)!.boundary!.coordinates as number[][][])[0]![0]!
      const [x1, y1] = (reg.regions.get(e.regionId)!.boundary!.coordinates as number[][][])[0]![2]!
      expect(e.location[0]).toBeGreaterThan(x0!); expect(e.location[0]).toBeLessThan(x1!)
      expect(e.location[1]).toBeGreaterThan(y0!); expect(e.location[1]).toBeLessThan(y1!)
      if (e.industry === 'hazardous_chemical') expect(e.profile).toHaveProperty('majorHazardLevel')
    }
    expect(new Set(doc.enterprises.map((e) => e.name)).size).toBe(72)
  })

  it('has every sensor type and the roles the scenarios and rules need', () => {
    expect(new Set(doc.sensors.map((s) => s.type))).toEqual(new Set(SENSOR_TYPES))
    const roles = new Set(doc.sensors.map((s) => `${s.type}:${s.role ?? ''}`))
    for (const r of ['ch4:working_face', 'ch4:upper_corner', 'ch4:return_airway', 'ch4:heading_face', 'ch4:intake',
      'combustible_gas:point', 'combustible_gas:manhole', 'combustible_gas:tunnel_gas_cabin']) expect(roles).toContain(r)
    const level = doc.sensors.find((s) => s.type === 'tank_level')!
    expect(level.thresholds).toMatchObject({ yellow: 85, orange: 90, red: 95 })
    const gasPipe = doc.sensors.find((s) => s.type === 'pipe_pressure' && doc.enterprises.find((e) => e.id === s.enterpriseId)?.industry === 'gas_network')!
    expect((gasPipe.thresholds as FlatThresholds).ratePerMinute?.red).toBeLessThan(0)
    const crack = doc.sensors.find((s) => s.type === 'crack_width')!
    expect((crack.thresholds as FlatThresholds).ratePerMinute?.red).toBeGreaterThan(0)
    expect(new Set(doc.sensors.filter((s) => s.type === 'toxic_gas').map((s) => s.gas)).size).toBeGreaterThanOrEqual(2)
  })

  it('has one gateway per enterprise with an HMAC token, and the demo users', () => {
    expect(doc.gateways).toHaveLength(72)
    const g = doc.gateways![0]!
    expect(g).toEqual({ id: `gw-${g.enterpriseId}`, enterpriseId: g.enterpriseId, token: gatewayToken('s3cret', g.id) })
    expect(g.token).toMatch(/^[0-9a-f]{32}$/)
    expect(generateDemoProvince({ seed: 7, secret: 'other' }).gateways![0]!.token).not.toBe(g.token)
    expect(doc.users?.map((u) => [u.username, u.role, u.password])).toEqual([
      ['admin', 'admin', DEMO_USERS.admin.password], ['duty', 'duty', 'yujing-duty'], ['viewer', 'viewer', 'yujing-viewer'], ['county', 'duty', 'yujing-county'],
    ])
    const county = doc.users!.find((u) => u.username === 'county')!
    expect(doc.regions.find((r) => r.id === county.regionIds![0])?.level).toBe('county')
  })

  it('is deterministic for a seed, different for another, and scales', () => {
    expect(generateDemoProvince({ seed: 7, secret: 's3cret' })).toEqual(doc)
    expect(generateDemoProvince({ seed: 8, secret: 's3cret' })).not.toEqual(doc)
    const small = generateDemoProvince({ seed: 1, secret: 'x', enterprises: 9 })
    expect(new Set(small.enterprises.map((e) => e.industry))).toEqual(new Set(INDUSTRIES))
    const big = generateDemoProvince({ seed: 1, secret: 'x', enterprises: 500 })
    expect(() => assertRegistry(big)).not.toThrow()
    expect(big.enterprises).toHaveLength(500)
  })
})
