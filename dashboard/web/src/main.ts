// Entry point: login, then the monitoring session — header counters, the risk map, the warning desk
// and the enterprise drill-down — kept live over socket.io, resynchronised after every reconnect.
import './style.css'
import { ApiClient, ApiRequestError } from './api.js'
import { connectLive, type LiveStatus } from './socket.js'
import { AlarmSound } from './sound.js'
import { EnterpriseTable, WarningStore, ZERO_STATS, acceptStats, isAlarming, type EnterpriseItem } from './store.js'
import { NO_FILTER } from './filters.js'
import { createBus, type Ctx, type SessionUser } from './context.js'
import { h, replaceChildren } from './dom.js'
import { t, lang, setLang, onLangChange, type Lang } from './i18n.js'
import { renderLogin } from './views/login.js'
import { createHeader } from './views/header.js'
import { createMapView } from './views/map-view.js'
import { createWarningDesk } from './views/warning-desk.js'
import { createEnterpriseView } from './views/enterprise-view.js'
import type { Warning } from '../../../core/contracts/warning.js'
import type { RegionSummary } from '../../../core/contracts/api.js'
import type { StatsPush } from '../../../core/contracts/socket-events.js'

const root = document.getElementById('app')!
const api = new ApiClient()
const TOKEN_KEY = 'yujing.token'
const USER_KEY = 'yujing.user'

function initLang(): void {
  const saved = localStorage.getItem('yujing.lang')
  const q = new URLSearchParams(location.search).get('lang')
  const l = (q === 'en' || q === 'zh' ? q : saved === 'en' ? 'en' : 'zh') as Lang
  setLang(l)
  document.documentElement.lang = l === 'en' ? 'en' : 'zh-CN'
  document.title = t('app.title')
  onLangChange((nl) => {
    localStorage.setItem('yujing.lang', nl)
    document.documentElement.lang = nl === 'en' ? 'en' : 'zh-CN'
    document.title = t('app.title')
  })
}

let stopSession: (() => void) | null = null

function showLogin(notice?: string): void {
  stopSession?.()
  stopSession = null
  sessionStorage.removeItem(TOKEN_KEY)
  sessionStorage.removeItem(USER_KEY)
  api.token = ''
  renderLogin(root, api, (token, user) => {
    sessionStorage.setItem(TOKEN_KEY, token)
    sessionStorage.setItem(USER_KEY, JSON.stringify(user))
    startSession(token, user)
  }, notice)
}

