// The ingest stage with its embedded broker, driven by a real mqtt.js client over TCP.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createConnection, createServer } from 'node:net'
import mqtt, { type MqttClient } from 'mqtt'
import { createMemoryBus } from '../core/bus/memory-bus.js'
import type { Bus } from '../core/bus/bus.js'
import { topics } from '../core/contracts/topics.js'
import type { IngestHeartbeat, ReadingBatch, Rejection } from '../core/contracts/reading.js'
import { indexRegistry } from '../core/registry/registry-index.js'
import { createRegistryHolder } from '../core/registry/registry-holder.js'
import { createMetrics } from '../core/runtime/metrics.js'
import { createLogger } from '../core/runtime/logger.js'
import { fakeClock, type FakeClock } from '../core/runtime/clock.js'
import { AppError } from '../core/runtime/errors.js'
import { createIngestStage, type IngestStage } from './ingest-stage.js'
import { createEmbeddedBroker } from './embedded-broker.js'
import { encodeConnect, encodePublish } from '../bench/lean-mqtt.js'
import { memoryRejectionStore, testRegistryDoc } from './testing/fixtures.js'

const logger = createLogger({ level: 'silent' })
const NOW = Date.parse('2026-11-28T00:00:00.000Z')

interface Rig {
  stage: IngestStage
  bus: Bus
  clock: FakeClock
  batches: ReadingBatch[]
  dlq: Rejection[]
  beats: IngestHeartbeat[]
  published: string[]
  store: ReturnType<typeof memoryRejectionStore>
  metrics: ReturnType<typeof createMetrics>
  url: string
}

async function rig(): Promise<Rig> {
  const inner = createMemoryBus()
  const published: string[] = []
  // Records, synchronously, what reached the bus (to check PUBACK comes after it).
  const bus: Bus = { ...inner, publish: (t, m) => { published.push(t.name); return inner.publish(t, m) } }
  const clock = fakeClock(NOW)
  const store = memoryRejectionStore()
  const metrics = createMetrics({ defaults: false, perGateway: true })
  const batches: ReadingBatch[] = []
  const dlq: Rejection[] = []
  const beats: IngestHeartbeat[] = []
  await inner.subscribe(topics.readings, { group: 't' }, (m) => { batches.push(m) })
  await inner.subscribe(topics.readingsDlq, { group: 't' }, (m) => { dlq.push(m) })
  await inner.subscribe(topics.heartbeats, { group: 't' }, (m) => { beats.push(m) })
  const stage = createIngestStage({
    bus, registry: createRegistryHolder(indexRegistry(testRegistryDoc())), rejections: store, metrics, logger, clock,
    options: { mode: 'embedded', host: '127.0.0.1', port: 0, heartbeatIntervalMs: 1000, instance: 'ingest-test' },
  })
  await stage.start()
  return { stage, bus: inner, clock, batches, dlq, beats, published, store, metrics, url: `mqtt://127.0.0.1:${stage.mqttPort()}` }
}

function connect(url: string, username?: string, password?: string): Promise<MqttClient> {
  return mqtt.connectAsync(url, { username, password, reconnectPeriod: 0, connectTimeout: 5000, clientId: `t-${username ?? 'anon'}-${Math.random().toString(36).slice(2)}` })
}

