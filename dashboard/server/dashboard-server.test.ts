// HTTP API over a real socket: auth, roles, jurisdiction, commands through the bus, errors, headers.
import { createServer } from 'node:net'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { topics } from '../../core/contracts/topics.js'
import { makeWarning } from './testing/fixture.js'
import { startHarness, type Harness } from './testing/harness.js'
import { createDashboardServer } from './dashboard-server.js'
import { createMemoryBus } from '../../core/bus/memory-bus.js'
import { createMemoryStores } from '../../core/store/memory-stores.js'
import { createRegistryHolder } from '../../core/registry/registry-holder.js'
import { indexRegistry } from '../../core/registry/registry-index.js'
import { fixtureDoc } from './testing/fixture.js'
import { createMetrics } from '../../core/runtime/metrics.js'
import { createLogger } from '../../core/runtime/logger.js'
import { fakeClock } from '../../core/runtime/clock.js'

let h: Harness
beforeEach(async () => { h = await startHarness() })
afterEach(async () => { await h.close() })

function expectError(r: { status: number; body: any }, status: number, code?: string): void {
  expect(r.status).toBe(status)
  expect(Object.keys(r.body)).toEqual(['error'])
  expect(typeof r.body.error.code).toBe('string')
  expect(typeof r.body.error.message).toBe('string')
  if (code) expect(r.body.error.code).toBe(code)
  expect(JSON.stringify(r.body)).not.toMatch(/\bat .*\.(ts|js):\d+|stack/)
}

describe('login', () => {
  test.each([
    ['admin (bcrypt)', 'admin'],
    ['duty (sha256:)', 'duty'],
    ['viewer (plain)', 'viewer'],
  ] as const)('%s logs in and gets a token and the user without password', async (_n, user) => {
    const token = await h.login(user)
    expect(token.split('.')).toHaveLength(3)
    const me = await h.api('/api/me', { token })
    expect(me.status).toBe(200)
    expect(me.body.username).toBe(user)
    expect(me.body.password).toBeUndefined()
  })

  test('login returns {token, user} with role and no password', async () => {
    const r = await h.api('/api/login', { method: 'POST', body: { username: 'countyA', password: 'CountyA-Pass-2026' } })
    expect(r.status).toBe(200)
    expect(r.body.user).toEqual({ username: 'countyA', role: 'duty', regionIds: ['R5101-C01'] })
    expect(r.body.expiresAt).toBe('2026-11-28T12:00:00.000Z')
  })

  test('wrong password and unknown user → 401 with the error shape', async () => {
    expectError(await h.api('/api/login', { method: 'POST', body: { username: 'admin', password: 'nope' } }), 401, 'UNAUTHORIZED')
    expectError(await h.api('/api/login', { method: 'POST', body: { username: 'ghost', password: 'nope' } }), 401, 'UNAUTHORIZED')
  })

  test('a missing field → 400 naming it', async () => {
    const r = await h.api('/api/login', { method: 'POST', body: { username: 'admin' } })
    expectError(r, 400, 'BAD_REQUEST')
    expect(r.body.error.message).toContain('password')
  })

  test('5 failures in 60 s → 429 with Retry-After, even with the right password; clears after the window', async () => {
    for (let i = 0; i < 5; i++) expect((await h.api('/api/login', { method: 'POST', body: { username: 'viewer', password: 'bad' } })).status).toBe(401)
    const blocked = await h.api('/api/login', { method: 'POST', body: { username: 'viewer', password: 'Viewer-Pass-2026' } })
    expectError(blocked, 429, 'RATE_LIMITED')
    expect(blocked.headers.get('retry-after')).toBe('60')
    // Another user from the same ip is not blocked by this pair's failures.
    expect((await h.api('/api/login', { method: 'POST', body: { username: 'duty', password: 'Duty-Pass-2026' } })).status).toBe(200)
    h.clock.advance(30_000)
    expect((await h.api('/api/login', { method: 'POST', body: { username: 'viewer', password: 'Viewer-Pass-2026' } })).headers.get('retry-after')).toBe('30')
    h.clock.advance(30_001)
    expect((await h.api('/api/login', { method: 'POST', body: { username: 'viewer', password: 'Viewer-Pass-2026' } })).status).toBe(200)
  })

  test('a success resets the (ip, user) failure count', async () => {
    for (let i = 0; i < 4; i++) await h.api('/api/login', { method: 'POST', body: { username: 'viewer', password: 'bad' } })
    expect((await h.api('/api/login', { method: 'POST', body: { username: 'viewer', password: 'Viewer-Pass-2026' } })).status).toBe(200)
    for (let i = 0; i < 4; i++) expect((await h.api('/api/login', { method: 'POST', body: { username: 'viewer', password: 'bad' } })).status).toBe(401)
    expect((await h.api('/api/login', { method: 'POST', body: { username: 'viewer', password: 'Viewer-Pass-2026' } })).status).toBe(200)
  })
})

