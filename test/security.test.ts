// Security over the real process: MQTT authentication and topic authorisation, HTTP tokens (tampered,
// foreign key, expired), roles, hostile path ids, error bodies without internals, security headers,
// CORS and login throttling.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import mqtt from 'mqtt'
import { fixtureRegistry, PASSWORDS, TOKENS } from './fixture-registry.js'
import { startProcess, type RunningProcess } from './process-harness.js'
import { Api, eventually } from './api-client.js'
import { signToken } from '../dashboard/server/token.js'

const SECRET = 'security-test-secret-0123456789abcdef'
const dir = mkdtempSync(join(tmpdir(), 'yujing-sec-'))
const registryFile = join(dir, 'registry.json')
writeFileSync(registryFile, JSON.stringify(fixtureRegistry()))
let proc: RunningProcess
let base: string
let mqttUrl: string

const connectRefused = async (opts: mqtt.IClientOptions): Promise<string> => {
  try {
    const c = await mqtt.connectAsync(mqttUrl, { reconnectPeriod: 0, connectTimeout: 5000, ...opts })
    await c.endAsync()
    return 'connected'
  } catch (err) {
    return String((err as Error).message)
  }
}

/** An error body must not leak internals. */
function noInternals(text: string): void {
  expect(text).not.toMatch(/\bat [\w.<>]+ \(|node:internal|\/work\/|\.ts:\d+|\.js:\d+|node_modules|SQLITE|stack/i)
}

beforeAll(async () => {
  proc = await startProcess(['--registry', registryFile, '--data-dir', join(dir, 'data')], { YUJING_TOKEN_SECRET: SECRET })
  base = `http://127.0.0.1:${proc.httpPort}`
  mqttUrl = `mqtt://127.0.0.1:${proc.mqttPort}`
})
afterAll(async () => { await proc?.stop() })

describe('MQTT security (real process)', () => {
  it('refuses a wrong token, an unknown gateway and anonymous clients', async () => {
    expect(await connectRefused({ username: 'gw-E1', password: 'wrong-token-0000000000' })).toMatch(/Bad username or password/i)
    expect(await connectRefused({ username: 'gw-nobody', password: TOKENS.E1 })).toMatch(/Bad username or password/i)
    expect(await connectRefused({})).toMatch(/Not authorized/i)
  })

  it('a cross-enterprise publish never reaches the pipeline (acknowledged, recorded as topic_forbidden); subscribing to sensors/# is refused', async () => {
    const c = await mqtt.connectAsync(mqttUrl, { username: 'gw-E1', password: TOKENS.E1, reconnectPeriod: 0 })
    c.on('error', () => undefined)
    // SUBACK 128 (failure): mqtt.js turns it into a rejected subscribe; the connection stays up.
    await expect(c.subscribeAsync('sensors/#', { qos: 1 })).rejects.toThrow(/Subscribe error/)
    await expect(c.subscribeAsync('sensors/E1/+', { qos: 1 })).rejects.toThrow(/Subscribe error/)
    expect(c.connected).toBe(true)
    const ts = Date.now() - 1000
    // Acknowledged (so a persistent session does not resend it forever) but refused: a rejection with its reason.
    await c.publishAsync('sensors/E2/E2-LEL-01', JSON.stringify({ ts, value: 99 }), { qos: 1 })
    expect(c.connected).toBe(true)
    c.end(true)
    const admin = await Api.login(base, 'admin', PASSWORDS.admin)
    await eventually(async () => ((await admin.get('/api/ingest/rejections?reason=topic_forbidden')).body as { gatewayId: string; topic: string }[])
      .some((x) => x.gatewayId === 'gw-E1' && x.topic === 'sensors/E2/E2-LEL-01'), 10_000, 'rejection topic_forbidden recorded')
    const r = await admin.get('/api/sensors/E2-LEL-01/readings')
    expect((r.body as { value: number }[]).some((x) => x.value === 99)).toBe(false)
    const w = (await admin.get('/api/warnings?enterpriseId=E2')).body as unknown[]
    expect(w).toHaveLength(0)
    // and the owner's publish does arrive (the check above is not vacuous)
    const e2 = await mqtt.connectAsync(mqttUrl, { username: 'gw-E2', password: TOKENS.E2, reconnectPeriod: 0 })
    await e2.publishAsync('sensors/E2/E2-LEL-01', JSON.stringify({ ts: ts + 1, value: 3 }), { qos: 1 })
    await e2.endAsync()
    await eventually(async () => ((await admin.get('/api/sensors/E2-LEL-01/readings')).body as { value: number }[]).some((x) => x.value === 3), 10_000, 'owner reading stored')
  })
})

describe('HTTP security (real process)', () => {
  it('refuses tampered, foreign-key and expired tokens with 401', async () => {
    const viewer = await Api.login(base, 'viewer', PASSWORDS.viewer)
    const [h, p, s] = viewer.token.split('.') as [string, string, string]
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url')}.${s}`
    const foreign = signToken('another-secret-0123456789abcdef', { sub: 'admin', role: 'admin' }, Date.now(), 3600)
    const expired = signToken(SECRET, { sub: 'admin', role: 'admin' }, Date.now() - 7_200_000, 60)
    const valid = signToken(SECRET, { sub: 'admin', role: 'admin' }, Date.now(), 3600)
    for (const t of [tampered, foreign, expired, 'garbage', '']) {
      const r = await new Api(base, t).get('/api/warnings')
      expect(r.status, t).toBe(401)
      noInternals(JSON.stringify(r.body))
    }
    expect((await new Api(base, valid).get('/api/warnings')).status).toBe(200) // the secret is the real one
  })

  it('a viewer cannot change anything (403)', async () => {
    const viewer = await Api.login(base, 'viewer', PASSWORDS.viewer)
    const admin = await Api.login(base, 'admin', PASSWORDS.admin)
    const c = await mqtt.connectAsync(mqttUrl, { username: 'gw-E1', password: TOKENS.E1, reconnectPeriod: 0 })
    await c.publishAsync('sensors/E1/E1-CH4-01', JSON.stringify({ ts: Date.now() - 500, value: 1.2 }), { qos: 1 })
    await c.endAsync()
    const w = await eventually(async () => ((await admin.get('/api/warnings?enterpriseId=E1')).body as { id: string }[])[0], 10_000, 'a warning')
    for (const action of ['ack', 'dispose', 'close']) {
      expect((await viewer.post(`/api/warnings/${w.id}/${action}`, { note: 'x', outcome: 'resolved' })).status, action).toBe(403)
    }
    const reg = (await admin.get('/api/registry')).body
    expect((await viewer.req('PUT', '/api/registry', reg)).status).toBe(403)
    expect((await viewer.req('PUT', '/api/sensors/E1-CH4-01/thresholds', { orange: 0.1, red: 0.2, clear: 0.1 })).status).toBe(403)
    expect(((await admin.get(`/api/warnings/${w.id}`)).body as { status: string }).status).toBe('open')
  })

  it('SQL-looking and hostile ids in paths are 404, never 500, and errors carry no internals', async () => {
    const admin = await Api.login(base, 'admin', PASSWORDS.admin)
    for (const id of ["'%20OR%201=1--", '1%3B%20DROP%20TABLE%20warnings', '..%2F..%2Fetc%2Fpasswd', '%00', 'x'.repeat(2000), '%E2%80%AE']) {
      for (const path of [`/api/warnings/${id}`, `/api/sensors/${id}`, `/api/sensors/${id}/readings`, `/api/enterprises/${id}`]) {
        const r = await admin.get(path)
        expect([400, 404], `${path} → ${r.status}`).toContain(r.status)
        noInternals(typeof r.body === 'string' ? r.body : JSON.stringify(r.body))
      }
    }
    const bad = await fetch(`${base}/api/warnings/x/ack`, { method: 'POST', headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' }, body: '{not json' })
    expect(bad.status).toBe(400)
    noInternals(await bad.text())
    expect((await admin.get('/api/warnings')).status).toBe(200) // still there after the injection attempts
  })

  it('sends security headers and does not allow a foreign origin', async () => {
    const r = await fetch(`${base}/api/health`, { headers: { origin: 'https://evil.example' } })
    expect(r.headers.get('content-security-policy')).toBeTruthy()
    expect(r.headers.get('x-content-type-options')).toBe('nosniff')
    expect(r.headers.get('x-frame-options') ?? r.headers.get('content-security-policy')).toMatch(/SAMEORIGIN|DENY|frame-ancestors/i)
    expect(r.headers.get('x-powered-by')).toBeNull()
    expect(r.headers.get('access-control-allow-origin')).not.toBe('https://evil.example')
    expect(r.headers.get('access-control-allow-origin')).not.toBe('*')
    const pre = await fetch(`${base}/api/warnings`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } })
    expect(pre.headers.get('access-control-allow-origin')).not.toBe('https://evil.example')
    expect(pre.headers.get('access-control-allow-origin')).not.toBe('*')
  })

  it('throttles login brute force with 429 (and the right password is refused while throttled)', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 12; i++) {
      const r = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'duty', password: `guess-${i}` }) })
      statuses.push(r.status)
      noInternals(await r.text())
    }
    expect(statuses.slice(0, 3).every((s) => s === 401)).toBe(true)
    expect(statuses).toContain(429)
    const right = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'duty', password: PASSWORDS.duty }) })
    expect(right.status).toBe(429)
  })
})
