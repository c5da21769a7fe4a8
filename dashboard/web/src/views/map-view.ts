// The province at a glance (一张图): region polygons in the four colours (city / county / grid),
// enterprises by level and industry, pulsing open warnings, hover tooltip, click to zoom or drill
// down, filters and a legend. Layers are rebuilt from pure builders; data arrays keep their identity
// until their version changes, so deck.gl only re-uploads what changed.
import type { PickingInfo } from '@deck.gl/core'
import { h, replaceChildren } from '../dom.js'
import { t, levelName, industryName, fmtNumber } from '../i18n.js'
import { COLORS, type Color } from '../../../../core/contracts/levels.js'
import { INDUSTRIES } from '../../../../core/contracts/registry.js'
import type { RiskEvent } from '../../../../core/contracts/risk.js'
import { buildLayers, boundaryBBox, bboxOfAll, levelRgba, pulsesFor, MAP_LEVELS, INDUSTRY_GLYPH, type MapLevel, type MapModel, type RegionFeature, type RegionSet, type PulsePoint } from '../layers.js'
import { createEnterpriseFilterMemo, regionSubtree, groupOf, INDUSTRY_GROUPS, type IndustryFilter } from '../filters.js'
import { createMapHost, parseBaseMap, type MapHost, type BBox } from '../map-host.js'
import type { Ctx } from '../context.js'
import type { EnterpriseItem } from '../store.js'

declare global {
  interface Window { __yujingMapDrawn?: boolean; __yujingMapDrawCount?: number; __yujingMapError?: string }
}

export interface MapView { el: HTMLElement; start(): Promise<void>; reload(): Promise<void>; applyRisk(r: RiskEvent[]): void; zoomToRegion(id: string): void; destroy(): void }

