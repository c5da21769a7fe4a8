// The warning desk: the live list (most severe, then newest first), filters, row actions, flashing of
// new red/orange warnings, and the detail view with the warning's history.
import { h, replaceChildren, chip } from '../dom.js'
import { t, warningLevelName, fmtTime, fmtNumber } from '../i18n.js'
import { COLORS } from '../../../../core/contracts/levels.js'
import { WARNING_STATUSES, type Warning, type WarningStatus } from '../../../../core/contracts/warning.js'
import { isOverdue } from '../store.js'
import { filterEnterprises, regionSubtree } from '../filters.js'
import { actionButtons } from './warning-actions.js'
import type { Ctx } from '../context.js'

const MAX_ROWS = 300

export interface WarningDesk { el: HTMLElement; flash(id: string): void; openDetail(id: string): void; destroy(): void }

export function createWarningDesk(ctx: Ctx): WarningDesk {
  const list = h('ol', { class: 'warn-list', id: 'warning-list' })
  const count = h('span', { class: 'desk-count' })
  const filters = h('div', { class: 'desk-filters' })
  const toast = h('div', { class: 'toast', role: 'status' })
  const el = h('section', { class: 'desk', id: 'warning-desk' }, h('div', { class: 'desk-head' }, h('h2', { class: 'desk-title' }), count), filters, list, toast)
  const flashing = new Map<string, number>()
  let frame = 0
  let detail: { id: string; overlay: HTMLElement; body: HTMLElement } | null = null

  const showToast = (msg: string): void => {
    toast.textContent = msg
    toast.classList.add('show')
    setTimeout(() => toast.classList.remove('show'), 4000)
  }

  // The map's industry and region filters narrow the desk too (its level filter is the desk's own).
  let allowedKey = ''
  let allowed: Set<string> | undefined
  const enterpriseAllowed = (): Set<string> | undefined => {
    const f = ctx.mapFilter
    if (f.industry === 'all' && f.regionId === null) return undefined
    const key = `${ctx.enterprises.dataVersion}|${f.industry}|${f.regionId ?? ''}`
    if (key !== allowedKey) {
      allowedKey = key
      const sub = f.regionId ? regionSubtree(ctx.regions, f.regionId) : null
      allowed = new Set(filterEnterprises(ctx.enterprises.items, { ...f, levels: new Set() }, sub).map((e) => e.id))
    }
    return allowed
  }

  const drawFilters = (): void => {
    const f = ctx.deskFilter
    const lv = h('div', { class: 'level-toggles' }, ...COLORS.map((c) => h('button', {
      class: `lvl-toggle lv-${c}${f.levels.has(c) ? ' on' : ''}`, data: { color: c },
      on: { click: () => { if (f.levels.has(c)) f.levels.delete(c); else f.levels.add(c); drawFilters(); schedule() } },
    }, warningLevelName(c))))
    const st = h('select', { class: 'sel', id: 'desk-status' }, h('option', { value: '' }, t('desk.allOpen')), ...WARNING_STATUSES.map((s) => h('option', { value: s }, t(`status.${s}`))))
    st.value = f.status ?? ''
    st.addEventListener('change', () => {
      f.status = (st.value || undefined) as WarningStatus | undefined
      if (f.status === 'closed') void loadClosed()
      schedule()
    })
    const q = h('input', { class: 'search', id: 'desk-search', placeholder: t('desk.search'), value: f.text })
    q.addEventListener('input', () => { f.text = q.value; schedule() })
    replaceChildren(filters, lv, st, q)
    ;(el.querySelector('.desk-title') as HTMLElement).textContent = t('desk.title')
  }

  const loadClosed = async (): Promise<void> => {
    try {
      const ws = await ctx.api.get<Warning[]>('/api/warnings', { status: 'closed', limit: 200 })
      for (const w of ws) ctx.warnings.upsert(w)
      schedule()
    } catch (e) { showToast(e instanceof Error ? e.message : String(e)) }
  }

  const row = (w: Warning, now: number): HTMLElement => {
    const overdue = isOverdue(w, now)
    const cls = ['warn-row', `lv-${w.color}`, `st-${w.status}`]
    if (overdue) cls.push('overdue')
    if (flashing.has(w.id)) cls.push('flash')
    const valueText = w.value !== undefined ? `${fmtNumber(w.value)}${w.threshold !== undefined ? ` / ${fmtNumber(w.threshold)}` : ''}` : ''
    return h('li', { class: cls.join(' '), data: { id: w.id, status: w.status, level: String(w.level) }, on: { click: () => openDetail(w.id) } },
      h('div', { class: 'wr-main' },
        chip(w.color, warningLevelName(w.color)),
        h('div', { class: 'wr-text' },
          h('div', { class: 'wr-title' }, w.title),
          h('div', { class: 'wr-sub' },
            h('span', { class: 'wr-ent' }, ctx.enterprises.name(w.enterpriseId)),
            valueText ? h('span', { class: 'wr-val' }, valueText) : null,
            h('span', { class: 'wr-time' }, fmtTime(w.raisedAt))))),
      h('div', { class: 'wr-side' },
        h('span', { class: `status-badge st-${w.status}`, data: { role: 'status' } }, t(`status.${w.status}`)),
        overdue ? h('span', { class: 'overdue-badge' }, t('desk.overdue')) : null,
        !w.active && w.status !== 'closed' ? h('span', { class: 'cleared-badge' }, t('desk.cleared')) : null,
        actionButtons(ctx, w, showToast)))
  }

  const render = (): void => {
    frame = 0
    const now = Date.now()
    const items = ctx.warnings.list({ levels: ctx.deskFilter.levels, status: ctx.deskFilter.status, text: ctx.deskFilter.text, enterpriseIds: enterpriseAllowed() }, (id) => ctx.enterprises.name(id))
    count.textContent = String(items.length)
    if (!items.length) replaceChildren(list, h('li', { class: 'empty' }, t('desk.empty')))
    else replaceChildren(list, ...items.slice(0, MAX_ROWS).map((w) => row(w, now)))
    if (detail) drawDetail()
  }
  const schedule = (): void => { if (!frame) frame = requestAnimationFrame(render) }

  const flash = (id: string): void => {
    const prev = flashing.get(id)
    if (prev) clearTimeout(prev)
    flashing.set(id, window.setTimeout(() => { flashing.delete(id); schedule() }, 6000))
    schedule()
  }

  const drawDetail = (): void => {
    if (!detail) return
    const w = ctx.warnings.get(detail.id)
    if (!w) { replaceChildren(detail.body, h('p', null, t('ent.loading'))); return }
    const kv = (k: string, v: string | number | null | undefined) => h('div', { class: 'kv' }, h('span', { class: 'k' }, k), h('span', { class: 'v' }, v === null || v === undefined || v === '' ? '—' : String(v)))
    replaceChildren(detail.body,
      h('div', { class: `detail-head lv-${w.color}` }, chip(w.color, warningLevelName(w.color)), h('h3', { class: 'detail-title' }, w.title),
        h('span', { class: `status-badge st-${w.status}`, id: 'detail-status' }, t(`status.${w.status}`))),
      h('div', { class: 'kv-grid' },
        kv(t('desk.openEnterprise'), ctx.enterprises.name(w.enterpriseId)),
        kv(t('ent.sensor'), w.sensorId ?? ''),
        kv(t('desk.value'), w.value !== undefined ? fmtNumber(w.value) : ''),
        kv(t('desk.threshold'), w.threshold !== undefined ? fmtNumber(w.threshold) : ''),
        kv(t('desk.peak'), w.peakValue !== undefined ? fmtNumber(w.peakValue) : ''),
        kv(t('desk.occurrences'), w.occurrences),
        kv(t('desk.raisedAt'), fmtTime(w.raisedAt)),
        kv(t('desk.deadline'), `${fmtTime(w.ackDeadline)}${isOverdue(w, Date.now()) ? ` · ${t('desk.overdue')}` : ''}`),
        kv(t('desk.tier'), w.escalationTier),
        kv(t('ent.state'), w.active ? t('desk.active') : t('desk.cleared')),
        w.outcome ? kv(t('desk.outcome'), t(`outcome.${w.outcome}`)) : null),
      actionButtons(ctx, w, showToast),
      h('button', { class: 'btn link', on: { click: () => { const id = w.enterpriseId; closeDetail(); ctx.openEnterprise(id) } } }, `${t('desk.openEnterprise')} →`),
      h('h4', null, t('desk.history')),
      h('ol', { class: 'history', id: 'warning-history' }, ...[...w.events].reverse().map((ev) => h('li', { class: `ev ev-${ev.type}` },
        h('span', { class: 'ev-time' }, fmtTime(ev.at)),
        h('span', { class: 'ev-type' }, ev.type),
        ev.by ? h('span', { class: 'ev-by' }, ev.by) : null,
        ev.outcome ? h('span', { class: 'ev-outcome' }, t(`outcome.${ev.outcome}`)) : null,
        ev.note ? h('span', { class: 'ev-note' }, ev.note) : null))))
  }

  const closeDetail = (): void => { detail?.overlay.remove(); detail = null }

  function openDetail(id: string): void {
    closeDetail()
    const body = h('div', { class: 'detail-body' })
    const panel = h('div', { class: 'dialog detail', id: 'warning-detail' }, h('button', { class: 'btn close-x', on: { click: closeDetail } }, '×'), body)
    const overlay = h('div', { class: 'overlay', on: { click: (e) => { if (e.target === overlay) closeDetail() } } }, panel)
    document.body.appendChild(overlay)
    detail = { id, overlay, body }
    drawDetail()
    if (!ctx.warnings.get(id)) {
      ctx.api.get<Warning>(`/api/warnings/${encodeURIComponent(id)}`).then((w) => { ctx.warnings.upsert(w); ctx.emit('warnings') }, (e: unknown) => showToast(String(e)))
    }
  }

  drawFilters()
  render()
  const onKey = (e: KeyboardEvent): void => { if (e.key === 'Escape') closeDetail() }
  document.addEventListener('keydown', onKey)
  const minute = setInterval(schedule, 30_000)
  const offs = [ctx.on('warnings', schedule), ctx.on('enterprises', schedule), ctx.on('lang', () => { drawFilters(); schedule() }), ctx.on('filter', schedule)]
  return { el, flash, openDetail, destroy() { clearInterval(minute); document.removeEventListener('keydown', onKey); for (const o of offs) o(); closeDetail() } }
}

