// The benchmark's lean MQTT client against the two brokers the benchmark drives: aedes (as in yujing)
// and Mosquitto (the raw baseline, our own instance as the bench starts it). What it publishes must
// reach a standard subscriber (MQTT.js) byte for byte, with PUBACKs counted exactly; what a standard
// publisher sends must reach it unchanged, its QoS 1 deliveries acknowledged.
import { createServer, type Server } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Aedes, type AuthenticateError, type Client } from 'aedes'
import type { MqttClient } from 'mqtt'
import { connectLean, connectPublisher, createPacketReader, encodePublish, type Publisher } from './lean-mqtt.js'
import { connectMqtt } from './mqtt-connect.js'
import { startMosquitto, type Mosquitto } from './mosquitto.js'

const required = process.env.CI === 'true' || process.env.YUJING_REQUIRE_SERVICES === '1'

async function until(cond: () => boolean, ms = 8000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 10))
  }
}

interface Results { ok: number[]; failed: number[] }
const collector = (): Results & { hook: (tag: number, ok: boolean) => void } => {
  const r: Results = { ok: [], failed: [] }
  return { ...r, hook: (tag, ok) => (ok ? r.ok : r.failed).push(tag) }
}

/** Publishes QoS 1 and QoS 0 messages of three remaining-length sizes (1-, 2- and 3-byte varints) and
 *  UTF-8 text; the subscriber must receive each unchanged and every publish must be reported ok. */
async function roundTrip(port: number, auth: { username: string; password: string } | undefined): Promise<void> {
  const sub: MqttClient = await connectMqtt({ host: '127.0.0.1', port, clientId: `sub-${Date.now()}`, ...(auth ? { username: 'reader', password: 'reader-secret' } : {}) })
  const got: { topic: string; payload: string; qos: number }[] = []
  sub.on('message', (topic, payload, packet) => got.push({ topic, payload: payload.toString('utf8'), qos: packet.qos }))
  await sub.subscribeAsync('sensors/#', { qos: 1 })
  const c = collector()
  const pub = await connectPublisher({ host: '127.0.0.1', port, clientId: `pub-${Date.now()}`, ...auth }, c.hook)
  const sent = [
    { topic: 'sensors/E1/E1-CH4-01', payload: '{"ts":1,"value":0.5}', qos: 1 as const },
    { topic: 'sensors/E1/温度-02', payload: '{"ts":2,"value":21.5,"note":"甲烷"}', qos: 1 as const },
    { topic: 'sensors/E1', payload: JSON.stringify(Array.from({ length: 40 }, (_, i) => ({ sensorId: `E1-S${i}`, ts: i, value: i }))), qos: 1 as const },
    { topic: 'sensors/E1', payload: 'x'.repeat(20_000), qos: 1 as const },
    { topic: 'sensors/E1/E1-CH4-01', payload: '{"ts":3,"value":0.6}', qos: 0 as const },
  ]
  expect(sent[2]!.payload.length).toBeGreaterThan(127)
  sent.forEach((m, i) => pub.publish(m.topic, m.payload, m.qos, i + 1))
  await until(() => c.ok.length === sent.length && got.length === sent.length)
  expect(c.failed).toEqual([])
  expect([...c.ok].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5])
  expect(pub.inFlight).toBe(0)
  // Order across QoS levels is the broker's business (aedes forwards the QoS 0 one first).
  const key = (m: { topic: string; payload: string; qos: number }): string => `${m.topic} ${m.qos} ${m.payload}`
  expect(got.map(key).sort()).toEqual(sent.map(key).sort())
  // Packet ids are reused once acknowledged: 70,000 QoS 1 publishes, at most 100 in flight.
  let n = 0
  const many = collector()
  const pub2 = await connectPublisher({ host: '127.0.0.1', port, clientId: `pub2-${Date.now()}`, ...auth }, many.hook)
  while (n < 70_000) {
    while (pub2.inFlight < 100 && n < 70_000) pub2.publish('sensors/E2/E2-S1', `{"ts":${n},"value":1}`, 1, ++n)
    await new Promise((r) => setImmediate(r))
  }
  await until(() => many.ok.length === 70_000, 60_000)
  expect(new Set(many.ok).size).toBe(70_000)
  expect(many.failed).toEqual([])
  await pub.end()
  await pub2.end()
  await sub.endAsync()
}