/** Resolves with the CONNACK refusal code. */
function refusal(url: string, username?: string, password?: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { username, password, reconnectPeriod: 0, connectTimeout: 5000 })
    c.on('connect', () => { c.end(true); reject(new Error('connected but should have been refused')) })
    c.on('error', (err) => { c.end(true); resolve((err as { code?: number }).code) })
  })
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('ingest stage over the embedded broker', () => {
  let r: Rig
  const clients: MqttClient[] = []
  beforeEach(async () => { r = await rig() })
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.endAsync(true).catch(() => undefined)
    await r.stage.stop()
    await r.bus.close()
  })

  it('an authenticated gateway publishes single readings (QoS 0 and 1) and a batch; they reach the bus', async () => {
    const c = await connect(r.url, 'gw-E1', 'token-e1')
    clients.push(c)
    await c.publishAsync('sensors/E1/E1-CH4-01', JSON.stringify({ ts: NOW - 2000, value: 0.41, seq: 1 }), { qos: 0 })
    await c.publishAsync('sensors/E1/E1-CH4-01', JSON.stringify({ ts: '2026-11-28T07:59:59.000+08:00', value: 0.42, seq: 2 }), { qos: 1 })
    await c.publishAsync('sensors/E1', JSON.stringify([
      { sensorId: 'E1-CH4-01', ts: NOW, value: 0.43, seq: 3 },
      { sensorId: 'E1-CO-01', ts: NOW, value: 5, unit: 'ppm' },
    ]), { qos: 1 })
    await until(() => r.batches.length === 3)
    expect(r.batches.map((b) => b.items.map((i) => [i.sensorId, i.value, i.ts]))).toEqual([
      [['E1-CH4-01', 0.41, NOW - 2000]],
      [['E1-CH4-01', 0.42, NOW - 1000]],
      [['E1-CH4-01', 0.43, NOW], ['E1-CO-01', 5, NOW]],
    ])
    expect(r.batches.every((b) => b.gatewayId === 'gw-E1' && b.enterpriseId === 'E1' && b.receivedAt === NOW)).toBe(true)
    const text = await r.metrics.registry.metrics()
    expect(text).toContain('yujing_readings_received_total{gateway="gw-E1"} 4')
    expect(text).toContain('yujing_readings_accepted_total 4')
    expect(text).toContain('yujing_mqtt_messages_total{kind="batch"} 1')
    expect(text).toContain('yujing_stage_latency_seconds_count{stage="ingest"} 3')
  })

  it('with QoS 1 the PUBACK comes only after the batch is on the bus', async () => {
    const c = await connect(r.url, 'gw-E1', 'token-e1')
    clients.push(c)
    expect(r.published.filter((t) => t === 'readings')).toHaveLength(0)
    await c.publishAsync('sensors/E1/E1-CO-01', JSON.stringify({ ts: NOW, value: 3 }), { qos: 1 })
    expect(r.published.filter((t) => t === 'readings')).toHaveLength(1) // no waiting: already published
  })

  it('hashed tokens (sha256:, bcrypt) authenticate', async () => {
    const a = await connect(r.url, 'gw-E2', 'token-e2')
    const b = await connect(r.url, 'gw-E2-bcrypt', 'token-e2b')
    clients.push(a, b)
    await b.publishAsync('sensors/E2/E2-GAS-01', JSON.stringify({ ts: NOW, value: 3 }), { qos: 1 })
    await until(() => r.batches.length === 1)
    expect(r.batches[0]?.gatewayId).toBe('gw-E2-bcrypt')
    expect(await refusal(r.url, 'gw-E2-bcrypt', 'token-e2')).toBe(4)
  })

  it('a wrong token, an unknown gateway and an anonymous client are refused', async () => {
    expect(await refusal(r.url, 'gw-E1', 'wrong')).toBe(4)
    expect(await refusal(r.url, 'gw-nobody', 'token-e1')).toBe(4)
    expect(await refusal(r.url)).toBe(5)
  })

  it('publishing to another enterprise\'s topic is acknowledged, rejected as topic_forbidden, reaches no one, and the connection stays', async () => {
    const c = await connect(r.url, 'gw-E1', 'token-e1')
    clients.push(c)
    // A third client that may subscribe to non-sensor topics: it must not receive the refused packets.
    const spy = await connect(r.url, 'gw-E2', 'token-e2')
    clients.push(spy)
    const seen: string[] = []
    spy.on('message', (t) => seen.push(t))
    await spy.subscribeAsync('nope', { qos: 1 })
    // QoS 1: a PUBACK comes back (a persistent-session gateway would otherwise resend it forever).
    await c.publishAsync('sensors/E2/E2-GAS-01', JSON.stringify({ ts: NOW, value: 99 }), { qos: 1 })
    await c.publishAsync('nope', 'x', { qos: 1 })
    expect(c.connected).toBe(true)
    await c.publishAsync('sensors/E1/E1-CH4-01', JSON.stringify({ ts: NOW, value: 0.5 }), { qos: 1 })
    await r.bus.drain()
    expect(r.batches.map((b) => b.enterpriseId)).toEqual(['E1'])
    expect(r.dlq.map((x) => [x.reason, x.gatewayId, x.topic])).toEqual([
      ['topic_forbidden', 'gw-E1', 'sensors/E2/E2-GAS-01'],
      ['bad_topic', 'gw-E1', 'nope'],
    ])
    expect(r.dlq[0]!.message).toMatch(/gw-E1.*E1.*may not publish to sensors\/E2\/E2-GAS-01/)
    expect(r.store.all.map((x) => x.reason).sort()).toEqual(['bad_topic', 'topic_forbidden'])
    expect(await r.metrics.registry.getSingleMetricAsString('yujing_readings_rejected_total')).toMatch(/reason="topic_forbidden"} 1/)
    await new Promise((res) => setTimeout(res, 100))
    expect(seen).toEqual([])
  })

  it('subscribing to sensor data is refused (granted 128)', async () => {
    const c = await connect(r.url, 'gw-E1', 'token-e1')
    clients.push(c)
    // mqtt.js 5 turns a 128 grant into an error carrying the SUBACK packet.
    const err = await c.subscribeAsync(['sensors/#', '#', '+/E2/#', '$share/g/sensors/#'], { qos: 1 }).then(() => null, (e: unknown) => e)
    expect((err as { packet?: { granted?: number[] } }).packet?.granted).toEqual([128, 128, 128, 128])
    const ok = await c.subscribeAsync('gateway/E1/config', { qos: 1 })
    expect(ok.map((g) => g.qos)).toEqual([1])
    expect(c.connected).toBe(true)
  })

  it('bad readings go to the DLQ and the rejection store with reason, and are counted; the rest passes', async () => {
    const c = await connect(r.url, 'gw-E1', 'token-e1')
    clients.push(c)
    await c.publishAsync('sensors/E1/E1-CH4-01', '{"ts": 1, "value":', { qos: 1 })
    await c.publishAsync('sensors/E1', `[{"sensorId":"E1-CO-01","ts":${NOW},"value":NaN},{"sensorId":"E1-CO-01","ts":${NOW},"value":2}]`, { qos: 1 })
    await until(() => r.dlq.length === 2 && r.batches.length === 1)
    expect(r.dlq.map((x) => x.reason)).toEqual(['bad_json', 'non_finite_value'])
    expect(r.store.all.map((x) => x.reason)).toEqual(['bad_json', 'non_finite_value'])
    expect(r.store.counts()).toEqual({ bad_json: 1, non_finite_value: 1 })
    expect(r.batches[0]?.items.map((i) => i.value)).toEqual([2])
    const text = await r.metrics.registry.metrics()
    expect(text).toContain('yujing_readings_rejected_total{reason="bad_json"} 1')
    expect(text).toContain('yujing_readings_rejected_total{reason="non_finite_value"} 1')
  })

  it('duplicates (same seq) are counted once and dropped', async () => {
    const c = await connect(r.url, 'gw-E1', 'token-e1')
    clients.push(c)
    const p = JSON.stringify({ ts: NOW - 10, value: 0.3, seq: 9 })
    await c.publishAsync('sensors/E1/E1-CH4-01', p, { qos: 1 })
    await c.publishAsync('sensors/E1/E1-CH4-01', p, { qos: 1 })
    await r.bus.drain()
    expect(r.batches).toHaveLength(1)
    expect(await r.metrics.registry.metrics()).toContain('yujing_readings_duplicate_total 1')
  })

  it('a message that could not be put on the bus is not acknowledged, and its redelivery is taken, not dropped as a duplicate', async () => {
    // A bus that is down for the first publish of readings (Kafka unreachable), then back.
    const inner = createMemoryBus()
    const got: ReadingBatch[] = []
    await inner.subscribe(topics.readings, { group: 't' }, (m) => { got.push(m) })
    let down = true
    const bus: Bus = { ...inner, publish: (t, m) => (t.name === 'readings' && down ? Promise.reject(new AppError('BUS_UNAVAILABLE', 'kafka down', { retriable: true })) : inner.publish(t, m)) }
    const stage = createIngestStage({
      bus, registry: createRegistryHolder(indexRegistry(testRegistryDoc())), rejections: memoryRejectionStore(), metrics: createMetrics({ defaults: false }), logger, clock: fakeClock(NOW),
      options: { mode: 'embedded', host: '127.0.0.1', port: 0, heartbeatIntervalMs: 1000, instance: 'ingest-test' },
    })
    for (const payload of [{ ts: NOW - 10, value: 0.3, seq: 41 }, { ts: NOW - 5, value: 0.4 }]) {
      const p = Buffer.from(JSON.stringify(payload))
      down = true
      await expect(stage.handle('gw-E1', 'sensors/E1/E1-CH4-01', p)).rejects.toMatchObject({ code: 'BUS_UNAVAILABLE' })
      down = false
      await stage.handle('gw-E1', 'sensors/E1/E1-CH4-01', p) // the gateway's redelivery
      await stage.handle('gw-E1', 'sensors/E1/E1-CH4-01', p) // a true duplicate after it was taken
    }
    await inner.drain()
    expect(got.map((b) => b.items[0]!.value)).toEqual([0.3, 0.4])
  })

  it('counts the messages it holds unacknowledged while the bus cannot take them (yujing_ingest_pending_messages)', async () => {
    const inner = createMemoryBus()
    let release!: () => void
    const gate = new Promise<void>((r) => { release = r })
    const bus: Bus = { ...inner, publish: async (t, m) => { if (t.name === 'readings') await gate; return inner.publish(t, m) } }
    const metrics = createMetrics({ defaults: false })
    const stage = createIngestStage({
      bus, registry: createRegistryHolder(indexRegistry(testRegistryDoc())), rejections: memoryRejectionStore(), metrics, logger, clock: fakeClock(NOW),
      options: { mode: 'embedded', host: '127.0.0.1', port: 0, heartbeatIntervalMs: 1000, instance: 'ingest-test' },
    })
    const pending = async (): Promise<string> => metrics.registry.getSingleMetricAsString('yujing_ingest_pending_messages')
    const held = [1, 2, 3].map((i) => stage.handle('gw-E1', 'sensors/E1/E1-CH4-01', Buffer.from(JSON.stringify({ ts: NOW - i, value: 0.3 }))))
    expect(await pending()).toMatch(/yujing_ingest_pending_messages 3$/)
    release()
    await Promise.all(held)
    expect(await pending()).toMatch(/yujing_ingest_pending_messages 0$/)
  })

  /** A stage over MQTT whose bus (10 readings' weight per group) a slow consumer holds full: one reading
   *  taken by the consumer, which blocks until release(); then a QoS 1 batch of 10 on the bus, held
   *  unacknowledged. QoS 0 is shed above 5 held readings. */
  async function saturated(pauseReadingAboveReadings?: number) {
    const bus = createMemoryBus({ highWaterMark: 10, weigh: (t, m) => (t === topics.readings.name ? (m as ReadingBatch).items.length : 1) })
    let release!: () => void
    const gate = new Promise<void>((res) => { release = res })
    const got: number[] = []
    await bus.subscribe(topics.readings, { group: 'slow' }, async (b) => { await gate; for (const it of b.items) got.push(it.value) })
    const store = memoryRejectionStore()
    const metrics = createMetrics({ defaults: false })
    const stage = createIngestStage({
      bus, registry: createRegistryHolder(indexRegistry(testRegistryDoc())), rejections: store, metrics, logger, clock: fakeClock(NOW),
      options: { mode: 'embedded', host: '127.0.0.1', port: 0, heartbeatIntervalMs: 1000, instance: 'ingest-test', qos0ShedAboveReadings: 5, pauseReadingAboveReadings },
    })
    await stage.start()
    const c = await connect(`mqtt://127.0.0.1:${stage.mqttPort()}`, 'gw-E1', 'token-e1')
    await c.publishAsync('sensors/E1/E1-CO-01', JSON.stringify({ ts: NOW - 100, value: 1 }), { qos: 1 }) // taken by the consumer, which blocks
    const batch = Array.from({ length: 10 }, (_, i) => ({ sensorId: 'E1-CO-01', ts: NOW - 50 + i, value: 10 + i }))
    let acked = false
    const held = c.publishAsync('sensors/E1', JSON.stringify(batch), { qos: 1 }).then(() => { acked = true })
    await until(() => bus.lag() === 1) // the batch is on the bus, which is now full
    const received = async (): Promise<string> => metrics.registry.getSingleMetricAsString('yujing_readings_received_total')
    return { c, stage, store, metrics, got, batch, release, held, acked: () => acked, received }
  }

  it('sheds QoS 0 messages read while the bus is saturated and holds QoS 1 ones, over MQTT', async () => {
    // Reading is not paused here (above 1,000 held readings), so the QoS 0 message is read while saturated.
    const { c, stage, store, metrics, got, batch, release, held, acked, received } = await saturated(1000)
    try {
      c.publish('sensors/E1/E1-CO-01', JSON.stringify({ ts: NOW - 10, value: 99 }), { qos: 0 })
      await until(() => store.counts().overloaded === 1)
      const [r] = await store.list({ reason: 'overloaded' })
      expect(r).toMatchObject({ reason: 'overloaded', gatewayId: 'gw-E1', enterpriseId: 'E1', topic: 'sensors/E1/E1-CO-01' })
      expect(r!.message).toMatch(/QoS 0 message shed: the pipeline is saturated \(10 readings waiting/)
      expect(await metrics.registry.getSingleMetricAsString('yujing_readings_rejected_total')).toMatch(/reason="overloaded"} 1/)
      expect(acked()).toBe(false) // QoS 1 is held, not shed
      // Without perGateway (the default) the received count has no gateway label.
      expect(await received()).toMatch(/^yujing_readings_received_total 11$/m)
      release()
      await held
      // With room again, QoS 0 goes through.
      c.publish('sensors/E1/E1-CO-01', JSON.stringify({ ts: NOW - 5, value: 42 }), { qos: 0 })
      await until(() => got.includes(42))
      expect(got).toEqual([1, ...batch.map((x) => x.value), 42])
    } finally {
      await c.endAsync(true)
      await stage.stop()
    }
  })

  it('stops reading from the gateways while the bus is saturated: QoS 0 waits in TCP instead of being shed, and goes through after', async () => {
    // The default pause threshold (half of 5): 10 held readings stop the broker reading.
    const { c, stage, store, metrics, got, batch, release, held, acked, received } = await saturated()
    try {
      expect(await metrics.registry.getSingleMetricAsString('yujing_ingest_read_pauses_total')).toMatch(/ 1$/m)
      c.publish('sensors/E1/E1-CO-01', JSON.stringify({ ts: NOW - 10, value: 99 }), { qos: 0 })
      await new Promise((res) => setTimeout(res, 300))
      // Not read: neither shed nor counted as received.
      expect(store.counts().overloaded ?? 0).toBe(0)
      expect(await received()).toMatch(/^yujing_readings_received_total 11$/m)
      expect(acked()).toBe(false)
      release()
      await held
      await until(() => got.includes(99))
      expect(got).toEqual([1, ...batch.map((x) => x.value), 99])
      expect(store.counts().overloaded ?? 0).toBe(0)
      expect(await received()).toMatch(/^yujing_readings_received_total 12$/m)
    } finally {
      await c.endAsync(true)
      await stage.stop()
    }
  })

  it('rate-limits a flooding gateway (maxRate 5/s, burst 10)', async () => {
    const c = await connect(r.url, 'gw-E1-slow', 'slow')
    clients.push(c)
    const items = Array.from({ length: 25 }, (_, i) => ({ sensorId: 'E1-CO-01', ts: NOW - i, value: i }))
    await c.publishAsync('sensors/E1', JSON.stringify(items), { qos: 1 })
    await r.bus.drain()
    expect(r.batches[0]?.items).toHaveLength(10)
    expect(r.dlq).toMatchObject([{ reason: 'rate_limited', count: 15 }])
    r.clock.advance(1000) // 5 more tokens
    await c.publishAsync('sensors/E1', JSON.stringify(items.map((x) => ({ ...x, ts: x.ts - 100 }))), { qos: 1 })
    await r.bus.drain()
    expect(r.batches[1]?.items).toHaveLength(5)
    expect(await r.metrics.registry.metrics()).toContain('yujing_readings_rejected_total{reason="rate_limited"} 35')
  })

  it('publishes a heartbeat at start and every heartbeatIntervalMs', async () => {
    await r.bus.drain()
    expect(r.beats).toEqual([{ instance: 'ingest-test', at: NOW }])
    r.clock.advance(3000)
    await r.bus.drain()
    expect(r.beats.map((b) => b.at)).toEqual([NOW, NOW + 1000, NOW + 2000, NOW + 3000])
  })
})

