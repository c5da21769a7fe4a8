import { afterEach, describe, expect, it } from 'vitest'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Finding } from '../core/contracts/finding.js'
import { systemClock } from '../core/runtime/clock.js'
import { createLogger } from '../core/runtime/logger.js'
import { createMetrics, type Metrics } from '../core/runtime/metrics.js'
import { apply } from './lifecycle.js'
import { createWebhookNotifier, notificationFor, type Notification } from './notifiers.js'
import { testRegistry } from './testing/fixtures.js'

const logger = createLogger({ level: 'silent' })
const servers: Server[] = []
afterEach(async () => { await Promise.all(servers.splice(0).map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r) }))) })

interface Hit { body: unknown; headers: IncomingMessage['headers']; at: number }
async function server(handler: (n: number, req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; hits: Hit[] }> {
  const hits: Hit[] = []
  const s = createServer((req, res) => {
    let data = ''
    req.on('data', (c: Buffer) => { data += c.toString() })
    req.on('end', () => { hits.push({ body: JSON.parse(data), headers: req.headers, at: Date.now() }); handler(hits.length, req, res) })
  })
  servers.push(s)
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/hook`, hits }
}

function notification(level: 1 | 2 | 3 | 4 = 1): Notification {
  const f: Finding = { key: 'E1-CH4-01|r', kind: 'threshold', ruleId: 'r', enterpriseId: 'E1', sensorId: 'E1-CH4-01', regionId: 'G1', active: true, level, title: 'CH4', at: 0, value: 1.6 }
  const r = apply(undefined, { type: 'finding', finding: f }, Date.parse('2026-11-28T00:00:00.000Z'))
  return notificationFor(r.warning!, r.events, testRegistry())!
}

const counted = async (m: Metrics, result: string): Promise<number> =>
  (await m.notificationsSent.get()).values.find((v) => v.labels.result === result && v.labels.channel === 'webhook')?.value ?? 0

describe('notificationFor', () => {
  it('a raise notifies the enterprise contacts', () => {
    const n = notification()
    expect(n).toMatchObject({ event: 'raised', tier: 'enterprise', contacts: [{ name: '张三' }] })
  })
  it('a change without a notifying event notifies nobody', () => {
    const w = notification().warning
    expect(notificationFor(w, [{ type: 'acknowledged', at: w.raisedAt }], testRegistry())).toBeUndefined()
    expect(notificationFor(w, [], testRegistry())).toBeUndefined()
  })
  it('a tier escalation notifies that tier', () => {
    const w = notification().warning
    const n = notificationFor(w, [{ type: 'escalated_tier', at: w.raisedAt, tier: 'city' }], testRegistry())
    expect(n).toMatchObject({ event: 'escalated_tier', tier: 'city', contacts: [{ name: '甲市值班' }] })
  })
})

describe('webhook notifier (real HTTP server)', () => {
  it('POSTs {event, warning, tier, contacts} with the configured headers', async () => {
    const srv = await server((_n, _req, res) => res.end('ok'))
    const metrics = createMetrics({ defaults: false })
    const nt = createWebhookNotifier({ webhooks: [{ url: srv.url, headers: { authorization: 'Bearer x' } }], metrics, logger, clock: systemClock() })
    const n = notification()
    nt.notify(n)
    await nt.idle()
    expect(srv.hits).toHaveLength(1)
    expect(srv.hits[0]!.headers['content-type']).toBe('application/json')
    expect(srv.hits[0]!.headers.authorization).toBe('Bearer x')
    expect(srv.hits[0]!.body).toEqual({ event: 'raised', warning: n.warning, tier: 'enterprise', contacts: [{ role: 'duty', name: '张三', phone: '13800000000' }] })
    expect(await counted(metrics, 'ok')).toBe(1)
    expect(nt.stats()).toMatchObject({ sent: 1, failed: 0, queued: 0, inFlight: 0 })
  })

  it('retries with exponential backoff when the server fails the first 2 attempts', async () => {
    const srv = await server((n, _req, res) => { res.statusCode = n <= 2 ? 503 : 200; res.end() })
    const metrics = createMetrics({ defaults: false })
    const nt = createWebhookNotifier({ webhooks: [{ url: srv.url }], metrics, logger, clock: systemClock(), options: { baseDelayMs: 40 } })
    nt.notify(notification())
    await nt.idle()
    expect(srv.hits).toHaveLength(3)
    expect(await counted(metrics, 'retry')).toBe(2)
    expect(await counted(metrics, 'ok')).toBe(1)
    const gaps = [srv.hits[1]!.at - srv.hits[0]!.at, srv.hits[2]!.at - srv.hits[1]!.at]
    expect(gaps[0]).toBeGreaterThanOrEqual(35) // 40 ms
    expect(gaps[1]).toBeGreaterThanOrEqual(75) // 80 ms
    expect(srv.hits[2]!.body).toEqual(srv.hits[0]!.body)
  })

  it('gives up after maxAttempts and counts the failure', async () => {
    const srv = await server((_n, _req, res) => { res.statusCode = 500; res.end() })
    const metrics = createMetrics({ defaults: false })
    const nt = createWebhookNotifier({ webhooks: [{ url: srv.url }], metrics, logger, clock: systemClock(), options: { baseDelayMs: 5, maxAttempts: 3 } })
    nt.notify(notification())
    await nt.idle()
    expect(srv.hits).toHaveLength(3)
    expect([await counted(metrics, 'retry'), await counted(metrics, 'failed'), await counted(metrics, 'ok')]).toEqual([2, 1, 0])
  })

  it('does not retry a 4xx rejection', async () => {
    const srv = await server((_n, _req, res) => { res.statusCode = 400; res.end() })
    const metrics = createMetrics({ defaults: false })
    const nt = createWebhookNotifier({ webhooks: [{ url: srv.url }], metrics, logger, clock: systemClock(), options: { baseDelayMs: 5 } })
    nt.notify(notification())
    await nt.idle()
    expect(srv.hits).toHaveLength(1)
    expect(await counted(metrics, 'failed')).toBe(1)
  })

  it('times out a server that never answers, then retries', async () => {
    const srv = await server((n, _req, res) => { if (n > 1) res.end() })
    const metrics = createMetrics({ defaults: false })
    const nt = createWebhookNotifier({ webhooks: [{ url: srv.url }], metrics, logger, clock: systemClock(), options: { timeoutMs: 300, baseDelayMs: 5 } })
    nt.notify(notification())
    await nt.idle()
    expect(srv.hits.length).toBeGreaterThanOrEqual(2)
    expect(srv.hits[1]!.at - srv.hits[0]!.at).toBeGreaterThanOrEqual(290)
    expect([await counted(metrics, 'retry'), await counted(metrics, 'ok')]).toEqual([srv.hits.length - 1, 1])
  })

  it('honours minLevel (1 = red only … 4 = all)', async () => {
    const srv = await server((_n, _req, res) => res.end())
    const metrics = createMetrics({ defaults: false })
    const nt = createWebhookNotifier({ webhooks: [{ url: srv.url, minLevel: 2 }], metrics, logger, clock: systemClock() })
    for (const l of [1, 2, 3, 4] as const) nt.notify(notification(l))
    await nt.idle()
    expect(srv.hits.map((h) => (h.body as Notification).warning.level).sort()).toEqual([1, 2])
  })

  it('bounds its queue by dropping the oldest waiting notification', async () => {
    let release: () => void = () => undefined
    const gate = new Promise<void>((r) => { release = r })
    const srv = await server((_n, _req, res) => { void gate.then(() => res.end()) })
    const metrics = createMetrics({ defaults: false })
    const nt = createWebhookNotifier({ webhooks: [{ url: srv.url }], metrics, logger, clock: systemClock(), options: { queueSize: 2, concurrency: 1 } })
    const ns = [1, 2, 3, 4].map(() => notification())
    ns.forEach((n, i) => { n.warning = { ...n.warning, title: `n${i}` }; nt.notify(n) })
    expect(nt.stats()).toMatchObject({ inFlight: 1, queued: 2, dropped: 1 })
    await new Promise((r) => setTimeout(r, 50))
    release()
    await nt.idle()
    expect(srv.hits.map((h) => (h.body as Notification).warning.title)).toEqual(['n0', 'n2', 'n3'])
    expect(await counted(metrics, 'dropped')).toBe(1)
  })

  it('after stop it sends nothing more', async () => {
    const srv = await server((_n, _req, res) => res.end())
    const nt = createWebhookNotifier({ webhooks: [{ url: srv.url }], metrics: createMetrics({ defaults: false }), logger, clock: systemClock() })
    await nt.stop()
    nt.notify(notification())
    await nt.idle()
    expect(srv.hits).toHaveLength(0)
  })
})
