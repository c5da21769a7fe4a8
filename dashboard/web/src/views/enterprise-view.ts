// Enterprise drill-down (GET /api/enterprises/:id): profile and contacts, risk level with its factors,
// sensors with live values (socket `subscribe` → `readings`) and thresholds, a uPlot trend per sensor
// (last hour live, longer ranges fetched), and the enterprise's warnings (live from the store).
import { h, replaceChildren, chip } from '../dom.js'
import { t, levelName, warningLevelName, industryName, fmtTime, fmtNumber } from '../i18n.js'
import type { Color } from '../../../../core/contracts/levels.js'
import type { Warning } from '../../../../core/contracts/warning.js'
import type { RiskFactor } from '../../../../core/contracts/risk.js'
import { TrendChart, thresholdLines } from './trend-chart.js'
import type { Ctx } from '../context.js'

interface SensorDetail {
  id: string; type: string; role?: string; name?: string; unit?: string
  thresholds: unknown; effectiveThresholds?: { source: string; thresholds: unknown }
  value: number | null; ts: string | null; quality: string | null; state?: string; color?: Color | null
}
interface EnterpriseDetail {
  id: string; name: string; industry: string; regionId: string
  profile: { staticRiskLevel?: Color | null; majorHazardLevel?: number | null; employees?: number; assessmentScore?: number; notes?: string }
  contacts: { role: string; name: string; phone?: string; email?: string }[]
  region: { id: string; name: string; path?: { id: string; name: string }[] } | null
  risk: { riskLevel: Color; score: number; staticLevel: Color | null; dynamicLevel: Color | null; factors: RiskFactor[] }
  sensors: SensorDetail[]
  openWarnings: Warning[]
}

const RANGES = { '1h': 3600, '6h': 6 * 3600, '24h': 86400, '7d': 7 * 86400 } as const
type Range = keyof typeof RANGES

export interface EnterpriseView { open(id: string): void; close(): void; readonly currentId: string | null }

