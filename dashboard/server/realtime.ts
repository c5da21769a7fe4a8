// socket.io on the dashboard's HTTP server (path /socket.io, handshake auth {token}). Pushes
// `warning` at once, `risk` and `readings` coalesced, `stats` every second, each only to sockets
// whose user may see it: sockets are grouped in one room per jurisdiction, and per enterprise for
// readings (joined only through a validated, jurisdiction-checked `subscribe`).
import type { Server as HttpServer, IncomingMessage } from 'node:http'
import { Server, type Socket } from 'socket.io'
import { Compile } from 'typebox/compile'
import { SubscribeRequest, type ClientToServerEvents, type ReadingsPush, type ServerToClientEvents } from '../../core/contracts/socket-events.js'
import type { RiskEvent, RiskState } from '../../core/contracts/risk.js'
import type { ReadingBatch } from '../../core/contracts/reading.js'
import type { Warning } from '../../core/contracts/warning.js'
import { iso } from '../../core/contracts/time.js'
import type { RegistryHolder } from '../../core/registry/registry-holder.js'
import type { RegistryIndex } from '../../core/registry/registry-index.js'
import type { Clock, TimerHandle } from '../../core/runtime/clock.js'
import type { Logger } from '../../core/runtime/logger.js'
import type { Metrics } from '../../core/runtime/metrics.js'
import type { Auth } from './auth.js'
import { createJurisdictionCache, jurisdictionKey, type Jurisdiction, type ScopedUser } from './jurisdiction.js'
import type { LiveView } from './live-view.js'
import type { EnterpriseLevelIndex } from './enterprise-level-index.js'
import { statsFor } from './views.js'
import { coalesceFrames } from './frame-coalescing.js'

interface SocketData { username: string; scopeKey: string; expiresAt: number }
type Io = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>
type Sock = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>

export interface RealtimeOptions {
  /** Coalescing period for `risk` and `readings`; default 250 ms. */
  coalesceMs?: number
  /** Period of `stats`; default 1000 ms. */
  statsIntervalMs?: number
  /** Cross-origin browser origins allowed (besides the page's own). */
  corsOrigins?: readonly string[]
  /** Most enterprises one socket may subscribe to at once. */
  maxSubscriptions?: number
  /** Most readings items per enterprise per push (the newest are kept). */
  maxItemsPerPush?: number
}

export interface RealtimeDeps {
  httpServer: HttpServer
  auth: Auth
  registry: RegistryHolder
  live: LiveView
  levels: EnterpriseLevelIndex
  clock: Clock
  metrics: Metrics
  logger: Logger
  options?: RealtimeOptions
}

export interface Realtime {
  readonly io: Io
  /** Starts the push timers and listens to the live view. */
  start(): void
  /** Disconnects every client and stops pushing (the HTTP server is closed by its owner). */
  stop(): Promise<void>
}

const checkSubscribe = Compile(SubscribeRequest)
const scopeRoom = (key: string): string => `j:${key}`
const enterpriseRoom = (id: string): string => `e:${id}`

function sameOrigin(req: IncomingMessage, allowed: readonly string[]): boolean {
  const origin = req.headers.origin
  if (!origin) return true // not a browser cross-origin request
  if (allowed.includes('*') || allowed.includes(origin)) return true
  try { return new URL(origin).host === req.headers.host } catch { return false }
}

