// End to end: the real process, a real MQTT client over TCP, warnings over socket.io and HTTP,
// the whole warning life, jurisdiction, rejections, and a restart that keeps everything.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import mqtt from 'mqtt'
import type { Socket } from 'socket.io-client'
import { fixtureRegistry, PASSWORDS, TOKENS } from './fixture-registry.js'
import { startProcess, type RunningProcess } from './process-harness.js'
import { Api, connectSocket, eventually, warningCollector } from './api-client.js'

const dir = mkdtempSync(join(tmpdir(), 'yujing-e2e-'))
const registryFile = join(dir, 'registry.json')
const dataDir = join(dir, 'data')
writeFileSync(registryFile, JSON.stringify(fixtureRegistry()))

let proc: RunningProcess
let base: string
let gw: mqtt.MqttClient
const sockets: Socket[] = []

async function publish(topic: string, payload: unknown, qos: 0 | 1 = 1): Promise<void> {
  await gw.publishAsync(topic, typeof payload === 'string' ? payload : JSON.stringify(payload), { qos })
}

describe('yujing end to end (one process, embedded mode)', () => {
  beforeAll(async () => {
    proc = await startProcess(['--registry', registryFile, '--data-dir', dataDir])
    base = `http://127.0.0.1:${proc.httpPort}`
    gw = await mqtt.connectAsync(`mqtt://127.0.0.1:${proc.mqttPort}`, { username: 'gw-E1', password: TOKENS.E1, reconnectPeriod: 0 })
  })
  afterAll(async () => {
    for (const s of sockets) s.close()
    await gw?.endAsync()
    await proc?.stop()
  })

  it('raises a methane warning from a reading published over MQTT and pushes it over socket.io, escalating with the value', async () => {
    const duty = await Api.login(base, 'duty', PASSWORDS.duty)
    const s = await connectSocket(base, duty.token); sockets.push(s)
    const dutyB = await Api.login(base, 'dutyB', PASSWORDS.dutyB)
    const sB = await connectSocket(base, dutyB.token); sockets.push(sB)
    const seenByB = warningCollector(sB)
    const warnings = warningCollector(s)

    const now = Date.now()
    await publish('sensors/E1/E1-CH4-01', { ts: new Date(now - 2000).toISOString(), value: 0.6, seq: 1 })
    await publish('sensors/E1/E1-CH4-01', { ts: now - 1000, value: 1.2, seq: 2 })
    const orange = await warnings.waitFor((w) => w.sensorId === 'E1-CH4-01' && w.level === 2)
    expect(orange).toMatchObject({ color: 'orange', status: 'open', active: true, kind: 'threshold', enterpriseId: 'E1', regionId: 'G1' })

    await publish('sensors/E1', [{ sensorId: 'E1-CH4-01', ts: now, value: 1.62, seq: 3 }])
    const red = await warnings.waitFor((w) => w.id === orange.id && w.level === 1)
    expect(red.color).toBe('red')
    expect(red.peakValue).toBeCloseTo(1.62)

    const list = await duty.get('/api/warnings')
    expect(list.status).toBe(200)
    const mine = (list.body as { id: string; level: number }[]).filter((w) => w.id === orange.id)
    expect(mine).toHaveLength(1)
    expect(mine[0]!.level).toBe(1)

    // The county-B duty officer never receives county-A warnings, and cannot read them.
    expect(seenByB.seen.some((w) => w.enterpriseId === 'E1')).toBe(false)
    expect((await dutyB.get(`/api/warnings/${orange.id}`)).status).toBe(404)
  })

  it('works a warning to closure over HTTP with history, 409 on illegal transitions, and a viewer cannot act', async () => {
    const duty = await Api.login(base, 'duty', PASSWORDS.duty)
    const viewer = await Api.login(base, 'viewer', PASSWORDS.viewer)
    const open = (await duty.get('/api/warnings?enterpriseId=E1')).body as { id: string }[]
    const id = open[0]!.id
    expect((await viewer.post(`/api/warnings/${id}/ack`, { note: 'x' })).status).toBe(403)
    const acked = await duty.post(`/api/warnings/${id}/ack`, { note: '已电话核实' })
    expect(acked.status).toBe(200)
    expect(acked.body).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'duty' })
    expect((await duty.post(`/api/warnings/${id}/ack`, {})).status).toBe(409)
    expect((await duty.post(`/api/warnings/${id}/dispose`, { note: '撤人、加强通风' })).body.status).toBe('disposing')
    const closed = await duty.post(`/api/warnings/${id}/close`, { outcome: 'resolved', note: '瓦斯浓度恢复正常' })
    expect(closed.status).toBe(200)
    expect(closed.body).toMatchObject({ status: 'closed', outcome: 'resolved', closedBy: 'duty' })
    const types = (closed.body.events as { type: string; by?: string }[]).map((e) => e.type)
    expect(types).toEqual(expect.arrayContaining(['raised', 'acknowledged', 'disposing', 'closed']))
    expect((await duty.post(`/api/warnings/${id}/close`, { outcome: 'resolved' })).status).toBe(409)
  })

  it('rejects invalid readings with a reason an integrator can read, and keeps the valid ones of a batch', async () => {
    const admin = await Api.login(base, 'admin', PASSWORDS.admin)
    const now = Date.now()
    await publish('sensors/E1', [
      { sensorId: 'E1-CO-01', ts: now, value: 5 },
      { sensorId: 'E1-CO-01', ts: now + 1, value: 'NaN' },
      { sensorId: 'NO-SUCH', ts: now, value: 1 },
      { sensorId: 'E1-CO-01', ts: '2026-11-28T08:00:00', value: 1 },
    ])
    await publish('sensors/E1/E1-CO-01', '{not json')
    const rej = await eventually(async () => {
      const r = await admin.get('/api/ingest/rejections?limit=50')
      const reasons = (r.body as { reason: string }[]).map((x) => x.reason)
      return ['bad_shape', 'unknown_sensor', 'timestamp_no_offset', 'bad_json'].every((x) => reasons.includes(x)) || reasons.includes('non_finite_value') ? reasons : undefined
    }, 10_000, 'rejections listed')
    expect(rej).toEqual(expect.arrayContaining(['unknown_sensor', 'timestamp_no_offset', 'bad_json']))
    const readings = await eventually(async () => {
      const r = await admin.get('/api/sensors/E1-CO-01/readings')
      return (r.body as { value: number }[]).length ? r.body as { value: number }[] : undefined
    }, 10_000, 'valid batch item stored')
    expect(readings.map((x) => x.value)).toContain(5)
    expect((await fetch(`${base}/api/health`)).status).toBe(200)
  })

  it('keeps warnings, their history and readings across a restart', async () => {
    const duty = await Api.login(base, 'duty', PASSWORDS.duty)
    const before = await duty.get('/api/warnings?status=closed')
    expect((before.body as unknown[]).length).toBeGreaterThan(0)
    expect(await proc.stop('SIGTERM')).toBe(0)
    await gw.endAsync()
    proc = await startProcess(['--registry', registryFile, '--data-dir', dataDir])
    base = `http://127.0.0.1:${proc.httpPort}`
    gw = await mqtt.connectAsync(`mqtt://127.0.0.1:${proc.mqttPort}`, { username: 'gw-E1', password: TOKENS.E1, reconnectPeriod: 0 })
    const duty2 = await Api.login(base, 'duty', PASSWORDS.duty)
    const after = await duty2.get('/api/warnings?status=closed')
    expect(after.body).toEqual(before.body)
    const r = await duty2.get('/api/sensors/E1-CO-01/readings')
    expect((r.body as { value: number }[]).map((x) => x.value)).toContain(5)
  })
})