export function createEnterpriseView(ctx: Ctx, host: HTMLElement): EnterpriseView {
  let current: string | null = null
  let panel: HTMLElement | null = null
  let detail: EnterpriseDetail | null = null
  let range: Range = '1h'
  const charts = new Map<string, TrendChart>()
  const valueCells = new Map<string, { value: HTMLElement; time: HTMLElement }>()
  let warnBox: HTMLElement | null = null
  const offs: (() => void)[] = []

  const destroyCharts = (): void => { for (const c of charts.values()) c.destroy(); charts.clear() }

  const close = (): void => {
    if (current) ctx.live?.unsubscribe(current)
    destroyCharts()
    panel?.remove()
    panel = null
    current = null
    detail = null
    for (const o of offs.splice(0)) o()
  }

  const fmtThresholds = (th: unknown): string => {
    const lines = thresholdLines(th)
    if (!lines.length) return '—'
    return lines.map((l) => `${levelName(l.color)} ${fmtNumber(l.value)}`).join(' · ')
  }

  const loadRange = async (): Promise<void> => {
    if (!detail) return
    const id = current
    const to = new Date()
    const from = new Date(to.getTime() - RANGES[range] * 1000)
    await Promise.all(detail.sensors.map(async (s) => {
      const chart = charts.get(s.id)
      if (!chart) return
      try {
        const rows = await ctx.api.get<{ ts: string; value: number }[]>(`/api/sensors/${encodeURIComponent(s.id)}/readings`, range === '1h' ? {} : { from: from.toISOString(), to: to.toISOString() })
        if (current === id) chart.setData(Array.isArray(rows) ? rows : [])
      } catch { if (current === id) chart.setData([]) }
    }))
  }

  const drawWarnings = (): void => {
    if (!warnBox || !current) return
    const id = current
    const ws = ctx.warnings.all().filter((w) => w.enterpriseId === id && w.status !== 'closed')
    replaceChildren(warnBox, ...(ws.length ? ws.map((w) => h('li', { class: `warn-row compact lv-${w.color}`, on: { click: () => ctx.openWarning(w.id) } },
      chip(w.color, warningLevelName(w.color)), h('span', { class: 'wr-title' }, w.title), h('span', { class: `status-badge st-${w.status}` }, t(`status.${w.status}`)),
      h('span', { class: 'wr-time' }, fmtTime(w.raisedAt)))) : [h('li', { class: 'empty' }, t('desk.empty'))]))
  }

  const draw = (): void => {
    if (!panel || !detail) return
    destroyCharts()
    valueCells.clear()
    const d = detail
    const kv = (k: string, v: string | number | null | undefined) => h('div', { class: 'kv' }, h('span', { class: 'k' }, k), h('span', { class: 'v' }, v === null || v === undefined || v === '' ? '—' : String(v)))
    const rangeBtns = h('div', { class: 'seg' }, ...(Object.keys(RANGES) as Range[]).map((r) => h('button', {
      class: `seg-btn${r === range ? ' active' : ''}`, data: { range: r }, on: { click: () => { range = r; draw() } },
    }, t(`ent.range.${r}`))))
    const sensorCards = d.sensors.map((s) => {
      const value = h('span', { class: 'sensor-value' }, s.value === null ? '—' : fmtNumber(s.value))
      const time = h('span', { class: 'sensor-time' }, fmtTime(s.ts))
      valueCells.set(s.id, { value, time })
      const chartBox = h('div', { class: 'chart' })
      const th = s.thresholds ?? s.effectiveThresholds?.thresholds ?? null
      const unit = s.unit ?? ''
      charts.set(s.id, new TrendChart(chartBox, thresholdLines(th), unit))
      const state = s.state ?? 'unknown'
      return h('div', { class: `sensor-card state-${state}${s.color ? ` lv-${s.color}` : ''}`, data: { sensor: s.id } },
        h('div', { class: 'sensor-head' },
          h('span', { class: 'sensor-name' }, s.name ?? s.id),
          h('span', { class: 'sensor-type' }, `${s.type}${s.role ? ` · ${s.role}` : ''}`),
          h('span', { class: `state-badge state-${state}` }, t(`state.${state}` as 'state.normal'))),
        h('div', { class: 'sensor-live' }, value, h('span', { class: 'sensor-unit' }, unit), time),
        h('div', { class: 'sensor-th' }, `${t('ent.thresholds')}: ${fmtThresholds(th)}`),
        chartBox)
    })
    warnBox = h('ol', { class: 'warn-list compact' })
    replaceChildren(panel,
      h('div', { class: 'ent-head' },
        h('button', { class: 'btn', id: 'ent-close', on: { click: close } }, `← ${t('ent.close')}`),
        h('h2', { class: 'ent-name', id: 'ent-name' }, d.name),
        chip(d.risk.riskLevel, levelName(d.risk.riskLevel), 'big')),
      h('div', { class: 'ent-grid' },
        h('div', { class: 'ent-card' }, h('h3', null, t('ent.profile')),
          kv(t('ent.industry'), industryName(d.industry)),
          kv(t('ent.region'), d.region?.path?.map((p) => p.name).join(' / ') ?? d.region?.name ?? d.regionId),
          kv(t('ent.staticRisk'), d.profile.staticRiskLevel ? levelName(d.profile.staticRiskLevel) : t('ent.none')),
          kv(t('ent.majorHazard'), d.profile.majorHazardLevel ? `${d.profile.majorHazardLevel}` : t('ent.none')),
          kv(t('ent.employees'), d.profile.employees),
          d.profile.notes ? kv('', d.profile.notes) : null,
          h('h4', null, t('ent.contacts')),
          ...(d.contacts.length ? d.contacts.map((c) => kv(c.role, `${c.name}${c.phone ? ` ${c.phone}` : ''}`)) : [h('div', { class: 'muted' }, t('ent.none'))])),
        h('div', { class: 'ent-card' }, h('h3', null, t('ent.risk')),
          h('div', { class: 'risk-line' }, chip(d.risk.riskLevel, levelName(d.risk.riskLevel), 'big'), h('span', { class: 'risk-score' }, `${t('map.score')} ${fmtNumber(d.risk.score, 1)}`)),
          h('h4', null, t('ent.factors')),
          h('ul', { class: 'factors' }, ...d.risk.factors.map((f) => h('li', null, f.level ? chip(f.level, levelName(f.level)) : h('span', { class: 'chip' }, '—'), h('span', { class: 'factor-kind' }, f.kind), h('span', { class: 'factor-detail' }, f.detail)))),
          h('h4', null, t('ent.warnings')), warnBox)),
      h('div', { class: 'ent-sensors-head' }, h('h3', null, `${t('ent.sensors')} (${d.sensors.length})`), rangeBtns),
      h('div', { class: 'sensor-grid' }, ...sensorCards))
    drawWarnings()
    requestAnimationFrame(() => { void loadRange() })
  }

  const onReadings = (): void => {
    const r = ctx.lastReadings
    if (!r || r.enterpriseId !== current) return
    const bySensor = new Map<string, { ts: string; value: number }[]>()
    for (const it of r.items) {
      const cell = valueCells.get(it.sensorId)
      if (cell) { cell.value.textContent = fmtNumber(it.value); cell.time.textContent = fmtTime(it.ts) }
      const arr = bySensor.get(it.sensorId)
      if (arr) arr.push(it)
      else bySensor.set(it.sensorId, [it])
    }
    if (range === '1h') for (const [id, pts] of bySensor) charts.get(id)?.append(pts)
  }

  const open = (id: string): void => {
    close()
    current = id
    panel = h('section', { class: 'ent-panel', id: 'enterprise-panel' }, h('div', { class: 'muted' }, t('ent.loading')))
    host.appendChild(panel)
    ctx.live?.subscribe(id)
    offs.push(ctx.on('readings', onReadings), ctx.on('warnings', drawWarnings), ctx.on('lang', draw))
    ctx.api.get<EnterpriseDetail>(`/api/enterprises/${encodeURIComponent(id)}`).then((d) => {
      if (current !== id) return
      detail = { ...d, contacts: d.contacts ?? [], sensors: d.sensors ?? [], openWarnings: d.openWarnings ?? [], profile: d.profile ?? {} }
      for (const w of detail.openWarnings) ctx.warnings.upsert(w)
      draw()
    }, (e: unknown) => {
      if (current === id && panel) replaceChildren(panel, h('button', { class: 'btn', on: { click: close } }, `← ${t('ent.close')}`), h('p', { class: 'map-error show' }, e instanceof Error ? e.message : String(e)))
    })
  }

  const onKey = (e: KeyboardEvent): void => { if (e.key === 'Escape' && current && !document.querySelector('.overlay')) close() }
  document.addEventListener('keydown', onKey)
  return { open, close, get currentId() { return current } }
}