describe('tokens', () => {
  test('no token, garbage, tampered payload, wrong secret and expired tokens → 401', async () => {
    const token = await h.login('viewer')
    expectError(await h.api('/api/regions'), 401, 'UNAUTHORIZED')
    expectError(await h.api('/api/regions', { token: 'not-a-token' }), 401)
    const [hd, p, s] = token.split('.') as [string, string, string]
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString())
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'admin', role: 'admin' })).toString('base64url')
    expectError(await h.api('/api/registry', { token: `${hd}.${forged}.${s}` }), 401)
    expectError(await h.api('/api/regions', { token: `${hd}.${p}.${s.slice(0, -2)}AA` }), 401)
    expect((await h.api('/api/regions', { token })).status).toBe(200)
    h.clock.advance(12 * 3600_000)
    expectError(await h.api('/api/regions', { token }), 401)
  })

  test('health, docs and (by default) metrics are public; the rest of /api is not', async () => {
    const health = await h.api('/api/health')
    expect(health.status).toBe(200)
    expect(health.body.status).toBe('ok')
    expect(health.body.checks.bus.ok).toBe(true)
    expect((await h.api('/docs/json')).status).toBe(200)
    const m = await h.api('/metrics')
    expect(m.status).toBe(200)
    expect(String(m.body)).toContain('yujing_socket_clients')
    for (const p of ['/api/me', '/api/enterprises', '/api/warnings', '/api/stats', '/api/ingest/rejections', '/api/map/regions', '/api/no-such-route']) {
      expectError(await h.api(p), 401)
    }
  })

  test('metricsPublic: false → /metrics needs a token', async () => {
    const h2 = await startHarness({ metricsPublic: false })
    try {
      expectError(await h2.api('/metrics'), 401)
      expect((await h2.api('/metrics', { token: await h2.login('viewer') })).status).toBe(200)
    } finally { await h2.close() }
  })
})