export function createMapView(ctx: Ctx): MapView {
  const canvasBox = h('div', { class: 'map-canvas', id: 'map' })
  const tooltip = h('div', { class: 'map-tooltip', role: 'tooltip' })
  const filterBar = h('div', { class: 'map-filters' })
  const legend = h('div', { class: 'map-legend' })
  const errorBox = h('div', { class: 'map-error' })
  const el = h('section', { class: 'map-panel' }, canvasBox, filterBar, legend, tooltip, errorBox)

  let host: MapHost | null = null
  const regionSets: Partial<Record<MapLevel, RegionSet>> = {}
  let level: MapLevel = 'city'
  let selectedRegionId: string | null = null
  let pulses: PulsePoint[] = []
  let pulsesKey = ''
  let phase = 0
  let frame = 0
  let animTimer: ReturnType<typeof setInterval> | undefined
  let destroyed = false
  const filterMemo = createEnterpriseFilterMemo()
  let subtreeKey = ''
  let subtree: Set<string> | null = null

  const hasData = (): boolean => (regionSets[level]?.features.length ?? 0) > 0 || ctx.enterprises.items.length > 0

  const model = (): MapModel => {
    const f = ctx.mapFilter
    if ((f.regionId ?? '') !== subtreeKey) { subtreeKey = f.regionId ?? ''; subtree = f.regionId ? regionSubtree(ctx.regions, f.regionId) : null }
    const ents = filterMemo(ctx.enterprises.items, ctx.enterprises.dataVersion, ctx.enterprises.colorVersion, f, subtree)
    const key = `${ctx.warnings.version}|${ents.length}|${ctx.enterprises.dataVersion}|${Math.floor(Date.now() / 30000)}`
    if (key !== pulsesKey) {
      pulsesKey = key
      const visible = ents === ctx.enterprises.items ? null : new Set(ents.map((e) => e.id))
      pulses = pulsesFor(ctx.warnings.open().filter((w) => !visible || visible.has(w.enterpriseId)), (id) => ctx.enterprises.get(id)?.location, Date.now())
    }
    return {
      level, regions: regionSets, enterprises: ents, enterpriseColorVersion: ctx.enterprises.colorVersion,
      pulses, pulsePhase: phase, showEnterprises: true, showPulses: true, selectedRegionId,
    }
  }

  const render = (): void => {
    frame = 0
    if (!host || destroyed) return
    host.setLayers(buildLayers(model()))
  }
  const schedule = (): void => { if (!frame) frame = requestAnimationFrame(render) }

  // Pulse animation: a uniform (radiusScale/opacity) changes, no attribute is recomputed.
  const animate = (): void => {
    if (pulses.length === 0) { if (phase !== 0) { phase = 0; schedule() } return }
    phase = (phase + 0.08) % 1
    schedule()
  }

  const onAfterRender = (): void => {
    if (!hasData()) return
    window.__yujingMapDrawCount = (window.__yujingMapDrawCount ?? 0) + 1
    if (!window.__yujingMapDrawn) { window.__yujingMapDrawn = true; document.body.dataset.mapDrawn = 'true' }
  }

  const showTooltip = (info: PickingInfo): void => {
    const o = info.object as Record<string, unknown> | undefined
    if (!o || info.x < 0) { tooltip.style.display = 'none'; return }
    let lines: string[] = []
    const id = info.layer?.id ?? ''
    if (id.startsWith('regions-')) {
      const p = (o as { properties: RegionFeature['properties'] }).properties
      lines = [p.name, `${t('map.level')}: ${levelName(p.riskLevel)}`, `${t('map.score')}: ${fmtNumber(p.score, 1)}`, `${t('map.openWarnings')}: ${p.openWarnings}`]
    } else if (id === 'enterprises') {
      const e = o as unknown as EnterpriseItem
      lines = [e.name, `${industryName(e.industry)} · ${levelName(e.riskLevel)}`, `${t('map.score')}: ${fmtNumber(e.score, 1)}`, `${t('map.openWarnings')}: ${e.openWarnings}`]
    } else if (id === 'warning-pulse') {
      const w = ctx.warnings.get((o as unknown as PulsePoint).id)
      if (w) lines = [w.title, ctx.enterprises.name(w.enterpriseId), `${t(`status.${w.status}`)}`]
    }
    if (!lines.length) { tooltip.style.display = 'none'; return }
    replaceChildren(tooltip, ...lines.map((l, i) => h('div', { class: i === 0 ? 'tt-title' : 'tt-line' }, l)))
    tooltip.style.display = 'block'
    tooltip.style.left = `${info.x + 14}px`
    tooltip.style.top = `${info.y + 14}px`
  }

  const onClick = (info: PickingInfo): void => {
    const o = info.object as Record<string, unknown> | undefined
    const id = info.layer?.id ?? ''
    if (!o) return
    if (id === 'enterprises') ctx.openEnterprise((o as unknown as EnterpriseItem).id)
    else if (id === 'warning-pulse') ctx.openWarning((o as unknown as PulsePoint).id)
    else if (id.startsWith('regions-')) zoomToRegion((o as { properties: { id: string } }).properties.id)
  }

  const featureOf = (regionId: string): RegionFeature | undefined => {
    for (const l of MAP_LEVELS) { const f = regionSets[l]?.features.find((x) => x.properties.id === regionId); if (f) return f }
    return undefined
  }

  const fitAll = (animate: boolean): void => {
    const set = regionSets[level] ?? regionSets.city
    const bb = set ? bboxOfAll(set.features.map((f) => boundaryBBox(f.geometry))) : null
    const fallback = bboxOfAll(ctx.enterprises.items.map((e) => [e.location[0], e.location[1], e.location[0], e.location[1]] as BBox))
    const b = bb ?? fallback
    if (b && host) host.fitBounds(b, animate)
  }

  function zoomToRegion(id: string): void {
    selectedRegionId = id
    const f = featureOf(id)
    const b = f ? boundaryBBox(f.geometry) : null
    if (b && host) host.fitBounds(b, true)
    schedule()
  }

  const loadLevel = async (l: MapLevel): Promise<void> => {
    const fc = await ctx.api.get<{ features?: unknown[] }>('/api/map/regions', { level: l })
    const features = (fc.features ?? []).filter((f): f is RegionFeature => { const x = f as Partial<RegionFeature> | null; return !!x && !!x.geometry && typeof x.geometry === 'object' && !!x.properties })
    const prev = regionSets[l]
    regionSets[l] = { features, version: (prev?.version ?? 0) + 1, colorVersion: (prev?.colorVersion ?? 0) + 1 }
  }

  const setLevel = (l: MapLevel): void => {
    level = l
    drawFilters()
    if (!regionSets[l]) void loadLevel(l).then(schedule, (e: unknown) => showError(e))
    schedule()
  }

  const showError = (e: unknown): void => {
    const msg = e instanceof Error ? e.message : String(e)
    window.__yujingMapError = msg
    errorBox.textContent = `${t('map.error')}: ${msg}`
    errorBox.style.display = 'block'
  }

  const drawFilters = (): void => {
    const f = ctx.mapFilter
    const levelBtns = h('div', { class: 'seg', role: 'group', aria: { label: t('map.levelTitle') } },
      ...MAP_LEVELS.map((l) => h('button', { class: `seg-btn${l === level ? ' active' : ''}`, data: { level: l }, on: { click: () => setLevel(l) } }, t(`map.level.${l}`))))
    const ind = h('select', { class: 'sel', id: 'filter-industry', title: t('map.industry') },
      h('option', { value: 'all' }, t('map.allIndustries')),
      ...INDUSTRY_GROUPS.map((g) => {
        const og = document.createElement('optgroup')
        og.label = t(`group.${g}`)
        og.appendChild(h('option', { value: `group:${g}` }, `${t(`group.${g}`)} (${t('map.allIndustries').replace(/全部行业|All industries/, '∗')})`))
        for (const i of INDUSTRIES) if (groupOf(i) === g) og.appendChild(h('option', { value: i }, `${INDUSTRY_GLYPH[i] ?? ''} ${industryName(i)}`))
        return og
      }))
    ind.value = f.industry
    ind.addEventListener('change', () => { ctx.mapFilter = { ...ctx.mapFilter, industry: ind.value as IndustryFilter }; ctx.emit('filter') })
    const levels = h('div', { class: 'level-toggles', title: t('map.level') }, ...COLORS.map((c) => {
      const on = f.levels.has(c)
      return h('button', { class: `lvl-toggle lv-${c}${on ? ' on' : ''}`, data: { color: c }, on: { click: () => toggleLevel(c) } }, levelName(c))
    }))
    const reg = h('select', { class: 'sel', id: 'filter-region', title: t('map.region') }, h('option', { value: '' }, t('map.allRegions')),
      ...ctx.regions.filter((r) => r.level === 'city' || r.level === 'county').map((r) => h('option', { value: r.id }, `${r.level === 'county' ? '\u3000' : ''}${r.name}`)))
    reg.value = f.regionId ?? ''
    reg.addEventListener('change', () => {
      const id = reg.value || null
      ctx.mapFilter = { ...ctx.mapFilter, regionId: id }
      ctx.emit('filter')
      if (id) zoomToRegion(id)
      else { selectedRegionId = null; fitAll(true) }
    })
    replaceChildren(filterBar, levelBtns, ind, levels, reg)
  }

  const toggleLevel = (c: Color): void => {
    const next = new Set(ctx.mapFilter.levels)
    if (next.has(c)) next.delete(c)
    else next.add(c)
    ctx.mapFilter = { ...ctx.mapFilter, levels: next }
    ctx.emit('filter')
  }

  const drawLegend = (): void => {
    const sw = (c: Color) => { const [r, g, b] = levelRgba(c); return `rgb(${r},${g},${b})` }
    replaceChildren(legend,
      h('div', { class: 'legend-title' }, t('map.legend')),
      ...COLORS.map((c) => h('div', { class: 'legend-row' }, h('span', { class: 'legend-sw', style: { background: sw(c) } }), levelName(c))),
      h('div', { class: 'legend-row' }, h('span', { class: 'legend-ring' }), t('map.warningPulse')),
      h('div', { class: 'legend-glyphs' }, ...INDUSTRIES.map((i) => h('span', { class: 'legend-glyph', title: industryName(i) }, h('b', null, INDUSTRY_GLYPH[i] ?? ''), industryName(i)))))
  }

  const applyRisk = (events: RiskEvent[]): void => {
    let changed = false
    for (const r of events) {
      if (r.kind !== 'region') continue
      for (const l of MAP_LEVELS) {
        const set = regionSets[l]
        const f = set?.features.find((x) => x.properties.id === r.id)
        if (set && f && (f.properties.riskLevel !== r.riskLevel || f.properties.score !== r.score)) {
          f.properties.riskLevel = r.riskLevel
          f.properties.score = r.score
          if (r.openWarnings !== undefined) f.properties.openWarnings = r.openWarnings
          if (r.counts) f.properties.counts = r.counts
          set.colorVersion++
          changed = true
        }
      }
    }
    if (changed) schedule()
  }

  const reload = async (): Promise<void> => {
    const levels = MAP_LEVELS.filter((l) => l === level || regionSets[l])
    await Promise.all(levels.map((l) => loadLevel(l)))
    schedule()
  }

  const offs = [
    ctx.on('warnings', schedule), ctx.on('enterprises', schedule), ctx.on('filter', () => { drawFilters(); schedule() }),
    ctx.on('regions', drawFilters), ctx.on('lang', () => { drawFilters(); drawLegend() }),
  ]

  return {
    el,
    async start() {
      drawFilters()
      drawLegend()
      let cfg: unknown = null
      try { cfg = await ctx.api.get('/api/client-config') } catch { cfg = null }
      const base = parseBaseMap(cfg)
      const cb = { onHover: showTooltip, onClick, onAfterRender }
      try {
        host = await createMapHost(canvasBox, base, cb)
      } catch (e) {
        showError(e)
        host = await createMapHost(canvasBox, { kind: 'none' }, cb)
      }
      el.dataset.baseMap = host.kind
      await loadLevel(level).catch(showError)
      fitAll(false)
      render()
      animTimer = setInterval(animate, 125)
    },
    reload,
    applyRisk,
    zoomToRegion,
    destroy() { destroyed = true; clearInterval(animTimer); for (const o of offs) o(); host?.destroy() },
  }
}
