// socket.io over a real socket: handshake auth, per-jurisdiction warning pushes, subscriptions
// refused outside the jurisdiction, coalesced readings and risk, stats.
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { topics } from '../../core/contracts/topics.js'
import type { RiskState } from '../../core/contracts/risk.js'
import type { RiskEvent } from '../../core/contracts/risk.js'
import type { ReadingsPush, StatsPush } from '../../core/contracts/socket-events.js'
import type { Warning } from '../../core/contracts/warning.js'
import { makeWarning } from './testing/fixture.js'
import { connected, nextEvent, startHarness, type Harness } from './testing/harness.js'

let h: Harness
beforeEach(async () => { h = await startHarness() })
afterEach(async () => { await h.close() })

const collect = <T>(socket: { on(ev: string, cb: (x: T) => void): unknown }, ev: string): T[] => {
  const out: T[] = []
  socket.on(ev, (x: T) => { out.push(x) })
  return out
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const subscribe = (s: ReturnType<Harness['socket']>, enterpriseId: unknown) =>
  new Promise<{ ok: boolean; error?: string }>((resolve) => (s.emit as any)('subscribe', enterpriseId, resolve))

function risk(kind: 'region' | 'enterprise', id: string, score: number, at: number): RiskState {
  return { kind, id, riskLevel: 'orange', score, factors: [], openWarnings: 1, at, ...(kind === 'region' ? { counts: { red: 0, orange: 1, yellow: 0, blue: 0 } } : {}) }
}

describe('handshake', () => {
  test('without a token, with a bad or an expired token the connection is refused', async () => {
    await expect(connected(h.socket(undefined))).rejects.toThrow(/unauthorized/)
    await expect(connected(h.socket('x.y.z'))).rejects.toThrow(/unauthorized/)
  })

  test('an expired token cannot connect, and a connected socket is dropped when its token expires', async () => {
    const h2 = await startHarness({ tokenTtlSeconds: 60 })
    try {
      const token = await h2.login('viewer')
      const s = h2.socket(token)
      await connected(s)
      const dropped = nextEvent<string>(s, 'disconnect')
      h2.clock.advance(60_000)
      expect(await dropped).toBe('io server disconnect')
      await expect(connected(h2.socket(token))).rejects.toThrow(/unauthorized/)
    } finally { await h2.close() }
  })

  test('socketClients gauge follows connections', async () => {
    const a = h.socket(await h.login('viewer'))
    const b = h.socket(await h.login('admin'))
    await Promise.all([connected(a), connected(b)])
    expect(String((await h.api('/metrics')).body)).toMatch(/^yujing_socket_clients 2$/m)
    a.disconnect()
    await sleep(100)
    expect(String((await h.api('/metrics')).body)).toMatch(/^yujing_socket_clients 1$/m)
  })
})

describe('warning pushes', () => {
  test('a warning reaches users who may see it, not a county user of another county, even after a refused subscribe', async () => {
    const admin = h.socket(await h.login('admin'))
    const countyA = h.socket(await h.login('countyA'))
    const countyB = h.socket(await h.login('countyB'))
    await Promise.all([connected(admin), connected(countyA), connected(countyB)])
    const gotB = collect<Warning>(countyB, 'warning')

    const refused = await subscribe(countyB, { enterpriseId: 'E1' })
    expect(refused.ok).toBe(false)
    expect(refused.error).toContain('E1')

    const atAdmin = nextEvent<Warning>(admin, 'warning')
    const atA = nextEvent<Warning>(countyA, 'warning')
    await h.publishWarning(makeWarning({ id: 'W-E1', enterpriseId: 'E1', sensorId: 'E1-CH4-01', level: 1 }))
    expect((await atAdmin).id).toBe('W-E1')
    const w = await atA
    expect(w).toMatchObject({ id: 'W-E1', level: 1, color: 'red', status: 'open', enterpriseId: 'E1' })

    // A sentinel countyB may see: once it arrives, everything sent before it has arrived too.
    const sentinel = nextEvent<Warning>(countyB, 'warning')
    await h.publishWarning(makeWarning({ id: 'W-E2', enterpriseId: 'E2', level: 3 }))
    expect((await sentinel).id).toBe('W-E2')
    expect(gotB.map((x) => x.id)).toEqual(['W-E2'])
  })

  test('every change is pushed at once (no coalescing), in order', async () => {
    const viewer = h.socket(await h.login('viewer'))
    await connected(viewer)
    const got = collect<Warning>(viewer, 'warning')
    const base = makeWarning({ id: 'W1', enterpriseId: 'E3', level: 3 })
    for (let v = 1; v <= 5; v++) await h.bus.publish(topics.warnings, { ...base, version: v, occurrences: v })
    await h.bus.drain()
    for (let i = 0; i < 50 && got.length < 5; i++) await sleep(10)
    expect(got.map((w) => w.version)).toEqual([1, 2, 3, 4, 5])
  })

  test('an enterprise user only gets warnings of their enterprise', async () => {
    const ent = h.socket(await h.login('entUser'))
    await connected(ent)
    const got = collect<Warning>(ent, 'warning')
    await h.publishWarning(makeWarning({ id: 'W-E1', enterpriseId: 'E1' }))
    const mine = nextEvent<Warning>(ent, 'warning')
    await h.publishWarning(makeWarning({ id: 'W-E3', enterpriseId: 'E3' }))
    await mine
    expect(got.map((w) => w.id)).toEqual(['W-E3'])
  })
})

describe('readings', () => {
  test('pushed coalesced, only to subscribers of that enterprise', async () => {
    const countyA = h.socket(await h.login('countyA'))
    const admin = h.socket(await h.login('admin'))
    await Promise.all([connected(countyA), connected(admin)])
    expect(await subscribe(countyA, { enterpriseId: 'E1' })).toEqual({ ok: true })
    expect(await subscribe(admin, { enterpriseId: 'E2' })).toEqual({ ok: true })
    expect((await subscribe(admin, { enterpriseId: 'NOPE' })).ok).toBe(false)
    expect((await subscribe(admin, { enterprise: 'E1' })).ok).toBe(false)
    expect((await subscribe(admin, 'E1')).ok).toBe(false)
    const gotA = collect<ReadingsPush>(countyA, 'readings')
    const gotAdmin = collect<ReadingsPush>(admin, 'readings')

    const now = h.clock.now()
    for (let i = 0; i < 3; i++) {
      await h.bus.publish(topics.readings, { enterpriseId: 'E1', gatewayId: 'gw-E1', receivedAt: now, items: [{ sensorId: 'E1-CH4-01', type: 'ch4', ts: now + i * 100, value: 0.5 + i / 10, quality: 'ok' }] })
    }
    await h.bus.publish(topics.readings, { enterpriseId: 'E2', gatewayId: 'gw-E2', receivedAt: now, items: [{ sensorId: 'E2-LEL-01', type: 'combustible_gas', ts: now, value: 3, quality: 'ok' }] })
    await h.bus.drain()
    await sleep(50)
    expect(gotA).toHaveLength(0) // nothing before the coalescing period ends

    const atAdmin = nextEvent<ReadingsPush>(admin, 'readings')
    const atA = nextEvent<ReadingsPush>(countyA, 'readings')
    h.clock.advance(250)
    expect(await atA).toEqual({ enterpriseId: 'E1', items: [0, 1, 2].map((i) => ({ sensorId: 'E1-CH4-01', ts: new Date(now + i * 100).toISOString(), value: 0.5 + i / 10, quality: 'ok' })) })
    expect((await atAdmin).enterpriseId).toBe('E2')
    await sleep(50)
    expect(gotA).toHaveLength(1)
    expect(gotAdmin.map((r) => r.enterpriseId)).toEqual(['E2'])

    // Unsubscribed: no more pushes.
    await new Promise((r) => (countyA.emit as any)('unsubscribe', { enterpriseId: 'E1' }, r))
    await h.bus.publish(topics.readings, { enterpriseId: 'E1', gatewayId: 'gw-E1', receivedAt: now, items: [{ sensorId: 'E1-CH4-01', type: 'ch4', ts: now + 1000, value: 0.9, quality: 'ok' }] })
    await h.bus.drain()
    h.clock.advance(250)
    await sleep(100)
    expect(gotA).toHaveLength(1)
  })
})

describe('risk and stats', () => {
  test('risk events are coalesced per period (latest per id) and filtered by jurisdiction', async () => {
    const admin = h.socket(await h.login('admin'))
    const countyA = h.socket(await h.login('countyA'))
    await Promise.all([connected(admin), connected(countyA)])
    const gotAdmin = collect<RiskEvent[]>(admin, 'risk')
    const gotA = collect<RiskEvent[]>(countyA, 'risk')
    const t = h.clock.now()
    for (let s = 1; s <= 3; s++) await h.bus.publish(topics.risk, risk('enterprise', 'E1', s, t + s))
    await h.bus.publish(topics.risk, risk('region', 'R5101-C02', 7, t))
    await h.bus.publish(topics.risk, risk('enterprise', 'E2', 4, t))
    await h.bus.drain()
    await sleep(50)
    expect(gotAdmin).toHaveLength(0)

    const a = nextEvent<RiskEvent[]>(admin, 'risk')
    const b = nextEvent<RiskEvent[]>(countyA, 'risk')
    h.clock.advance(250)
    const all = await a
    expect(all).toEqual([
      { kind: 'enterprise', id: 'E1', riskLevel: 'orange', score: 3, openWarnings: 1 },
      { kind: 'region', id: 'R5101-C02', riskLevel: 'orange', score: 7, openWarnings: 1, counts: { red: 0, orange: 1, yellow: 0, blue: 0 } },
      { kind: 'enterprise', id: 'E2', riskLevel: 'orange', score: 4, openWarnings: 1 },
    ])
    expect(await b).toEqual([{ kind: 'enterprise', id: 'E1', riskLevel: 'orange', score: 3, openWarnings: 1 }])
    h.clock.advance(250)
    await sleep(50)
    expect(gotAdmin).toHaveLength(1) // nothing new, nothing sent
    expect(gotA).toHaveLength(1)
  })

  test('stats every second, per jurisdiction', async () => {
    await h.publishWarning(makeWarning({ id: 'W1', enterpriseId: 'E1', level: 1, ackDeadline: '2026-11-28T00:00:00.500Z' }))
    await h.publishWarning(makeWarning({ id: 'W2', enterpriseId: 'E2', level: 2 }))
    const admin = h.socket(await h.login('admin'))
    const countyB = h.socket(await h.login('countyB'))
    await Promise.all([connected(admin), connected(countyB)])
    await h.bus.publish(topics.readings, { enterpriseId: 'E1', gatewayId: 'gw-E1', receivedAt: h.clock.now(), items: Array.from({ length: 20 }, (_, i) => ({ sensorId: 'E1-CH4-01', type: 'ch4' as const, ts: h.clock.now() + i, value: 0.1, quality: 'ok' as const })) })
    await h.bus.drain()
    const a = nextEvent<StatsPush>(admin, 'stats')
    const b = nextEvent<StatsPush>(countyB, 'stats')
    h.clock.advance(1000)
    expect(await a).toEqual({ readingsPerSecond: 2, sensorsOffline: 0, openWarnings: { red: 1, orange: 1, yellow: 0, blue: 0 }, overdue: 1, enterprises: { red: 1, orange: 1, yellow: 0, blue: 1 } })
    expect(await b).toEqual({ readingsPerSecond: 0, sensorsOffline: 0, openWarnings: { red: 0, orange: 1, yellow: 0, blue: 0 }, overdue: 0, enterprises: { red: 0, orange: 1, yellow: 0, blue: 0 } })
  })
})