describe('roles and commands', () => {
  beforeEach(async () => {
    await h.publishWarning(makeWarning({ id: 'W1', enterpriseId: 'E1', sensorId: 'E1-CH4-01', level: 1 }))
  })

  test('viewer POST ack → 403 and nothing is sent to alerting', async () => {
    const token = await h.login('viewer')
    expectError(await h.api('/api/warnings/W1/ack', { method: 'POST', token, body: { note: 'x' } }), 403, 'FORBIDDEN')
    expect(h.alerting.commands).toHaveLength(0)
  })

  test('duty ack → 200 with the warning as alerting changed it; the command carries by and a uuid', async () => {
    const token = await h.login('duty')
    const r = await h.api('/api/warnings/W1/ack', { method: 'POST', token, body: { note: '已核查' } })
    expect(r.status).toBe(200)
    expect(r.body.status).toBe('acknowledged')
    expect(r.body.acknowledgedBy).toBe('duty')
    expect(r.body.events.at(-1)).toEqual({ type: 'acknowledged', at: '2026-11-28T00:00:00.000Z', by: 'duty', note: '已核查' })
    expect(h.alerting.commands).toHaveLength(1)
    expect(h.alerting.commands[0]).toMatchObject({ action: 'ack', warningId: 'W1', by: 'duty', note: '已核查' })
    expect(h.alerting.commands[0]!.commandId).toMatch(/^[0-9a-f-]{36}$/)
  })

  test('ack and dispose without a body are accepted', async () => {
    const token = await h.login('duty')
    const r = await fetch(`${h.base}/api/warnings/W1/ack`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
    expect(r.status).toBe(200)
    expect((await r.json()).status).toBe('acknowledged')
    expect(h.alerting.commands[0]!.note).toBeUndefined()
  })

  test('a second ack → 409 passed through from alerting; close then close again → 409', async () => {
    const token = await h.login('duty')
    expect((await h.api('/api/warnings/W1/ack', { method: 'POST', token, body: {} })).status).toBe(200)
    const again = await h.api('/api/warnings/W1/ack', { method: 'POST', token, body: {} })
    expectError(again, 409, 'TRANSITION_INVALID')
    expect(again.body.error.message).toContain('acknowledged')
    const closed = await h.api('/api/warnings/W1/close', { method: 'POST', token, body: { outcome: 'resolved', note: 'ok' } })
    expect(closed.status).toBe(200)
    expect(closed.body).toMatchObject({ status: 'closed', outcome: 'resolved', closedBy: 'duty' })
    expectError(await h.api('/api/warnings/W1/close', { method: 'POST', token, body: { outcome: 'resolved' } }), 409)
  })

  test('close without a valid outcome → 400; unknown warning → 404', async () => {
    const token = await h.login('admin')
    expectError(await h.api('/api/warnings/W1/close', { method: 'POST', token, body: { outcome: 'whatever' } }), 400)
    expectError(await h.api('/api/warnings/NOPE/ack', { method: 'POST', token, body: {} }), 404, 'NOT_FOUND')
    expect(h.alerting.commands).toHaveLength(0)
  })

  test('alerting silent for 10 s → 503', async () => {
    h.alerting.mode = 'silent'
    const token = await h.login('duty')
    const pending = h.api('/api/warnings/W1/dispose', { method: 'POST', token, body: { note: 'n' } })
    for (let i = 0; i < 100 && h.alerting.commands.length === 0; i++) await new Promise((r) => setTimeout(r, 10))
    expect(h.alerting.commands).toHaveLength(1)
    h.clock.advance(9_999)
    h.clock.advance(1)
    const r = await pending
    expectError(r, 503, 'TIMEOUT')
  })

  test.each([
    ['viewer', 'GET', '/api/registry', 403],
    ['duty', 'GET', '/api/registry', 403],
    ['admin', 'GET', '/api/registry', 200],
    ['duty', 'GET', '/api/audit', 403],
    ['admin', 'GET', '/api/audit', 200],
    ['viewer', 'GET', '/api/warnings', 200],
    ['viewer', 'GET', '/api/stats', 200],
  ] as const)('%s %s %s → %i', async (user, method, path, status) => {
    const r = await h.api(path, { method, token: await h.login(user) })
    expect(r.status).toBe(status)
  })
})

describe('jurisdiction', () => {
  beforeEach(async () => {
    await h.publishWarning(makeWarning({ id: 'WA', enterpriseId: 'E1', sensorId: 'E1-CH4-01', level: 2 }))
    await h.publishWarning(makeWarning({ id: 'WB', enterpriseId: 'E2', sensorId: 'E2-CH4-01', level: 1 }))
    await h.publishWarning(makeWarning({ id: 'WC', enterpriseId: 'E3', level: 3 }))
    h.stores.rejections.add({ id: 'RJ1', at: h.clock.now(), reason: 'unknown_sensor', message: 'x', topic: 'sensors/E1/X', enterpriseId: 'E1', gatewayId: 'gw-E1', raw: '{}' })
    h.stores.rejections.add({ id: 'RJ2', at: h.clock.now(), reason: 'bad_json', message: 'y', topic: 'sensors/E2/Y', enterpriseId: 'E2', gatewayId: 'gw-E2', raw: '{' })
  })

  const ids = (xs: { id: string }[]) => xs.map((x) => x.id).sort()

  test.each([
    ['admin', ['E1', 'E2', 'E3'], ['WA', 'WB', 'WC'], ['RJ1', 'RJ2'], 6],
    ['viewer', ['E1', 'E2', 'E3'], ['WA', 'WB', 'WC'], ['RJ1', 'RJ2'], 6],
    ['countyA', ['E1'], ['WA'], ['RJ1'], 1],
    ['countyB', ['E2'], ['WB'], ['RJ2'], 1],
    ['entUser', ['E3'], ['WC'], [], 0],
  ] as const)('%s sees enterprises %j, warnings %j, rejections %j, %i regions', async (user, ents, warns, rejs, regions) => {
    const token = await h.login(user)
    expect(ids((await h.api('/api/enterprises', { token })).body)).toEqual(ents)
    expect(ids((await h.api('/api/warnings', { token })).body)).toEqual(warns)
    expect(ids((await h.api('/api/ingest/rejections', { token })).body)).toEqual(rejs)
    expect((await h.api('/api/regions', { token })).body).toHaveLength(regions)
    expect((await h.api('/api/map/regions', { token })).body.features).toHaveLength(regions)
    const stats = (await h.api('/api/stats', { token })).body
    expect(stats.openWarnings.red + stats.openWarnings.orange + stats.openWarnings.yellow + stats.openWarnings.blue).toBe(warns.length)
  })

  test('a county user gets 404 for another county\'s enterprise, warning, sensor readings and region', async () => {
    const token = await h.login('countyA')
    for (const p of ['/api/enterprises/E2', '/api/warnings/WB', '/api/sensors/E2-CH4-01/readings', '/api/sensors/E2-CH4-01', '/api/regions/R5101-C02', '/api/regions/R5101']) {
      expectError(await h.api(p, { token }), 404, 'NOT_FOUND')
    }
    expect((await h.api('/api/enterprises/E1', { token })).status).toBe(200)
    expect((await h.api('/api/warnings/WA', { token })).status).toBe(200)
    expect((await h.api('/api/regions/R5101-C01', { token })).status).toBe(200)
    // Acting on a foreign warning is a 404 too, and nothing reaches alerting.
    expectError(await h.api('/api/warnings/WB/ack', { method: 'POST', token, body: {} }), 404)
    expect(h.alerting.commands).toHaveLength(0)
    // Filters cannot widen the view.
    expect((await h.api('/api/warnings?enterpriseId=E2', { token })).body).toEqual([])
    expect((await h.api('/api/warnings?regionId=R5101', { token })).body.map((w: any) => w.id)).toEqual(['WA'])
    expect((await h.api('/api/enterprises?regionId=R5101', { token })).body.map((e: any) => e.id)).toEqual(['E1'])
  })
})

describe('lists and details', () => {
  test('warnings: default not closed, most severe first then newest; status/level/limit filters', async () => {
    await h.publishWarning(makeWarning({ id: 'old-red', enterpriseId: 'E1', level: 1, raisedAt: '2026-11-27T01:00:00.000Z' }))
    await h.publishWarning(makeWarning({ id: 'new-red', enterpriseId: 'E2', level: 1, raisedAt: '2026-11-27T02:00:00.000Z' }))
    await h.publishWarning(makeWarning({ id: 'blue', enterpriseId: 'E3', level: 4, raisedAt: '2026-11-27T03:00:00.000Z' }))
    await h.publishWarning(makeWarning({ id: 'closed', enterpriseId: 'E3', level: 1, status: 'closed', closedAt: '2026-11-27T04:00:00.000Z' }))
    const token = await h.login('viewer')
    expect((await h.api('/api/warnings', { token })).body.map((w: any) => w.id)).toEqual(['new-red', 'old-red', 'blue'])
    expect((await h.api('/api/warnings?status=closed', { token })).body.map((w: any) => w.id)).toEqual(['closed'])
    // 'closed' was raised last (the fixture default), so it is the newest of the reds.
    expect((await h.api('/api/warnings?status=open,closed&level=1', { token })).body.map((w: any) => w.id)).toEqual(['closed', 'new-red', 'old-red'])
    expect((await h.api('/api/warnings?limit=1', { token })).body).toHaveLength(1)
    expectError(await h.api('/api/warnings?status=bogus', { token }), 400)
    expectError(await h.api('/api/warnings?since=2026-11-28T00:00:00', { token }), 400)
  })

  test('enterprise detail: profile, contacts, region, sensors with latest value, state and thresholds, open warnings', async () => {
    await h.publishWarning(makeWarning({ id: 'W9', enterpriseId: 'E1', sensorId: 'E1-CH4-01', level: 2, currentLevel: 2 }))
    await h.bus.publish(topics.readings, { enterpriseId: 'E1', gatewayId: 'gw-E1', receivedAt: h.clock.now(), items: [{ sensorId: 'E1-CH4-01', type: 'ch4', ts: h.clock.now() - 1000, value: 1.2, quality: 'ok' }] })
    await h.bus.drain()
    const r = await h.api('/api/enterprises/E1', { token: await h.login('viewer') })
    expect(r.status).toBe(200)
    expect(r.body.profile).toEqual({ staticRiskLevel: 'yellow', employees: 420 })
    expect(r.body.contacts[0].name).toBe('张三')
    expect(r.body.region.path.map((x: any) => x.id)).toEqual(['R51', 'R5101', 'R5101-C01'])
    const s1 = r.body.sensors.find((s: any) => s.id === 'E1-CH4-01')
    expect(s1).toMatchObject({ value: 1.2, ts: '2026-11-27T23:59:59.000Z', quality: 'ok', state: 'alarm', level: 2, color: 'orange' })
    expect(s1.effectiveThresholds).toEqual({ source: 'sensor', thresholds: { orange: 1.0, red: 1.5, clear: 1.0 } })
    const s2 = r.body.sensors.find((s: any) => s.id === 'E1-CH4-02')
    expect(s2).toMatchObject({ state: 'normal', value: null })
    expect(s2.effectiveThresholds).toEqual({ source: 'catalogue', thresholds: null })
    expect(r.body.risk.riskLevel).toBe('orange')
    expect(r.body.risk.factors.map((f: any) => f.kind)).toEqual(['static_profile', 'warning'])
    expect(r.body.openWarnings.map((w: any) => w.id)).toEqual(['W9'])
  })

  test('region thresholds are reported as effective for sensors without their own', async () => {
    const r = await h.api('/api/sensors/E2-CH4-01', { token: await h.login('admin') })
    expect(r.body.effectiveThresholds).toEqual({ source: 'region', key: 'ch4:working_face', regionId: 'R5101-C02', thresholds: { orange: 0.8, red: 1.2 } })
  })

  test('offline: a gateway-offline warning marks its sensors offline and counts them', async () => {
    await h.publishWarning(makeWarning({ id: 'GW', enterpriseId: 'E1', kind: 'offline', gatewayId: 'gw-E1', level: 3 }))
    const token = await h.login('viewer')
    expect((await h.api('/api/stats', { token })).body.sensorsOffline).toBe(2)
    const e = (await h.api('/api/enterprises/E1', { token })).body
    expect(e.sensors.map((s: any) => s.state)).toEqual(['offline', 'offline'])
  })

  test('readings: ISO or epoch ms in, ISO out, default last hour', async () => {
    const now = h.clock.now()
    h.stores.telemetry.write({ enterpriseId: 'E1', gatewayId: 'gw-E1', receivedAt: now, items: [
      { sensorId: 'E1-CH4-01', type: 'ch4', ts: now - 2 * 3600_000, value: 0.1, quality: 'ok' },
      { sensorId: 'E1-CH4-01', type: 'ch4', ts: now - 600_000, value: 0.5, quality: 'ok' },
    ] })
    await h.stores.telemetry.flush()
    const token = await h.login('viewer')
    expect((await h.api('/api/sensors/E1-CH4-01/readings', { token })).body).toEqual([{ ts: '2026-11-27T23:50:00.000Z', value: 0.5, quality: 'ok' }])
    const all = await h.api(`/api/sensors/E1-CH4-01/readings?from=${now - 3 * 3600_000}&to=2026-11-28T08:00:00.000%2B08:00`, { token })
    expect(all.body.map((p: any) => p.value)).toEqual([0.1, 0.5])
    expectError(await h.api('/api/sensors/E1-CH4-01/readings?from=yesterday', { token }), 400)
  })

  test('map regions are GeoJSON with the summary as properties', async () => {
    const r = await h.api('/api/map/regions?level=city', { token: await h.login('admin') })
    expect(r.body.type).toBe('FeatureCollection')
    expect(r.body.features).toHaveLength(2)
    const f = r.body.features[0]
    expect(f.geometry.type).toBe('Polygon')
    expect(Object.keys(f.properties).sort()).toEqual(['counts', 'id', 'level', 'name', 'openWarnings', 'parentId', 'riskLevel', 'score'])
  })
})

describe('registry administration', () => {
  test('PUT /api/registry with a bad field → 400 naming the path; nothing saved', async () => {
    const token = await h.login('admin')
    const doc = (await h.api('/api/registry', { token })).body.doc
    expect(doc.users.every((u: any) => u.password === '<redacted>')).toBe(true)
    doc.sensors[1].colour = 'red'
    const r = await h.api('/api/registry', { method: 'PUT', token, body: doc })
    expectError(r, 400, 'REGISTRY_INVALID')
    expect(r.body.error.message).toContain('/sensors/1')
    expect(r.body.error.message).toContain('colour')
    expect(await h.stores.registry.load()).toBeUndefined()
  })

  test('PUT /api/registry saves, audits and announces registryChanged; redacted secrets are kept', async () => {
    const changes: unknown[] = []
    await h.bus.subscribe(topics.registryChanged, { group: 'probe' }, (m) => { changes.push(m) })
    const token = await h.login('admin')
    const doc = (await h.api('/api/registry', { token })).body.doc
    doc.enterprises[0].name = '一号煤矿(改)'
    const r = await h.api('/api/registry', { method: 'PUT', token, body: doc })
    expect(r.status).toBe(200)
    expect(r.body.version).toBe(1)
    const saved = await h.stores.registry.load()
    expect(saved!.doc.enterprises[0]!.name).toBe('一号煤矿(改)')
    expect(saved!.doc.users!.find((u) => u.username === 'viewer')!.password).toBe('Viewer-Pass-2026')
    await h.bus.drain()
    expect(changes).toEqual([{ version: 1, at: h.clock.now(), by: 'admin' }])
    const audit = (await h.api('/api/audit', { token })).body
    expect(audit[0]).toMatchObject({ by: 'admin', action: 'registry.replace', target: 'registry', at: '2026-11-28T00:00:00.000Z' })
  })

  test('weak passwords are refused unless allowed', async () => {
    const token = await h.login('admin')
    const doc = (await h.api('/api/registry', { token })).body.doc
    doc.users.push({ username: 'new1', password: 'change-me', role: 'viewer' })
    const r = await h.api('/api/registry', { method: 'PUT', token, body: doc })
    expectError(r, 400)
    expect(r.body.error.message).toContain('/users/6/password')
  })

  test('PUT /api/sensors/:id/thresholds: validated (shape and colour order), saved, audited', async () => {
    const token = await h.login('admin')
    expectError(await h.api('/api/sensors/E1-CH4-01/thresholds', { method: 'PUT', token: await h.login('duty'), body: { orange: 1 } }), 403)
    const bad = await h.api('/api/sensors/E1-CH4-01/thresholds', { method: 'PUT', token, body: { orange: 2, red: 1 } })
    expectError(bad, 400)
    expect(bad.body.error.message).toContain('/thresholds/red')
    expectError(await h.api('/api/sensors/E1-CH4-01/thresholds', { method: 'PUT', token, body: { orange: 'high' } }), 400)
    const ok = await h.api('/api/sensors/E1-CH4-01/thresholds', { method: 'PUT', token, body: { orange: 0.8, red: 1.5, forSeconds: 5 } })
    expect(ok.status).toBe(200)
    const saved = await h.stores.registry.load()
    expect(saved!.doc.sensors.find((s) => s.id === 'E1-CH4-01')!.thresholds).toEqual({ orange: 0.8, red: 1.5, forSeconds: 5 })
    expect((await h.stores.registry.audit())[0]).toMatchObject({ action: 'sensor.thresholds', target: 'E1-CH4-01', by: 'admin' })
  })
})

describe('static client', () => {
  test('serves the built client at / with SPA fallback; API misses stay JSON errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'yujing-web-'))
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>yujing</title>')
    writeFileSync(join(dir, 'app.js'), 'console.log(1)')
    const h2 = await startHarness({ staticDir: dir })
    try {
      const root = await h2.api('/')
      expect(root.status).toBe(200)
      expect(String(root.body)).toContain('<title>yujing</title>')
      expect((await h2.api('/app.js')).headers.get('content-type')).toContain('javascript')
      const deep = await h2.api('/enterprises/E1', { headers: { accept: 'text/html' } })
      expect(deep.status).toBe(200)
      expect(String(deep.body)).toContain('<title>yujing</title>')
      expectError(await h2.api('/api/nope', { token: await h2.login('viewer'), headers: { accept: 'text/html' } }), 404, 'NOT_FOUND')
      expectError(await h2.api('/missing.js'), 404)
    } finally {
      await h2.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('hardening', () => {
  test('health reports degraded checks (200; 503 with ?strict=1)', async () => {
    const bus = createMemoryBus()
    const s = await createDashboardServer({
      bus, registry: createRegistryHolder(indexRegistry(fixtureDoc())), stores: createMemoryStores(), metrics: createMetrics({ defaults: false }),
      logger: createLogger({ level: 'silent' }), clock: fakeClock(), health: () => ({ status: 'degraded', checks: { bus: { ok: false, detail: 'lag 9000' } } }),
      options: { tokenSecret: 'another-secret-0123456789', instanceId: 'd' },
    })
    try {
      const r = await s.app.inject({ method: 'GET', url: '/api/health' })
      expect(r.statusCode).toBe(200)
      expect(r.json()).toEqual({ status: 'degraded', checks: { bus: { ok: false, detail: 'lag 9000' } } })
      expect((await s.app.inject({ method: 'GET', url: '/api/health?strict=1' })).statusCode).toBe(503)
    } finally { await s.close(); await bus.close() }
  })

  test('security headers are set; CSP allows own scripts, blob: workers', async () => {
    const r = await h.api('/api/health')
    const csp = r.headers.get('content-security-policy')!
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("worker-src 'self' blob:")
    expect(csp).toContain("object-src 'none'")
    expect(r.headers.get('x-content-type-options')).toBe('nosniff')
    expect(r.headers.get('x-frame-options')).toBe('SAMEORIGIN')
    expect(r.headers.get('access-control-allow-origin')).toBeNull()
  })

  test('CORS only for configured origins', async () => {
    const h2 = await startHarness({ corsOrigins: ['https://ops.example'] })
    try {
      const ok = await h2.api('/api/health', { headers: { origin: 'https://ops.example' } })
      expect(ok.headers.get('access-control-allow-origin')).toBe('https://ops.example')
      const no = await h2.api('/api/health', { headers: { origin: 'https://evil.example' } })
      expect(no.headers.get('access-control-allow-origin')).toBeNull()
    } finally { await h2.close() }
  })

  test('a failing handler → 500 with a generic message, no stack', async () => {
    const token = await h.login('viewer')
    h.stores.telemetry.query = async () => { throw new Error('disk on fire at /var/lib/secret.db') }
    const r = await h.api('/api/sensors/E1-CH4-01/readings', { token })
    expectError(r, 500, 'INTERNAL')
    expect(r.body.error.message).toBe('internal error')
  })

  test('malformed JSON → 400; oversize body → 413', async () => {
    const res = await fetch(h.base + '/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":' })
    expectError({ status: res.status, body: await res.json() }, 400)
    const big = await h.api('/api/login', { method: 'POST', body: { username: 'a', password: 'x'.repeat(2 * 1024 * 1024) } })
    expectError(big, 413)
  })

  test('port in use → an error naming the setting', async () => {
    const blocker = createServer()
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()))
    const port = (blocker.address() as { port: number }).port
    const bus = createMemoryBus()
    const s = await createDashboardServer({
      bus, registry: createRegistryHolder(indexRegistry(fixtureDoc())), stores: createMemoryStores(), metrics: createMetrics({ defaults: false }),
      logger: createLogger({ level: 'silent' }), clock: fakeClock(), health: () => ({ status: 'ok', checks: {} }),
      options: { tokenSecret: 'another-secret-0123456789', instanceId: 'p' },
    })
    try {
      await expect(s.listen('127.0.0.1', port)).rejects.toThrow(`HTTP port ${port} is already in use (set PORT or --port; 0 picks a free port)`)
    } finally {
      await s.close()
      blocker.close()
      await bus.close()
    }
  })
})