export function createRealtime(deps: RealtimeDeps): Realtime {
  const { auth, registry, live, levels, clock, metrics, logger } = deps
  const coalesceMs = deps.options?.coalesceMs ?? 250
  const statsMs = deps.options?.statsIntervalMs ?? 1000
  const cors = deps.options?.corsOrigins ?? []
  const maxSubs = deps.options?.maxSubscriptions ?? 200
  const maxItems = deps.options?.maxItemsPerPush ?? 5000
  const jurisdiction = createJurisdictionCache()

  const io: Io = new Server(deps.httpServer, {
    path: '/socket.io',
    serveClient: false,
    maxHttpBufferSize: 16 * 1024,
    allowRequest: (req, cb) => cb(null, sameOrigin(req, cors)),
    ...(cors.length ? { cors: { origin: [...cors] } } : {}),
  })

  io.engine.on('connection', coalesceFrames)

  /** Jurisdiction rooms in use: key → the scope that defines it, and how many sockets are in it. */
  const scopes = new Map<string, { scope: ScopedUser; sockets: number }>()
  const pendingRisk = new Map<string, RiskEvent>()
  const pendingReadings = new Map<string, ReadingsPush['items']>()
  const timers: TimerHandle[] = []
  const unlisten: (() => void)[] = []

  const scopeOf = (key: string, idx: RegistryIndex): Jurisdiction | undefined => {
    const s = scopes.get(key)
    return s ? jurisdiction(s.scope, idx) : undefined
  }

  function joinScope(socket: Sock, scope: ScopedUser): void {
    const key = jurisdictionKey(scope)
    if (socket.data.scopeKey === key) return
    leaveScope(socket)
    const s = scopes.get(key)
    if (s) s.sockets++
    else scopes.set(key, { scope: { ...(scope.regionIds ? { regionIds: [...scope.regionIds] } : {}), ...(scope.enterpriseIds ? { enterpriseIds: [...scope.enterpriseIds] } : {}) }, sockets: 1 })
    socket.data.scopeKey = key
    void socket.join(scopeRoom(key))
  }

  function leaveScope(socket: Sock): void {
    const key = socket.data.scopeKey
    if (!key) return
    void socket.leave(scopeRoom(key))
    const s = scopes.get(key)
    if (s && --s.sockets <= 0) scopes.delete(key)
    socket.data.scopeKey = ''
  }

  function currentJurisdiction(socket: Sock): Jurisdiction | undefined {
    const idx = registry.current()
    const user = idx.users.get(socket.data.username)
    return user ? jurisdiction(user, idx) : undefined
  }

  io.use((socket, next) => {
    const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token
    const who = auth.authenticate(typeof token === 'string' ? token : undefined)
    if (!who) { next(new Error('unauthorized: a valid token is required in auth.token')); return }
    socket.data.username = who.username
    socket.data.scopeKey = ''
    socket.data.expiresAt = who.expiresAt
    next()
  })

  io.on('connection', (socket: Sock) => {
    metrics.socketClients.inc()
    const user = registry.current().users.get(socket.data.username)
    if (!user) { socket.disconnect(true); return }
    joinScope(socket, user)

    type Ack = ((res: { ok: boolean; error?: string }) => void) | undefined
    const answer = (ack: unknown, res: { ok: boolean; error?: string }): void => { if (typeof ack === 'function') (ack as NonNullable<Ack>)(res) }

    socket.on('subscribe', (req: unknown, ack?: unknown) => {
      if (!checkSubscribe.Check(req)) { answer(ack, { ok: false, error: 'expected {enterpriseId: string}' }); return }
      const j = currentJurisdiction(socket)
      if (!j || !registry.current().enterprises.has(req.enterpriseId) || !j.seesEnterprise(req.enterpriseId)) { answer(ack, { ok: false, error: `enterprise "${req.enterpriseId}" not found` }); return }
      const current = [...socket.rooms].filter((r) => r.startsWith('e:')).length
      if (current >= maxSubs && !socket.rooms.has(enterpriseRoom(req.enterpriseId))) { answer(ack, { ok: false, error: `at most ${maxSubs} subscriptions per connection` }); return }
      void socket.join(enterpriseRoom(req.enterpriseId))
      answer(ack, { ok: true })
    })
    socket.on('unsubscribe', (req: unknown, ack?: unknown) => {
      if (!checkSubscribe.Check(req)) { answer(ack, { ok: false, error: 'expected {enterpriseId: string}' }); return }
      void socket.leave(enterpriseRoom(req.enterpriseId))
      answer(ack, { ok: true })
    })
    socket.on('disconnect', () => {
      metrics.socketClients.dec()
      leaveScope(socket)
    })
  })

  function onWarning(w: Warning): void {
    const idx = registry.current()
    for (const key of scopes.keys()) {
      if (scopeOf(key, idx)?.seesWarning(w)) io.to(scopeRoom(key)).emit('warning', w)
    }
  }

  function onRisk(r: RiskState): void {
    const ev: RiskEvent = { kind: r.kind, id: r.id, riskLevel: r.riskLevel, score: r.score, openWarnings: r.openWarnings }
    if (r.counts) ev.counts = r.counts
    pendingRisk.set(`${r.kind}:${r.id}`, ev)
  }

  function onReadings(b: ReadingBatch): void {
    const room = io.sockets.adapter.rooms.get(enterpriseRoom(b.enterpriseId))
    if (!room || room.size === 0) return
    let buf = pendingReadings.get(b.enterpriseId)
    if (!buf) { buf = []; pendingReadings.set(b.enterpriseId, buf) }
    for (const it of b.items) buf.push({ sensorId: it.sensorId, ts: iso(it.ts), value: it.value, quality: it.quality })
    if (buf.length > maxItems * 2) buf.splice(0, buf.length - maxItems)
  }

  function flush(): void {
    if (pendingRisk.size) {
      const events = [...pendingRisk.values()]
      pendingRisk.clear()
      const idx = registry.current()
      for (const key of scopes.keys()) {
        const j = scopeOf(key, idx)
        const mine = j?.unrestricted ? events : events.filter((e) => j?.seesRisk(e))
        if (mine.length) io.to(scopeRoom(key)).emit('risk', mine)
      }
    }
    if (pendingReadings.size) {
      for (const [enterpriseId, items] of pendingReadings) {
        io.to(enterpriseRoom(enterpriseId)).emit('readings', { enterpriseId, items: items.length > maxItems ? items.slice(-maxItems) : items })
      }
      pendingReadings.clear()
    }
  }

  function pushStats(): void {
    const idx = registry.current()
    const now = clock.now()
    for (const key of scopes.keys()) {
      const j = scopeOf(key, idx)
      if (j) io.to(scopeRoom(key)).emit('stats', statsFor(live, levels, j, now))
    }
    for (const socket of io.sockets.sockets.values()) {
      if (socket.data.expiresAt <= now) socket.disconnect(true)
    }
  }

  /** A registry change can remove users or narrow their jurisdiction: re-check every socket. */
  function onRegistryChange(idx: RegistryIndex): void {
    for (const socket of io.sockets.sockets.values()) {
      const user = idx.users.get(socket.data.username)
      if (!user) { socket.disconnect(true); continue }
      joinScope(socket, user)
      const j = jurisdiction(user, idx)
      for (const room of [...socket.rooms]) {
        if (room.startsWith('e:') && !j.seesEnterprise(room.slice(2))) void socket.leave(room)
      }
    }
  }

  const safe = (name: string, fn: () => void) => () => {
    try { fn() } catch (err) { logger.error({ err }, `realtime ${name} failed`) }
  }

  return {
    io,
    start() {
      if (timers.length) return
      unlisten.push(live.onWarning((w) => safe('warning push', () => onWarning(w))()))
      unlisten.push(live.onRisk(onRisk))
      unlisten.push(live.onReadings(onReadings))
      unlisten.push(registry.onChange((idx) => safe('registry change', () => onRegistryChange(idx))()))
      timers.push(clock.setInterval(safe('flush', flush), coalesceMs))
      timers.push(clock.setInterval(safe('stats', pushStats), statsMs))
    },
    async stop() {
      for (const t of timers.splice(0)) clock.clear(t)
      for (const u of unlisten.splice(0)) u()
      io.disconnectSockets(true)
      io.engine.close()
    },
  }
}
