// Overload over the real process: a gateway at 20× its registry maxRate is rate limited (counted in
// /metrics) without starving the other gateways, and a sensor flapping across its threshold on every
// reading produces exactly one warning per episode.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import mqtt from 'mqtt'
import { fixtureRegistry, PASSWORDS, TOKENS } from './fixture-registry.js'
import { startProcess, type RunningProcess } from './process-harness.js'
import { Api, eventually } from './api-client.js'

const FLOOD_TOKEN = 'gw-flood-token-1234567890'
const MAX_RATE = 50
const dir = mkdtempSync(join(tmpdir(), 'yujing-flood-'))
const registryFile = join(dir, 'registry.json')
const doc = fixtureRegistry()
doc.gateways!.push({ id: 'gw-flood', enterpriseId: 'E1', token: FLOOD_TOKEN, maxRate: MAX_RATE })
doc.sensors.push({ id: 'E1-CH4-02', enterpriseId: 'E1', type: 'ch4', role: 'working_face', unit: '%CH4', maxSilenceSeconds: 300 })
writeFileSync(registryFile, JSON.stringify(doc))
let proc: RunningProcess
let base: string

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const connect = (username: string, password: string) => mqtt.connectAsync(`mqtt://127.0.0.1:${proc.mqttPort}`, { username, password, reconnectPeriod: 0 })

async function rateLimitedTotal(admin: Api): Promise<number> {
  const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${admin.token}` } })
  const m = /^yujing_readings_rejected_total\{reason="rate_limited"\} (\d+(?:\.\d+)?)$/m.exec(await res.text())
  return m ? Number(m[1]) : 0
}

beforeAll(async () => {
  proc = await startProcess(['--registry', registryFile, '--data-dir', join(dir, 'data')])
  base = `http://127.0.0.1:${proc.httpPort}`
})
afterAll(async () => { await proc?.stop() })

describe('flood and flapping (real process)', () => {
  it('a gateway at 20× its maxRate is rate limited while the others are all accepted', async () => {
    const admin = await Api.login(base, 'admin', PASSWORDS.admin)
    const flood = await connect('gw-flood', FLOOD_TOKEN)
    const other = await connect('gw-E2', TOKENS.E2)
    const t0 = Date.now() - 60_000
    let floodSent = 0
    const floodRun = (async () => {
      // 20 × 50/s = 1000 readings/s for 3 s, batches of 20 every 20 ms.
      for (let tick = 0; tick < 150; tick++) {
        const items = Array.from({ length: 20 }, (_, i) => ({ sensorId: 'E1-CO-01', ts: t0 + floodSent + i, value: 3 }))
        floodSent += items.length
        flood.publish('sensors/E1', JSON.stringify(items), { qos: 0 })
        await sleep(20)
      }
    })()
    const otherSent: number[] = []
    const otherRun = (async () => {
      for (let i = 0; i < 60; i++) {
        const ts = t0 + i * 50
        await other.publishAsync('sensors/E2/E2-LEL-01', JSON.stringify({ ts, value: 2 + (i % 3) }), { qos: 1 })
        otherSent.push(ts)
        await sleep(50)
      }
    })()
    await Promise.all([floodRun, otherRun])
    await flood.endAsync()
    await other.endAsync()

    const stored = await eventually(async () => {
      const r = await admin.get(`/api/sensors/E2-LEL-01/readings?from=${new Date(t0 - 1).toISOString()}&limit=10000`)
      const ts = new Set((r.body as { ts: string }[]).map((x) => Date.parse(x.ts)))
      return otherSent.every((t) => ts.has(t)) ? ts : undefined
    }, 10_000, 'all of gw-E2\'s readings stored')
    expect(otherSent.filter((t) => stored.has(t))).toHaveLength(60)
    expect((await admin.get('/api/ingest/rejections?gatewayId=gw-E2')).body).toEqual([])

    const limited = await rateLimitedTotal(admin)
    // ~3 s at 50/s (burst 2×) may pass, i.e. at most ~250 of 3000; the rest are counted.
    expect(limited).toBeGreaterThan(floodSent - 400)
    expect(limited).toBeLessThan(floodSent)
    const kept = (await admin.get('/api/ingest/rejections?gatewayId=gw-flood&reason=rate_limited&limit=1000')).body as { reason: string; count?: number }[]
    expect(kept.length).toBeGreaterThan(0)
    expect(kept.every((r) => r.reason === 'rate_limited')).toBe(true)
    const co = await admin.get(`/api/sensors/E1-CO-01/readings?from=${new Date(t0 - 1).toISOString()}&limit=10000`)
    const coCount = (co.body as unknown[]).length
    expect(coCount).toBeGreaterThan(0)
    expect(coCount + limited).toBe(floodSent)
  }, 30_000)

  it('a sensor flapping across its threshold on every reading raises one warning per episode', async () => {
    const duty = await Api.login(base, 'duty', PASSWORDS.duty)
    const gw = await connect('gw-E1', TOKENS.E1)
    const t0 = Date.now() - 30_000
    const flap = async (from: number): Promise<void> => {
      for (let i = 0; i < 30; i++) await gw.publishAsync('sensors/E1/E1-CH4-02', JSON.stringify({ ts: from + i * 100, value: i % 2 ? 0.4 : 1.2 }), { qos: 1 })
    }
    type W = { id: string; status: string; kind: string; sensorId?: string }
    const mine = async (): Promise<W[]> => {
      const open = (await duty.get('/api/warnings?limit=1000')).body as W[]
      const closed = (await duty.get('/api/warnings?status=closed&limit=1000')).body as W[]
      const byId = new Map([...open, ...closed].map((w) => [w.id, w]))
      return [...byId.values()].filter((w) => w.sensorId === 'E1-CH4-02' && w.kind === 'threshold')
    }
    await flap(t0)
    const first = await eventually(async () => { const w = await mine(); return w.length ? w : undefined }, 10_000, 'first warning')
    await sleep(500)
    expect(await mine()).toHaveLength(1)
    const id = first[0]!.id
    expect((await duty.post(`/api/warnings/${id}/ack`, { note: 'flapping' })).status).toBe(200)
    expect((await duty.post(`/api/warnings/${id}/dispose`, { note: 'checking' })).status).toBe(200)
    expect((await duty.post(`/api/warnings/${id}/close`, { outcome: 'resolved', note: 'ok' })).status).toBe(200)
    await flap(t0 + 10_000)
    const second = await eventually(async () => { const w = await mine(); return w.length === 2 ? w : undefined }, 10_000, 'second episode')
    await sleep(500)
    const all = await mine()
    expect(all).toHaveLength(2)
    expect(new Set(all.map((w) => w.id)).size).toBe(2)
    expect(all.filter((w) => w.status === 'closed').map((w) => w.id)).toEqual([id])
    expect(second.filter((w) => w.status !== 'closed')).toHaveLength(1)
    await gw.endAsync()
  }, 30_000)
})
