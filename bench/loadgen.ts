// The load generator (a child process, so the system under test keeps its own core): one MQTT
// connection per gateway, single readings or batches, QoS 0 or 1, fixed-rate or flood segments,
// with a controlled share of sensors (1 %) cycling through yellow → orange → red → clear.
import type { MqttClient } from 'mqtt'
import { connectMqtt } from './mqtt-connect.js'
import { CYCLE, NORMAL } from './registry.js'
import type { FromGenerator, GeneratorStats, PhaseSpec, ToGenerator } from './loadgen-protocol.js'

interface Conn { client: MqttClient; enterpriseId: string; sensors: number[]; cursor: number; inFlight: number }

const send = (m: FromGenerator): void => { process.send?.(m) }
let conns: Conn[] = []
let sensorIds: string[] = []
let lastTs = new Float64Array(0)
let visits = new Uint32Array(0)

/** 1 % of sensors are incident sensors. */
const isIncident = (i: number): boolean => i % 100 === 7

function nextValue(i: number): number {
  const k = visits[i]!++
  if (isIncident(i)) return CYCLE[k % CYCLE.length]!
  return NORMAL + ((k * 7 + i) % 11) - 5
}
function nextTs(i: number, now: number): number {
  const t = now > lastTs[i]! ? now : lastTs[i]! + 1
  lastTs[i] = t
  return t
}

async function init(m: Extract<ToGenerator, { type: 'init' }>): Promise<void> {
  const t0 = Date.now()
  sensorIds = []
  const queue = m.gateways.map((g) => ({ g, idx: g.sensors.map((s) => sensorIds.push(s) - 1) }))
  lastTs = new Float64Array(sensorIds.length)
  visits = new Uint32Array(sensorIds.length)
  let failed = 0
  let firstError: string | undefined
  const work = [...queue]
  const worker = async (): Promise<void> => {
    for (let x = work.shift(); x; x = work.shift()) {
      try {
        const client = await connectMqtt({ host: m.host, port: m.port, clientId: `${m.clientPrefix}-${x.g.id}`, ...(m.auth ? { username: x.g.id, password: x.g.token } : {}) })
        client.on('error', (err) => { firstError ??= err.message })
        conns.push({ client, enterpriseId: x.g.enterpriseId, sensors: x.idx, cursor: 0, inFlight: 0 })
      } catch (err) {
        failed++
        firstError ??= (err as Error).message
      }
    }
  }
  await Promise.all(Array.from({ length: 64 }, worker))
  send({ type: 'ready', connected: conns.length, failed, connectMs: Date.now() - t0, ...(firstError ? { firstError } : {}) })
}

function run(p: PhaseSpec): Promise<GeneratorStats> {
  const st: GeneratorStats = { published: 0, acked: 0, messages: 0, errors: 0, skipped: 0, crossing: 0, startedAt: Date.now(), endedAt: 0, cpuMs: 0 }
  const cpu0 = process.cpuUsage()
  const batch = Math.max(1, p.batch)
  const perConn = Math.max(1, Math.ceil(p.windowReadings / batch / Math.max(1, conns.length)))
  let rr = 0
  let inFlight = 0
  let segIdx = 0
  let segStart = performance.now()
  let segSent = 0
  let finished = false
  let pumping = false

  const publishOne = (c: Conn): void => {
    const now = Date.now()
    let topic: string
    let payload: string
    if (batch === 1) {
      const i = c.sensors[c.cursor++ % c.sensors.length]!
      const v = nextValue(i)
      if (v >= 85) st.crossing++
      topic = `sensors/${c.enterpriseId}/${sensorIds[i]}`
      payload = `{"ts":${nextTs(i, now)},"value":${v}}`
    } else {
      const parts: string[] = []
      for (let k = 0; k < batch; k++) {
        const i = c.sensors[c.cursor++ % c.sensors.length]!
        const v = nextValue(i)
        if (v >= 85) st.crossing++
        parts.push(`{"sensorId":"${sensorIds[i]}","ts":${nextTs(i, now)},"value":${v}}`)
      }
      topic = `sensors/${c.enterpriseId}`
      payload = `[${parts.join(',')}]`
    }
    c.inFlight++
    inFlight++
    st.messages++
    st.published += batch
    c.client.publish(topic, payload, { qos: p.qos }, (err) => {
      c.inFlight--
      inFlight--
      if (err) { st.errors++; st.firstError ??= err.message } else st.acked += batch
      if (!pumping) { pumping = true; setImmediate(pump) }
    })
  }

  /** Publishes what the current segment owes (flood: until every window is full). */
  function pump(): void {
    pumping = false
    if (finished) return
    const seg = p.segments[segIdx]
    if (!seg) return
    const elapsed = performance.now() - segStart
    let owed = seg.rate === 0 ? Infinity : Math.floor((seg.rate * elapsed) / 1000) - segSent
    if (seg.rate > 0 && owed > seg.rate) { st.skipped += owed - seg.rate; segSent += owed - seg.rate; owed = seg.rate }
    let idle = 0
    while (owed >= batch && idle < conns.length) {
      const c = conns[rr++ % conns.length]!
      if (c.inFlight >= perConn || !c.client.connected) { idle++; continue }
      idle = 0
      publishOne(c)
      owed -= batch
      segSent += batch
      if (seg.rate === 0 && st.messages % 256 === 0) break // yield to I/O in flood mode
    }
    if (seg.rate === 0 && idle < conns.length && !pumping) { pumping = true; setImmediate(pump) }
  }

  return new Promise((resolve) => {
    const tick = setInterval(() => {
      const seg = p.segments[segIdx]
      if (seg && performance.now() - segStart >= seg.durationMs) {
        segIdx++
        segStart = performance.now()
        segSent = 0
      }
      if (segIdx >= p.segments.length) {
        clearInterval(tick)
        finished = true
        st.endedAt = Date.now()
        const settleUntil = Date.now() + p.settleMs
        const wait = setInterval(() => {
          if (inFlight === 0 || Date.now() >= settleUntil) {
            clearInterval(wait)
            const c = process.cpuUsage(cpu0)
            st.cpuMs = (c.user + c.system) / 1000
            resolve(st)
          }
        }, 20)
        return
      }
      pump()
    }, 2)
    pump()
  })
}

process.on('message', (raw) => {
  const m = raw as ToGenerator
  if (m.type === 'init') init(m).catch((err: unknown) => send({ type: 'error', message: (err as Error).message }))
  else if (m.type === 'run') run(m.phase).then((stats) => send({ type: 'done', stats }), (err: unknown) => send({ type: 'error', message: (err as Error).message }))
  else if (m.type === 'close') {
    void Promise.all(conns.map((c) => c.client.endAsync(true).catch(() => undefined))).finally(() => process.exit(0))
  }
})
process.on('disconnect', () => process.exit(0))
