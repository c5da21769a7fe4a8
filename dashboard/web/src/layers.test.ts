import { describe, expect, it } from 'vitest'
import { buildLayers, levelRgba, boundaryBBox, pulsesFor, regionLabels, LAYER_IDS, REGION_FILL_ALPHA, INDUSTRY_GLYPH, type MapModel, type RegionFeature } from './layers.js'
import { createEnterpriseFilterMemo, filterEnterprises, regionSubtree, industryMatches, NO_FILTER } from './filters.js'
import { COLOR_RGB, COLORS } from '../../../core/contracts/levels.js'
import { INDUSTRIES } from '../../../core/contracts/registry.js'
import type { EnterpriseItem } from './store.js'

const square = (lon: number, lat: number, d: number) => ({ type: 'Polygon' as const, coordinates: [[[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]] })
const feature = (id: string, riskLevel: 'red' | 'orange' | 'yellow' | 'blue', lon = 104): RegionFeature => ({
  type: 'Feature', geometry: square(lon, 30, 1),
  properties: { id, name: id, level: 'city', parentId: 'P1', riskLevel, score: 1, counts: { red: 0, orange: 0, yellow: 0, blue: 0 }, openWarnings: 0 },
})
const ent = (id: string, riskLevel: 'red' | 'orange' | 'yellow' | 'blue', industry = 'coal_mine', regionId = 'G1'): EnterpriseItem => ({ id, name: id, industry, regionId, location: [104.1, 30.1], riskLevel, score: 0, openWarnings: 0 })

function model(over: Partial<MapModel> = {}): MapModel {
  return {
    level: 'city',
    regions: { city: { features: [feature('C1', 'red'), feature('C2', 'blue', 105)], version: 1, colorVersion: 1 } },
    enterprises: [ent('E1', 'orange'), ent('E2', 'yellow', 'hazardous_chemical')],
    enterpriseColorVersion: 1, pulses: [], pulsePhase: 0, showEnterprises: true, showPulses: true, selectedRegionId: null,
    ...over,
  }
}

type Accessor<T> = (d: T) => unknown
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const byId = (layers: ReturnType<typeof buildLayers>, id: string): { id: string; props: Record<string, any> } => {
  const l = layers.find((x) => x.id === id)
  if (!l) throw new Error(`no layer ${id}`)
  return l as unknown as { id: string; props: Record<string, any> }
}

describe('layer builders', () => {
  it('always produce the same layer ids in the same order', () => {
    const a = buildLayers(model()).map((l) => l.id)
    const b = buildLayers(model({ level: 'grid', pulses: [{ id: 'w', position: [104, 30], color: 'red', overdue: false }] })).map((l) => l.id)
    expect(a).toEqual(b)
    expect(a).toEqual(['regions-city', 'regions-county', 'regions-grid', 'region-labels-city', 'region-labels-county', 'region-labels-grid', 'warning-pulse', 'enterprises', 'enterprise-glyphs'])
  })

  it('fill regions in the national colours by risk level', () => {
    const l = byId(buildLayers(model()), LAYER_IDS.region('city'))
    const fill = l.props.getFillColor as unknown as Accessor<RegionFeature>
    for (const c of COLORS) {
      expect(fill(feature('x', c))).toEqual([...COLOR_RGB[c], REGION_FILL_ALPHA])
    }
    expect(levelRgba('red')).toEqual([230, 0, 18, 255])
  })

  it('colour enterprises by level and give each industry a glyph', () => {
    const layers = buildLayers(model())
    const fill = byId(layers, 'enterprises').props.getFillColor as unknown as Accessor<EnterpriseItem>
    expect(fill(ent('a', 'red'))).toEqual([230, 0, 18, 255])
    expect(fill(ent('a', 'blue'))).toEqual([30, 110, 255, 255])
    const text = byId(layers, 'enterprise-glyphs').props.getText as unknown as Accessor<EnterpriseItem>
    expect(text(ent('a', 'red', 'hazardous_chemical'))).toBe('化')
    for (const i of INDUSTRIES) expect(INDUSTRY_GLYPH[i]).toMatch(/^.$/u)
  })

  it('keep data identity when versions are unchanged, and move colour updates through updateTriggers', () => {
    const m = model()
    const l1 = buildLayers(m)
    const l2 = buildLayers({ ...m, pulsePhase: 0.5 })
    for (const id of ['regions-city', 'enterprises', 'enterprise-glyphs', 'region-labels-city', 'warning-pulse']) {
      expect(byId(l2, id).props.data).toBe(byId(l1, id).props.data)
    }
    expect(byId(l1, 'regions-city').props.data).toBe(m.regions.city!.features)
    expect(byId(l1, 'enterprises').props.data).toBe(m.enterprises)
    // colour change in place: same data, trigger changes
    m.regions.city!.colorVersion++
    const l3 = buildLayers({ ...m, enterpriseColorVersion: 2 })
    expect(byId(l3, 'regions-city').props.data).toBe(m.regions.city!.features)
    expect((byId(l3, 'regions-city').props.updateTriggers as Record<string, unknown[]>).getFillColor).toEqual([2])
    expect((byId(l1, 'enterprises').props.updateTriggers as Record<string, unknown[]>).getFillColor).toEqual([1])
    expect((byId(l3, 'enterprises').props.updateTriggers as Record<string, unknown[]>).getFillColor).toEqual([2])
  })

  it('switch region levels and toggles with `visible`, not by removing layers', () => {
    const city = buildLayers(model())
    const county = buildLayers(model({ level: 'county', showEnterprises: false }))
    expect(byId(city, 'regions-city').props.visible).toBe(true)
    expect(byId(city, 'regions-county').props.visible).toBe(false)
    expect(byId(county, 'regions-city').props.visible).toBe(false)
    expect(byId(county, 'regions-county').props.visible).toBe(true)
    expect(byId(county, 'enterprises').props.visible).toBe(false)
    expect(byId(city, 'warning-pulse').props.visible).toBe(false) // no pulses
  })

  it('animate pulses through uniforms only', () => {
    const pulses = [{ id: 'w1', position: [104.1, 30.1] as [number, number], color: 'red' as const, overdue: true }]
    const a = byId(buildLayers(model({ pulses, pulsePhase: 0 })), 'warning-pulse')
    const b = byId(buildLayers(model({ pulses, pulsePhase: 0.5 })), 'warning-pulse')
    expect(a.props.data).toBe(b.props.data)
    expect(a.props.radiusScale).toBe(1)
    expect(b.props.radiusScale).toBeCloseTo(1.8)
    expect(b.props.opacity).toBeLessThan(a.props.opacity)
    expect((a.props.getLineColor as unknown as Accessor<typeof pulses[0]>)(pulses[0]!)).toEqual([230, 0, 18, 255])
  })

  it('highlight the selected region outline', () => {
    const l = byId(buildLayers(model({ selectedRegionId: 'C1' })), 'regions-city')
    const width = l.props.getLineWidth as unknown as Accessor<RegionFeature>
    expect(width(feature('C1', 'red'))).toBe(3)
    expect(width(feature('C2', 'red'))).toBe(1)
    expect((l.props.updateTriggers as Record<string, unknown[]>).getLineWidth).toEqual(['C1'])
  })
})

describe('geometry helpers', () => {
  it('bbox of polygons and multipolygons', () => {
    expect(boundaryBBox(square(104, 30, 0.5))).toEqual([104, 30, 104.5, 30.5])
    expect(boundaryBBox({ type: 'MultiPolygon', coordinates: [square(104, 30, 1).coordinates, square(106, 31, 1).coordinates] })).toEqual([104, 30, 107, 32])
    expect(boundaryBBox({ type: 'Polygon', coordinates: [] })).toBeNull()
  })
  it('region labels are memoised per features array', () => {
    const f = [feature('C1', 'red')]
    expect(regionLabels(f)).toBe(regionLabels(f))
    expect(regionLabels(f)[0]!.position).toEqual([104.5, 30.5])
  })
  it('pulses only for not-closed warnings with a known location', () => {
    const locate = (id: string) => (id === 'E1' ? [104.1, 30.1] as [number, number] : undefined)
    const now = Date.parse('2026-11-28T01:00:00.000Z')
    const ps = pulsesFor([
      { id: 'a', enterpriseId: 'E1', color: 'red', status: 'open', ackDeadline: '2026-11-28T00:10:00.000Z' },
      { id: 'b', enterpriseId: 'E1', color: 'orange', status: 'closed', ackDeadline: '2026-11-28T00:10:00.000Z' },
      { id: 'c', enterpriseId: 'E9', color: 'red', status: 'open', ackDeadline: '2026-11-28T00:10:00.000Z' },
      { id: 'd', enterpriseId: 'E1', color: 'yellow', status: 'acknowledged', ackDeadline: '2026-11-28T00:10:00.000Z' },
    ], locate, now)
    expect(ps.map((p) => [p.id, p.overdue])).toEqual([['a', true], ['d', false]])
  })
})

describe('filters', () => {
  const regions = [{ id: 'P1' }, { id: 'C1', parentId: 'P1' }, { id: 'K1', parentId: 'C1' }, { id: 'G1', parentId: 'K1' }, { id: 'C2', parentId: 'P1' }, { id: 'G2', parentId: 'C2' }]
  const items = [ent('E1', 'red', 'coal_mine', 'G1'), ent('E2', 'yellow', 'hazardous_chemical', 'G2'), ent('E3', 'blue', 'bridge', 'G2')]
  it('industry groups and single industries', () => {
    expect(industryMatches('group:mine', 'non_coal_mine')).toBe(true)
    expect(industryMatches('group:lifeline', 'bridge')).toBe(true)
    expect(industryMatches('group:lifeline', 'coal_mine')).toBe(false)
    expect(industryMatches('bridge', 'bridge')).toBe(true)
    expect(industryMatches('all', 'anything')).toBe(true)
  })
  it('region subtree, levels and industry combine', () => {
    expect([...regionSubtree(regions, 'C1')].sort()).toEqual(['C1', 'G1', 'K1'])
    expect(filterEnterprises(items, { ...NO_FILTER, regionId: 'C2' }, regionSubtree(regions, 'C2')).map((e) => e.id)).toEqual(['E2', 'E3'])
    expect(filterEnterprises(items, { ...NO_FILTER, levels: new Set(['red', 'blue']) }, null).map((e) => e.id)).toEqual(['E1', 'E3'])
    expect(filterEnterprises(items, { ...NO_FILTER, industry: 'group:lifeline' }, null).map((e) => e.id)).toEqual(['E3'])
  })
  it('the memo returns the source array unfiltered and a stable array while inputs are unchanged', () => {
    const memo = createEnterpriseFilterMemo()
    expect(memo(items, 1, 1, NO_FILTER, null)).toBe(items)
    const f = { ...NO_FILTER, industry: 'group:mine' as const }
    const a = memo(items, 1, 1, f, null)
    expect(a.map((e) => e.id)).toEqual(['E1'])
    expect(memo(items, 1, 2, f, null)).toBe(a) // colour change does not matter without a level filter
    expect(memo(items, 2, 2, f, null)).not.toBe(a)
    const lf = { ...NO_FILTER, levels: new Set(['red' as const]) }
    const b = memo(items, 2, 2, lf, null)
    expect(memo(items, 2, 3, lf, null)).not.toBe(b) // with a level filter, a colour change refilters
  })
})