/** A standard publisher (MQTT.js) sends QoS 0 and 1 messages; the lean subscriber must receive each
 *  unchanged, with its QoS, and stop receiving after UNSUBSCRIBE. */
async function subscriberRoundTrip(port: number, auth: { username: string; password: string } | undefined): Promise<void> {
  const got: { topic: string; payload: string; qos: number }[] = []
  const sub = await connectLean({ host: '127.0.0.1', port, clientId: `lsub-${Date.now()}`, ...auth }, { onMessage: (topic, payload, qos) => got.push({ topic, payload: payload.toString('utf8'), qos }) })
  expect(await sub.subscribe('sensors/#', 1)).toBe(1)
  const pub: MqttClient = await connectMqtt({ host: '127.0.0.1', port, clientId: `mpub-${Date.now()}`, ...auth })
  const sent = [
    { topic: 'sensors/E3/E3-S1', payload: '{"ts":1,"value":1}', qos: 1 as const },
    { topic: 'sensors/E3/温度', payload: '甲烷 '.repeat(50), qos: 1 as const },
    { topic: 'sensors/E3', payload: 'q'.repeat(20_000), qos: 1 as const },
    { topic: 'sensors/E3/E3-S2', payload: '{"ts":2,"value":2}', qos: 0 as const },
  ]
  for (const m of sent) await pub.publishAsync(m.topic, m.payload, { qos: m.qos })
  await until(() => got.length === sent.length)
  const key = (m: { topic: string; payload: string; qos: number }): string => `${m.topic} ${m.qos} ${m.payload}`
  expect(got.map(key).sort()).toEqual(sent.map(key).sort())
  await sub.unsubscribe('sensors/#')
  await pub.publishAsync('sensors/E3/E3-S1', 'after', { qos: 1 })
  await new Promise((r) => setTimeout(r, 200))
  expect(got.length).toBe(sent.length)
  await pub.endAsync()
  await sub.end()
}