describe('embedded broker', () => {
  it('rejects with PORT_IN_USE naming MQTT_PORT when the port is taken', async () => {
    const blocker = createServer()
    await new Promise<void>((res) => blocker.listen(0, '127.0.0.1', () => res()))
    const port = (blocker.address() as { port: number }).port
    try {
      const err = await createEmbeddedBroker({
        host: '127.0.0.1', port, registry: createRegistryHolder(indexRegistry(testRegistryDoc())), onPublish: async () => {}, logger,
      }).then(() => null, (e: unknown) => e)
      expect(err).toBeInstanceOf(AppError)
      expect((err as AppError).code).toBe('PORT_IN_USE')
      expect((err as AppError).message).toBe(`MQTT port ${port} is already in use (set MQTT_PORT or --mqtt-port; 0 picks a free port)`)
    } finally {
      await new Promise<void>((res) => blocker.close(() => res()))
    }
  })

  it('pauses and resumes reading from its clients; packets that finish while paused do not stall the client after', async () => {
    let broker!: Awaited<ReturnType<typeof createEmbeddedBroker>>
    const got: string[] = []
    let release!: () => void
    const gate = new Promise<void>((res) => { release = res })
    broker = await createEmbeddedBroker({
      host: '127.0.0.1', port: 0, registry: createRegistryHolder(indexRegistry(testRegistryDoc())), logger,
      // "a1" and "a2" wait at the gate, and the broker is paused while they do: they finish while paused.
      onPublish: async (_gw, _topic, payload) => { const v = payload.toString(); got.push(v); if (v.startsWith('a')) await gate },
    })
    const raw = createConnection({ host: '127.0.0.1', port: broker.port })
    try {
      // Two PUBLISHes in one write: aedes parses them from one read, two packets in progress at once.
      const acks: number[] = []
      raw.on('data', (d: Buffer) => { for (let i = 0; i + 4 <= d.length; i += 4) if (d[i] === 0x40) acks.push(d.readUInt16BE(i + 2)) })
      raw.write(encodeConnect({ clientId: 'raw-gw', username: 'gw-E1', password: 'token-e1' }))
      await until(() => broker.clients() === 1)
      await new Promise((res) => setTimeout(res, 50)) // CONNACK out
      raw.write(Buffer.concat([encodePublish('sensors/E1/E1-CO-01', 'a1', 1, 1), encodePublish('sensors/E1/E1-CO-01', 'a2', 1, 2)]))
      await until(() => got.length === 2)
      broker.pauseReading()
      release()
      await until(() => acks.length === 2) // both finished (and were acknowledged) while paused
      raw.write(encodePublish('sensors/E1/E1-CO-01', 'b', 1, 3))
      await new Promise((res) => setTimeout(res, 300))
      expect(got).toEqual(['a1', 'a2']) // "b" waits in the socket
      broker.resumeReading()
      await until(() => acks.length === 3)
      raw.write(encodePublish('sensors/E1/E1-CO-01', 'c', 1, 4))
      await until(() => acks.length === 4)
      expect(got).toEqual(['a1', 'a2', 'b', 'c'])
      // A client that connects while paused is paused too.
      broker.pauseReading()
      const late = await connect(`mqtt://127.0.0.1:${broker.port}`, 'gw-E2', 'token-e2')
      const f = late.publishAsync('sensors/E2/E2-GAS-01', 'f', { qos: 1 })
      await new Promise((res) => setTimeout(res, 300))
      expect(got).not.toContain('f')
      broker.resumeReading()
      await f
      expect(got).toContain('f')
      await late.endAsync(true)
    } finally {
      raw.destroy()
      await broker.close()
    }
  })

  it('survives onPublish errors: QoS 1 is not acknowledged (connection dropped), the broker keeps serving', async () => {
    let fail = true
    const got: string[] = []
    const broker = await createEmbeddedBroker({
      host: '127.0.0.1', port: 0, registry: createRegistryHolder(indexRegistry(testRegistryDoc())), logger,
      onPublish: async (gw, topic) => { if (fail) throw new Error('bus down'); got.push(`${gw} ${topic}`) },
    })
    try {
      const url = `mqtt://127.0.0.1:${broker.port}`
      const a = await connect(url, 'gw-E1', 'token-e1')
      const closed = new Promise<void>((res) => a.once('close', () => res()))
      a.publish('sensors/E1/E1-CO-01', '{}', { qos: 1 })
      await closed
      await a.endAsync(true)
      fail = false
      const b = await connect(url, 'gw-E1', 'token-e1')
      await b.publishAsync('sensors/E1/E1-CO-01', '{}', { qos: 1 })
      expect(got).toEqual(['gw-E1 sensors/E1/E1-CO-01'])
      expect(broker.clients()).toBe(1)
      await b.endAsync()
    } finally {
      await broker.close()
    }
  })

  it('a gateway\'s publishes are taken by ingest and fanned out to no one: retained readings leave nothing in the broker', async () => {
    const got: string[] = []
    const broker = await createEmbeddedBroker({
      host: '127.0.0.1', port: 0, registry: createRegistryHolder(indexRegistry(testRegistryDoc())), logger,
      onPublish: async (gw, topic) => { got.push(`${gw} ${topic}`) },
    })
    try {
      const c = await connect(`mqtt://127.0.0.1:${broker.port}`, 'gw-E1', 'token-e1')
      for (let i = 0; i < 20; i++) await c.publishAsync(`sensors/E1/S${i}`, '{}', { qos: 1, retain: true })
      await c.publishAsync('sensors/E2/E2-GAS-01', '{}', { qos: 1, retain: true }) // refused topic, still acknowledged
      await c.publishAsync('sensors/E1', '[]', { qos: 0, retain: true })
      await until(() => got.length === 22)
      expect(got[0]).toBe('gw-E1 sensors/E1/S0')
      expect(got[20]).toBe('gw-E1 sensors/E2/E2-GAS-01')
      expect(await broker.retainedCount()).toBe(0)
      await c.endAsync()
    } finally {
      await broker.close()
    }
  })

  it('allowAnonymous lets a client publish under sensors/ as gateway "anonymous"', async () => {
    const got: string[] = []
    const broker = await createEmbeddedBroker({
      host: '127.0.0.1', port: 0, registry: createRegistryHolder(indexRegistry(testRegistryDoc())), logger, allowAnonymous: true,
      onPublish: async (gw, topic) => { got.push(`${gw} ${topic}`) },
    })
    try {
      const c = await connect(`mqtt://127.0.0.1:${broker.port}`)
      await c.publishAsync('sensors/E2/E2-GAS-01', '{}', { qos: 1 })
      expect(got).toEqual(['anonymous sensors/E2/E2-GAS-01'])
      await c.endAsync()
    } finally {
      await broker.close()
    }
  })
})
