// Pure deck.gl layer builders for the risk map (一张图). Invariants: layer ids never change; a layer's
// `data` is exactly the array the model holds (replaced only when its version changes); colour changes
// go through updateTriggers keyed by colour versions; switching region level toggles `visible`.
import { GeoJsonLayer, ScatterplotLayer, TextLayer } from '@deck.gl/layers'
import type { Layer } from '@deck.gl/core'
import { COLOR_RGB, type Color } from '../../../core/contracts/levels.js'
import type { RegionSummary } from '../../../core/contracts/api.js'
import type { Boundary } from '../../../core/contracts/registry.js'
import type { EnterpriseItem } from './store.js'

export type MapLevel = 'city' | 'county' | 'grid'
export const MAP_LEVELS: readonly MapLevel[] = ['city', 'county', 'grid']
export type RGBA = [number, number, number, number]

export const LAYER_IDS = {
  region: (l: MapLevel) => `regions-${l}`,
  regionLabels: (l: MapLevel) => `region-labels-${l}`,
  enterprises: 'enterprises',
  glyphs: 'enterprise-glyphs',
  pulse: 'warning-pulse',
} as const

export interface RegionFeature {
  type: 'Feature'
  id?: string | number
  geometry: Boundary
  properties: RegionSummary
}

export interface RegionSet {
  features: RegionFeature[]
  /** Bumped when `features` is replaced. */
  version: number
  /** Bumped when a feature's riskLevel changes in place. */
  colorVersion: number
}

export interface PulsePoint {
  id: string
  position: [number, number]
  color: Color
  /** Unacknowledged past its deadline: drawn thicker. */
  overdue: boolean
}

export interface MapModel {
  level: MapLevel
  regions: Partial<Record<MapLevel, RegionSet>>
  enterprises: EnterpriseItem[]
  enterpriseColorVersion: number
  pulses: PulsePoint[]
  /** 0..1, animates the warning rings (a uniform, no attribute rebuild). */
  pulsePhase: number
  showEnterprises: boolean
  showPulses: boolean
  selectedRegionId: string | null
  hoverRegionId?: string | null
}

export function levelRgba(c: Color | null | undefined, alpha = 255): RGBA {
  const rgb = COLOR_RGB[c ?? 'blue'] ?? COLOR_RGB.blue
  return [rgb[0], rgb[1], rgb[2], alpha]
}

/** Region fill alpha: translucent enough to see the enterprises on top. */
export const REGION_FILL_ALPHA = 120
const REGION_LINE: RGBA = [180, 200, 230, 200]
const REGION_LINE_SELECTED: RGBA = [255, 255, 255, 255]
const DARK: RGBA = [8, 12, 22, 255]

/** One glyph per industry, drawn on the enterprise dot (icon by industry). */
export const INDUSTRY_GLYPH: Readonly<Record<string, string>> = {
  coal_mine: '煤', non_coal_mine: '矿', hazardous_chemical: '化', gas_network: '气', water_network: '水',
  drainage: '排', bridge: '桥', utility_tunnel: '廊', large_complex: '楼',
}
export const GLYPH_CHARS = [...new Set(Object.values(INDUSTRY_GLYPH))].join('')

/** Outer-ring bounding box of a polygon or multipolygon: [minLon, minLat, maxLon, maxLat]. */
export function boundaryBBox(g: Boundary): [number, number, number, number] | null {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.coordinates
  for (const poly of polys) {
    const ring = poly[0] ?? []
    for (const p of ring) {
      const x = p[0], y = p[1]
      if (x === undefined || y === undefined) continue
      if (x < minX) minX = x
      if (y < minY) minY = y
      if (x > maxX) maxX = x
      if (y > maxY) maxY = y
    }
  }
  return Number.isFinite(minX) ? [minX, minY, maxX, maxY] : null
}

export function bboxOfAll(bbs: readonly ([number, number, number, number] | null)[]): [number, number, number, number] | null {
  let out: [number, number, number, number] | null = null
  for (const b of bbs) {
    if (!b) continue
    out = out ? [Math.min(out[0], b[0]), Math.min(out[1], b[1]), Math.max(out[2], b[2]), Math.max(out[3], b[3])] : [...b]
  }
  return out
}

export interface RegionLabel { id: string; name: string; position: [number, number] }
const labelMemo = new WeakMap<RegionFeature[], RegionLabel[]>()
/** Label anchors (bbox centres), memoised per features array so the label layer keeps its data. */
export function regionLabels(features: RegionFeature[]): RegionLabel[] {
  let out = labelMemo.get(features)
  if (!out) {
    out = []
    for (const f of features) {
      const b = boundaryBBox(f.geometry)
      if (b) out.push({ id: f.properties.id, name: f.properties.name, position: [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2] })
    }
    labelMemo.set(features, out)
  }
  return out
}

const EMPTY_FEATURES: RegionFeature[] = []