describe('lean MQTT client: packet reader', () => {
  it('splits a byte stream into packets wherever the chunks break, with multi-byte lengths', () => {
    const packets = [
      Buffer.from([0x20, 0x02, 0x00, 0x00]), // CONNACK
      Buffer.from([0x40, 0x02, 0x12, 0x34]), // PUBACK 0x1234
      encodePublish('a/b', 'y'.repeat(300), 1, 7), // 2-byte remaining length
      encodePublish('a/c', 'z'.repeat(17_000), 0, 0), // 3-byte remaining length
      Buffer.from([0xd0, 0x00]), // PINGRESP
    ]
    const stream = Buffer.concat(packets)
    // Body = after the type byte and the remaining-length bytes (their last one has no 0x80 bit).
    const bodyOf = (p: Buffer): Buffer => { let i = 1; while (p[i]! & 0x80) i++; return p.subarray(i + 1) }
    const want = packets.map((p) => ({ type: p[0]! >> 4, body: bodyOf(p).toString('hex') }))
    expect(want.map((w) => w.body.length / 2)).toEqual([2, 2, 2 + 3 + 2 + 300, 2 + 3 + 17_000, 0])
    for (const step of [1, 2, 3, 5, 64, 4096, stream.length]) {
      const seen: { type: number; body: string }[] = []
      const read = createPacketReader((header, buf, at, len) => seen.push({ type: header >> 4, body: buf.subarray(at, at + len).toString('hex') }))
      for (let i = 0; i < stream.length; i += step) read(stream.subarray(i, i + step))
      expect(seen, `chunks of ${step}`).toEqual(want)
    }
  })
  it('refuses a remaining length longer than four bytes', () => {
    const read = createPacketReader(() => undefined)
    expect(() => read(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toThrow(/remaining length/)
  })
})

describe('lean MQTT client against aedes', () => {
  let server: Server
  let port = 0
  let broker: Aedes
  /** While set, QoS 1 publishes are held (no PUBACK) until the test lets them go. */
  let hold = false
  const held: (() => void)[] = []
  const clients: Client[] = []
  /** PUBACKs aedes received from subscribers, by client id. */
  const acksFrom = new Map<string, number>()
  beforeAll(async () => {
    broker = await Aedes.createBroker({
      authenticate(client, username, password, done) {
        const ok = (username === 'gw-1' && password?.toString() === 'gw-1-secret') || (username === 'reader' && password?.toString() === 'reader-secret')
        if (ok) { clients.push(client); return done(null, true) }
        const err = new Error('bad username or password') as AuthenticateError
        err.returnCode = 4
        done(err, false)
      },
      authorizePublish(_client, _packet, cb) { if (hold) held.push(() => cb(null)); else cb(null) },
    })
    broker.on('ack', (_packet, client) => acksFrom.set(client.id, (acksFrom.get(client.id) ?? 0) + 1))
    server = createServer((s) => broker.handle(s))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    port = (server.address() as { port: number }).port
  })
  afterAll(async () => {
    await new Promise<void>((r) => broker.close(() => r()))
    await new Promise<void>((r) => server.close(() => r()))
  })

  it('publishes QoS 0 and 1 that a standard subscriber receives unchanged, and counts every PUBACK', async () => {
    await roundTrip(port, { username: 'gw-1', password: 'gw-1-secret' })
  })

  it('subscribes: receives QoS 0 and 1 unchanged, acknowledges every QoS 1 delivery, stops after UNSUBSCRIBE', async () => {
    acksFrom.clear()
    await subscriberRoundTrip(port, { username: 'reader', password: 'reader-secret' })
    const lean = [...acksFrom].filter(([id]) => id.startsWith('lsub-'))
    expect(lean.map(([, n]) => n)).toEqual([3]) // the three QoS 1 deliveries
  })

  it('rejects a refused CONNECT with the broker\'s reason', async () => {
    const c = collector()
    await expect(connectPublisher({ host: '127.0.0.1', port, clientId: 'bad', username: 'gw-1', password: 'wrong' }, c.hook)).rejects.toThrow(/bad username or password/)
  })

  it('reports what was in flight as failed when the connection drops, and refuses to publish after', async () => {
    const c = collector()
    const pub: Publisher = await connectPublisher({ host: '127.0.0.1', port, clientId: 'drops', username: 'gw-1', password: 'gw-1-secret' }, c.hook)
    hold = true
    for (let i = 1; i <= 3; i++) pub.publish('sensors/E1/x', '{}', 1, i)
    await until(() => held.length === 3)
    expect(pub.inFlight).toBe(3)
    clients.find((x) => x.id === 'drops')!.close()
    await until(() => !pub.connected && c.failed.length === 3)
    expect(c.ok).toEqual([])
    expect([...c.failed].sort()).toEqual([1, 2, 3])
    expect(pub.error).toMatch(/closed/)
    pub.publish('sensors/E1/x', '{}', 1, 9)
    expect(c.failed).toContain(9)
    hold = false
    for (const f of held.splice(0)) f()
    await pub.end()
  })
})

describe('lean MQTT client against Mosquitto (the raw baseline)', () => {
  let mosq: Mosquitto | { error: string } = { error: 'not started' }
  const dir = mkdtempSync(join(tmpdir(), 'yj-pub-'))
  beforeAll(async () => { mosq = await startMosquitto(dir) }, 20_000)
  afterAll(async () => {
    if (!('error' in mosq)) await mosq.stop()
    rmSync(dir, { recursive: true, force: true })
  })
  it('publishes and subscribes like a standard client, PUBACKs counted', async (ctx) => {
    if ('error' in mosq) {
      if (required) throw new Error(`Mosquitto is required here: ${mosq.error}`)
      ctx.skip()
      return
    }
    await roundTrip(mosq.port, undefined)
    await subscriberRoundTrip(mosq.port, undefined)
  }, 90_000)
})