function startSession(token: string, user: SessionUser): void {
  api.token = token
  api.onUnauthorized = () => showLogin(t('conn.auth'))
  const bus = createBus()
  const warnings = new WarningStore()
  const enterprises = new EnterpriseTable()
  const sound = new AlarmSound()
  let snapshotLoaded = false

  const ctx: Ctx = {
    ...bus,
    api, live: null, user, warnings, enterprises, sound,
    regions: [], stats: ZERO_STATS, mapFilter: NO_FILTER,
    deskFilter: { levels: new Set(), status: undefined, text: '' },
    connection: 'connecting', lastReadings: null, lastAlarm: null,
    canAct: () => user.role === 'duty' || user.role === 'admin',
    openEnterprise: (id) => entView.open(id),
    openWarning: (id) => desk.openDetail(id),
    zoomToRegion: (id) => mapView.zoomToRegion(id),
  }

  const wallOn = (): boolean => document.body.classList.contains('wall')
  const toggleWall = (): void => {
    const on = !wallOn()
    document.body.classList.toggle('wall', on)
    if (on && document.fullscreenElement === null) void document.documentElement.requestFullscreen?.().catch(() => undefined)
    if (!on && document.fullscreenElement) void document.exitFullscreen().catch(() => undefined)
    ctx.emit('lang')
    window.dispatchEvent(new Event('resize'))
  }

  const header = createHeader(ctx, { logout: () => showLogin(), toggleWall, isWall: wallOn })
  const mapView = createMapView(ctx)
  const desk = createWarningDesk(ctx)
  const banner = h('div', { class: 'banner', id: 'conn-banner', role: 'alert' })
  const mainArea = h('div', { class: 'main-area' }, mapView.el)
  const entView = createEnterpriseView(ctx, mainArea)
  replaceChildren(root, h('div', { class: 'shell' }, header.el, banner, h('main', { class: 'workspace' }, mainArea, desk.el)))
  if (new URLSearchParams(location.search).get('wall') === '1') document.body.classList.add('wall')

  const loadSnapshots = async (): Promise<void> => {
    const [ws, ents, regs, stats] = await Promise.all([
      api.get<Warning[]>('/api/warnings', { limit: 1000 }),
      api.get<EnterpriseItem[]>('/api/enterprises'),
      api.get<RegionSummary[]>('/api/regions').catch(() => [] as RegionSummary[]),
      api.get<StatsPush>('/api/stats').catch(() => null),
    ])
    warnings.replaceAll(Array.isArray(ws) ? ws : [])
    enterprises.load(Array.isArray(ents) ? ents : [])
    ctx.regions = Array.isArray(regs) ? regs : []
    if (stats) ctx.stats = acceptStats(ctx.stats, stats)
    snapshotLoaded = true
    ctx.emit('regions'); ctx.emit('enterprises'); ctx.emit('warnings'); ctx.emit('stats')
  }

  let bannerTimer: ReturnType<typeof setTimeout> | undefined
  const setBanner = (kind: 'lost' | 'back' | 'none'): void => {
    clearTimeout(bannerTimer)
    banner.className = `banner ${kind === 'lost' ? 'show lost' : kind === 'back' ? 'show back' : ''}`
    banner.textContent = kind === 'lost' ? t('conn.lost') : kind === 'back' ? t('conn.reconnected') : ''
    if (kind === 'back') bannerTimer = setTimeout(() => setBanner('none'), 2500)
  }

  const onStatus = (s: LiveStatus, resynced: boolean): void => {
    if (s === 'auth_failed') { showLogin(t('conn.auth')); return }
    const prev = ctx.connection
    ctx.connection = s === 'connected' ? 'connected' : s === 'connecting' ? 'connecting' : 'disconnected'
    document.body.dataset.connection = ctx.connection
    ctx.emit('connection')
    if (s === 'disconnected') setBanner('lost')
    if (s === 'connected') {
      setBanner(prev === 'disconnected' ? 'back' : 'none')
      if (resynced) void loadSnapshots().then(() => mapView.reload()).catch(() => undefined)
    }
  }

  let flashTimer: ReturnType<typeof setTimeout> | undefined
  const live = connectLive(token, {
    onWarning: (w) => {
      if (!w || typeof w !== 'object' || typeof w.id !== 'string') return
      const prev = warnings.get(w.id)
      if (warnings.upsert(w) === 'stale') return
      ctx.emit('warnings')
      if (snapshotLoaded && isAlarming(prev, w)) {
        ctx.lastAlarm = { id: w.id, color: w.color }
        sound.play(w.color)
        desk.flash(w.id)
        document.body.classList.remove('alarm-red', 'alarm-orange')
        void document.body.offsetWidth
        document.body.classList.add(`alarm-${w.color}`)
        clearTimeout(flashTimer)
        flashTimer = setTimeout(() => document.body.classList.remove('alarm-red', 'alarm-orange'), 5000)
        ctx.emit('alarm')
      }
      if (warnings.size > 1500) warnings.pruneClosed(300)
    },
    onRisk: (r) => { if (enterprises.applyRisk(r)) ctx.emit('enterprises'); mapView.applyRisk(r) },
    onReadings: (r) => { ctx.lastReadings = r; ctx.emit('readings') },
    onStats: (s) => { const next = acceptStats(ctx.stats, s); if (next !== ctx.stats) { ctx.stats = next; ctx.emit('stats') } },
    onStatus,
    checkAuth: async () => {
      try { await api.get('/api/me'); return true } catch (e) { return !(e instanceof ApiRequestError && e.status === 401) }
    },
  })
  ctx.live = live

  const offLang = onLangChange(() => ctx.emit('lang'))
  stopSession = () => { offLang(); live.close(); entView.close(); desk.destroy(); header.destroy(); mapView.destroy(); document.body.classList.remove('wall', 'alarm-red', 'alarm-orange') }

  void loadSnapshots().catch((e: unknown) => { if (!(e instanceof ApiRequestError && e.status === 401)) console.error(e) })
  void mapView.start()
  ;(window as unknown as { __yujing?: unknown }).__yujing = { ctx, lang }
}

initLang()
const savedToken = sessionStorage.getItem(TOKEN_KEY)
const savedUser = sessionStorage.getItem(USER_KEY)
if (savedToken && savedUser) {
  try { startSession(savedToken, JSON.parse(savedUser) as SessionUser) } catch { showLogin() }
} else showLogin()