export function regionLayer(level: MapLevel, set: RegionSet | undefined, m: MapModel): GeoJsonLayer<RegionSummary> {
  const selected = m.selectedRegionId
  return new GeoJsonLayer<RegionSummary>({
    id: LAYER_IDS.region(level),
    data: (set?.features ?? EMPTY_FEATURES) as never,
    visible: m.level === level,
    pickable: true,
    stroked: true,
    filled: true,
    autoHighlight: true,
    highlightColor: [255, 255, 255, 50],
    lineWidthUnits: 'pixels',
    getFillColor: (f: { properties: RegionSummary }) => levelRgba(f.properties.riskLevel, REGION_FILL_ALPHA),
    getLineColor: (f: { properties: RegionSummary }) => (f.properties.id === selected ? REGION_LINE_SELECTED : REGION_LINE),
    getLineWidth: (f: { properties: RegionSummary }) => (f.properties.id === selected ? 3 : 1),
    updateTriggers: {
      getFillColor: [set?.colorVersion ?? 0],
      getLineColor: [selected],
      getLineWidth: [selected],
    },
  })
}

export function regionLabelLayer(level: MapLevel, set: RegionSet | undefined, m: MapModel): TextLayer<RegionLabel> {
  return new TextLayer<RegionLabel>({
    id: LAYER_IDS.regionLabels(level),
    data: set ? regionLabels(set.features) : [],
    visible: m.level === level && level !== 'grid',
    pickable: false,
    characterSet: 'auto',
    fontFamily: '"WenQuanYi Micro Hei", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif',
    getPosition: (d) => d.position,
    getText: (d) => d.name,
    getSize: 14,
    getColor: [235, 242, 255, 220],
    outlineWidth: 3,
    outlineColor: [8, 12, 22, 230],
    fontSettings: { sdf: true },
    getTextAnchor: 'middle',
    getAlignmentBaseline: 'center',
  })
}

export function enterpriseLayer(m: MapModel): ScatterplotLayer<EnterpriseItem> {
  return new ScatterplotLayer<EnterpriseItem>({
    id: LAYER_IDS.enterprises,
    data: m.enterprises,
    visible: m.showEnterprises,
    pickable: true,
    stroked: true,
    filled: true,
    radiusUnits: 'pixels',
    lineWidthUnits: 'pixels',
    getPosition: (e) => e.location,
    getRadius: (e) => (e.openWarnings > 0 ? 11 : 9),
    getFillColor: (e) => levelRgba(e.riskLevel),
    getLineColor: DARK,
    getLineWidth: 2,
    updateTriggers: { getFillColor: [m.enterpriseColorVersion], getRadius: [m.enterpriseColorVersion] },
  })
}

export function glyphLayer(m: MapModel): TextLayer<EnterpriseItem> {
  return new TextLayer<EnterpriseItem>({
    id: LAYER_IDS.glyphs,
    data: m.enterprises,
    visible: m.showEnterprises,
    pickable: false,
    characterSet: GLYPH_CHARS,
    fontFamily: '"WenQuanYi Micro Hei", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif',
    fontWeight: 700,
    getPosition: (e) => e.location,
    getText: (e) => INDUSTRY_GLYPH[e.industry] ?? '企',
    getSize: 12,
    getColor: (e) => (e.riskLevel === 'yellow' || e.riskLevel === 'orange' ? [10, 10, 10, 255] : [255, 255, 255, 255]),
    getTextAnchor: 'middle',
    getAlignmentBaseline: 'center',
    updateTriggers: { getColor: [m.enterpriseColorVersion] },
  })
}

export function pulseLayer(m: MapModel): ScatterplotLayer<PulsePoint> {
  const phase = Math.min(1, Math.max(0, m.pulsePhase))
  return new ScatterplotLayer<PulsePoint>({
    id: LAYER_IDS.pulse,
    data: m.pulses,
    visible: m.showPulses && m.pulses.length > 0,
    pickable: true,
    stroked: true,
    filled: false,
    radiusUnits: 'pixels',
    lineWidthUnits: 'pixels',
    radiusScale: 1 + phase * 1.6,
    opacity: 1 - phase * 0.75,
    getPosition: (p) => p.position,
    getRadius: 12,
    getLineColor: (p) => levelRgba(p.color),
    getLineWidth: (p) => (p.overdue ? 4 : 2.5),
  })
}

/** Every layer, in draw order, always the same ids. */
export function buildLayers(m: MapModel): Layer[] {
  const out: Layer[] = []
  for (const l of MAP_LEVELS) out.push(regionLayer(l, m.regions[l], m))
  for (const l of MAP_LEVELS) out.push(regionLabelLayer(l, m.regions[l], m))
  out.push(pulseLayer(m), enterpriseLayer(m), glyphLayer(m))
  return out
}

/** Pulses for not-closed warnings at their enterprise's location. */
export function pulsesFor(
  warnings: readonly { id: string; enterpriseId: string; color: Color; status: string; ackDeadline: string }[],
  locate: (enterpriseId: string) => [number, number] | undefined,
  nowMs: number,
): PulsePoint[] {
  const out: PulsePoint[] = []
  for (const w of warnings) {
    if (w.status === 'closed') continue
    const position = locate(w.enterpriseId)
    if (!position) continue
    out.push({ id: w.id, position, color: w.color, overdue: w.status === 'open' && Date.parse(w.ackDeadline) < nowMs })
  }
  return out
}
