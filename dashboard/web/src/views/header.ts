// Header: title, jurisdiction, clock, connection state, and the live counters (enterprises by level,
// open warnings by level, overdue, sensors offline, readings per second), fed by `stats`.
import { h, replaceChildren } from '../dom.js'
import { t, lang, setLang, levelName, warningLevelName } from '../i18n.js'
import { COLORS, type Color } from '../../../../core/contracts/levels.js'
import { total } from '../store.js'
import type { Ctx } from '../context.js'

export interface HeaderView { el: HTMLElement; destroy(): void }

export function createHeader(ctx: Ctx, actions: { logout(): void; toggleWall(): void; isWall(): boolean }): HeaderView {
  const el = h('header', { class: 'app-header' })
  const numbers = new Map<string, HTMLElement>()
  const clock = h('span', { class: 'clock' })
  const conn = h('span', { class: 'conn', id: 'conn-state' })

  const counter = (key: string, label: string, cls: string, title?: string): HTMLElement => {
    const n = h('span', { class: 'kpi-num', data: { kpi: key } }, '0')
    numbers.set(key, n)
    return h('div', { class: `kpi ${cls}`, title: title ?? label }, n, h('span', { class: 'kpi-label' }, label))
  }

  const build = (): void => {
    numbers.clear()
    const soundBtn = h('button', {
      class: 'btn', id: 'btn-sound',
      on: {
        click: () => {
          if (!ctx.sound.enabled) ctx.sound.enable()
          else ctx.sound.muted = !ctx.sound.muted
          build()
        },
      },
    }, !ctx.sound.enabled ? t('hdr.sound') : ctx.sound.muted ? t('hdr.unmute') : t('hdr.mute'))
    if (!ctx.sound.enabled) soundBtn.classList.add('attention')
    const group = (title: string, key: 'ent' | 'warn', colors: readonly Color[]): HTMLElement =>
      h('div', { class: 'kpi-group' }, h('div', { class: 'kpi-group-title' }, title),
        h('div', { class: 'kpi-row' }, ...colors.map((c) => counter(`${key}-${c}`, key === 'ent' ? levelName(c) : warningLevelName(c), `lv-${c}`))))
    replaceChildren(el,
      h('div', { class: 'hdr-top' },
        h('div', { class: 'brand' }, h('span', { class: 'brand-mark' }, '预'), h('span', { class: 'brand-title' }, t('app.title'))),
        h('div', { class: 'hdr-meta' },
          h('span', { class: 'who', id: 'who' }, `${ctx.user.name ?? ctx.user.username} · ${ctx.user.role}`),
          conn, clock,
          soundBtn,
          h('button', { class: 'btn', id: 'btn-lang', on: { click: () => setLang(lang() === 'zh' ? 'en' : 'zh') } }, t('hdr.lang')),
          h('button', { class: 'btn', id: 'btn-wall', on: { click: () => actions.toggleWall() } }, actions.isWall() ? t('hdr.exitFullscreen') : t('hdr.fullscreen')),
          h('button', { class: 'btn', id: 'btn-logout', on: { click: () => actions.logout() } }, t('hdr.logout')))),
      h('div', { class: 'kpis' },
        group(t('hdr.enterprises'), 'ent', COLORS),
        group(t('hdr.warnings'), 'warn', COLORS),
        h('div', { class: 'kpi-group' }, h('div', { class: 'kpi-group-title' }, '\u00a0'),
          h('div', { class: 'kpi-row' },
            counter('overdue', t('hdr.overdue'), 'overdue'),
            counter('offline', t('hdr.offline'), 'offline'),
            counter('rps', t('hdr.rps'), 'rps')))))
    update()
    updateConn()
  }

  const set = (key: string, v: number | string): void => {
    const n = numbers.get(key)
    if (!n) return
    const s = String(v)
    if (n.textContent !== s) n.textContent = s
    const kpi = n.parentElement
    if (kpi && typeof v === 'number') kpi.classList.toggle('nonzero', v > 0)
  }

  const update = (): void => {
    const s = ctx.stats
    for (const c of COLORS) { set(`ent-${c}`, s.enterprises[c]); set(`warn-${c}`, s.openWarnings[c]) }
    set('overdue', s.overdue)
    set('offline', s.sensorsOffline)
    set('rps', Math.round(s.readingsPerSecond * 10) / 10)
    el.dataset.openWarnings = String(total(s.openWarnings))
  }

  const updateConn = (): void => {
    conn.className = `conn ${ctx.connection}`
    conn.textContent = ctx.connection === 'connected' ? `● ${t('conn.ok')}` : `● ${t('conn.lost').replace(/[，,].*$/, '')}`
  }

  const tick = (): void => {
    clock.textContent = new Intl.DateTimeFormat(lang() === 'en' ? 'en-GB' : 'zh-CN', {
      timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
    }).format(new Date())
  }
  tick()
  const timer = setInterval(tick, 1000)
  build()
  const offs = [ctx.on('stats', update), ctx.on('lang', build), ctx.on('connection', updateConn)]
  return { el, destroy() { clearInterval(timer); for (const o of offs) o() } }
}
