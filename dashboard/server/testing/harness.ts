// Test harness (not imported by production code): a dashboard server listening on a free port with
// the real memory bus, memory stores, the fixture registry on a fake clock, and a fake alerting that
// answers `commands` with `commandResults` (transitions per contracts §4) and republishes the warning.
import { io as ioClient, type Socket } from 'socket.io-client'
import { createMemoryBus } from '../../../core/bus/memory-bus.js'
import { topics } from '../../../core/contracts/topics.js'
import type { Warning } from '../../../core/contracts/warning.js'
import type { WarningCommand, CommandResult } from '../../../core/contracts/command.js'
import type { Bus } from '../../../core/bus/bus.js'
import type { ClientToServerEvents, ServerToClientEvents } from '../../../core/contracts/socket-events.js'
import { createRegistryHolder } from '../../../core/registry/registry-holder.js'
import { indexRegistry } from '../../../core/registry/registry-index.js'
import { fakeClock, type FakeClock } from '../../../core/runtime/clock.js'
import { createLogger } from '../../../core/runtime/logger.js'
import { createMetrics } from '../../../core/runtime/metrics.js'
import { createMemoryStores } from '../../../core/store/memory-stores.js'
import type { Stores } from '../../../core/store/ports.js'
import { createDashboardServer, type DashboardOptions, type DashboardServer } from '../dashboard-server.js'
import { fixtureDoc, PASSWORDS, type FixtureUser } from './fixture.js'

export const TEST_SECRET = 'test-secret-0123456789abcdef'

export interface Harness {
  server: DashboardServer
  base: string
  port: number
  bus: Bus
  stores: Stores
  clock: FakeClock
  registry: ReturnType<typeof createRegistryHolder>
  /** Warnings as the fake alerting holds them. */
  alerting: { warnings: Map<string, Warning>; commands: WarningCommand[]; mode: 'answer' | 'silent' }
  login(user: FixtureUser): Promise<string>
  api(path: string, init?: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Headers }>
  /** Put a warning in the store and the fake alerting, publish it on the bus and wait until handled. */
  publishWarning(w: Warning): Promise<void>
  socket(token: string | undefined): Socket<ServerToClientEvents, ClientToServerEvents>
  close(): Promise<void>
}

export async function startHarness(opts: Partial<DashboardOptions> = {}): Promise<Harness> {
  const clock = fakeClock()
  const bus = createMemoryBus()
  const stores = createMemoryStores({ clock })
  const registry = createRegistryHolder(indexRegistry(fixtureDoc(), 1))
  const metrics = createMetrics({ defaults: false })
  const logger = createLogger({ level: 'silent' })
  const alerting = { warnings: new Map<string, Warning>(), commands: [] as WarningCommand[], mode: 'answer' as 'answer' | 'silent' }

  await bus.subscribe(topics.commands, { group: 'fake-alerting' }, async (cmd) => {
    alerting.commands.push(cmd)
    if (alerting.mode === 'silent') return
    const w = alerting.warnings.get(cmd.warningId)
    const fail = (status: number, code: string, message: string): CommandResult => ({ commandId: cmd.commandId, ok: false, error: { code, message, status } })
    let result: CommandResult
    if (!w) result = fail(404, 'NOT_FOUND', `warning "${cmd.warningId}" not found`)
    else {
      const allowed = cmd.action === 'ack' ? w.status === 'open' : cmd.action === 'dispose' ? w.status === 'open' || w.status === 'acknowledged' : w.status !== 'closed'
      if (!allowed) result = fail(409, 'TRANSITION_INVALID', `cannot ${cmd.action} a warning that is ${w.status}`)
      else {
        const at = new Date(cmd.at).toISOString()
        const next: Warning = { ...w, version: w.version + 1, updatedAt: at, events: [...w.events] }
        if (cmd.action === 'ack') Object.assign(next, { status: 'acknowledged', acknowledgedAt: at, acknowledgedBy: cmd.by })
        if (cmd.action === 'dispose') Object.assign(next, { status: 'disposing' })
        if (cmd.action === 'close') Object.assign(next, { status: 'closed', closedAt: at, closedBy: cmd.by, outcome: cmd.outcome })
        next.events.push({ type: cmd.action === 'ack' ? 'acknowledged' : cmd.action === 'dispose' ? 'disposing' : 'closed', at, by: cmd.by, ...(cmd.note ? { note: cmd.note } : {}) })
        alerting.warnings.set(next.id, next)
        await stores.warnings.upsert(next)
        await bus.publish(topics.warnings, next)
        result = { commandId: cmd.commandId, ok: true, warning: next }
      }
    }
    await bus.publish(topics.commandResults, result)
  })

  const server = await createDashboardServer({
    bus, registry, stores, metrics, logger, clock,
    health: () => ({ status: 'ok', checks: { bus: bus.health(), store: stores.health() } }),
    options: { tokenSecret: TEST_SECRET, instanceId: 'test', ...opts },
  })
  await server.start()
  const port = await server.listen('127.0.0.1', 0)
  const base = `http://127.0.0.1:${port}`
  const sockets: Socket[] = []

  const api: Harness['api'] = async (path, init = {}) => {
    const headers: Record<string, string> = { ...(init.headers ?? {}) }
    if (init.token) headers.authorization = `Bearer ${init.token}`
    if (init.body !== undefined) headers['content-type'] = 'application/json'
    const res = await fetch(base + path, { method: init.method ?? 'GET', headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) })
    const text = await res.text()
    let body: unknown = text
    try { body = JSON.parse(text) } catch { /* not JSON */ }
    return { status: res.status, body, headers: res.headers }
  }

  return {
    server, base, port, bus, stores, clock, registry, alerting, api,
    async login(user) {
      const r = await api('/api/login', { method: 'POST', body: { username: user, password: PASSWORDS[user] } })
      if (r.status !== 200) throw new Error(`login ${user} failed: ${r.status} ${JSON.stringify(r.body)}`)
      return r.body.token as string
    },
    async publishWarning(w) {
      alerting.warnings.set(w.id, w)
      await stores.warnings.upsert(w)
      await bus.publish(topics.warnings, w)
      await bus.drain()
    },
    socket(token) {
      const s = ioClient(base, { path: '/socket.io', transports: ['websocket'], reconnection: false, forceNew: true, auth: token === undefined ? {} : { token } })
      sockets.push(s)
      return s
    },
    async close() {
      for (const s of sockets) s.disconnect()
      await server.close()
      await bus.close()
    },
  }
}

/** Resolves with the first `event` on the socket, rejects after `ms`. */
export function nextEvent<T>(socket: Socket<any, any>, event: string, ms = 3000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no "${event}" within ${ms} ms`)), ms)
    socket.once(event, (x: T) => { clearTimeout(t); resolve(x) })
  })
}

export function connected(socket: Socket<any, any>, ms = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.connected) { resolve(); return }
    const t = setTimeout(() => reject(new Error('not connected')), ms)
    socket.once('connect', () => { clearTimeout(t); resolve() })
    socket.once('connect_error', (err: Error) => { clearTimeout(t); reject(err) })
  })
}
