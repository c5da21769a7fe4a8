// The load generator (a child process, so the system under test keeps its own core): one MQTT
// connection per gateway, single readings or batches, QoS 0 or 1, fixed-rate or flood segments,
// with a controlled share of sensors (1 %) cycling through yellow → orange → red → clear. The
// connections are lean publishers (lean-mqtt.ts), not MQTT.js clients: see there why.
import { connectPublisher, type Publisher } from './lean-mqtt.js'
import { CYCLE, NORMAL } from './registry.js'
import type { FromGenerator, GeneratorStats, PhaseSpec, ToGenerator } from './loadgen-protocol.js'

interface Conn { pub: Publisher; enterpriseId: string; sensors: number[]; cursor: number; inFlight: number; ready: boolean }

const send = (m: FromGenerator): void => { process.send?.(m) }
let conns: Conn[] = []
let sensorIds: string[] = []
let lastTs = new Float64Array(0)
let visits = new Uint32Array(0)
/** The running phase's figures (results of publishes go here) and its publishes in flight. */
let st: GeneratorStats | undefined
let inFlight = 0
let onSettled: (() => void) | undefined
/** Publishes a connection, and all of them together, may have in flight in the running phase. */
let perConn = 1
let maxInFlight = 1
/** Connections that may publish now, in the order they became free (a FIFO from readyHead on): the
 *  pump takes the next one instead of scanning 10,000 connections for one with room after every PUBACK
 *  (that scan was most of the generator's CPU). */
let readyQ: Conn[] = []
let readyHead = 0
function makeReady(c: Conn): void {
  if (c.ready || c.inFlight >= perConn || !c.pub.connected) return
  c.ready = true
  readyQ.push(c)
}
/** Every publish's outcome: its tag is its number of readings. */
function onResult(c: Conn, readings: number, ok: boolean): void {
  c.inFlight--
  inFlight--
  if (st) { if (ok) st.acked += readings; else st.errors++ }
  makeReady(c)
  onSettled?.()
}

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
        const c = { enterpriseId: x.g.enterpriseId, sensors: x.idx, cursor: 0, inFlight: 0, ready: false } as Omit<Conn, 'pub'> as Conn
        c.pub = await connectPublisher({ host: m.host, port: m.port, clientId: `${m.clientPrefix}-${x.g.id}`, ...(m.auth ? { username: x.g.id, password: x.g.token } : {}) }, (n, ok) => onResult(c, n, ok))
        conns.push(c)
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
  const s: GeneratorStats = { published: 0, acked: 0, messages: 0, errors: 0, skipped: 0, crossing: 0, startedAt: Date.now(), endedAt: 0, cpuMs: 0 }
  st = s
  const cpu0 = process.cpuUsage()
  const batch = Math.max(1, p.batch)
  perConn = Math.max(1, Math.ceil(p.windowReadings / batch / Math.max(1, conns.length)))
  maxInFlight = Math.max(1, Math.floor(p.windowReadings / batch))
  readyQ = []
  readyHead = 0
  for (const c of conns) { c.ready = false; makeReady(c) }
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
      if (v >= 85) s.crossing++
      topic = `sensors/${c.enterpriseId}/${sensorIds[i]}`
      payload = `{"ts":${nextTs(i, now)},"value":${v}}`
    } else {
      const parts: string[] = []
      for (let k = 0; k < batch; k++) {
        const i = c.sensors[c.cursor++ % c.sensors.length]!
        const v = nextValue(i)
        if (v >= 85) s.crossing++
        parts.push(`{"sensorId":"${sensorIds[i]}","ts":${nextTs(i, now)},"value":${v}}`)
      }
      topic = `sensors/${c.enterpriseId}`
      payload = `[${parts.join(',')}]`
    }
    c.inFlight++
    inFlight++
    s.messages++
    s.published += batch
    c.pub.publish(topic, payload, p.qos, batch)
  }
  onSettled = () => { if (!pumping && !finished) { pumping = true; setImmediate(pump) } }

  /** Publishes what the current segment owes (flood: until every window is full). */
  function pump(): void {
    pumping = false
    if (finished) return
    const seg = p.segments[segIdx]
    if (!seg) return
    const elapsed = performance.now() - segStart
    let owed = seg.rate === 0 ? Infinity : Math.floor((seg.rate * elapsed) / 1000) - segSent
    if (seg.rate > 0 && owed > seg.rate) { s.skipped += owed - seg.rate; segSent += owed - seg.rate; owed = seg.rate }
    while (owed >= batch && inFlight < maxInFlight && readyHead < readyQ.length) {
      const c = readyQ[readyHead++]!
      c.ready = false
      if (c.inFlight >= perConn || !c.pub.connected) continue
      publishOne(c)
      makeReady(c)
      owed -= batch
      segSent += batch
      if (seg.rate === 0 && s.messages % 256 === 0) break // yield to I/O in flood mode
    }
    if (readyHead > 4096 && readyHead * 2 > readyQ.length) { readyQ = readyQ.slice(readyHead); readyHead = 0 }
    if (seg.rate === 0 && inFlight < maxInFlight && readyHead < readyQ.length && !pumping) { pumping = true; setImmediate(pump) }
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
        s.endedAt = Date.now()
        const settleUntil = Date.now() + p.settleMs
        const wait = setInterval(() => {
          if (inFlight === 0 || Date.now() >= settleUntil) {
            clearInterval(wait)
            const c = process.cpuUsage(cpu0)
            s.cpuMs = (c.user + c.system) / 1000
            if (s.errors) s.firstError = conns.find((x) => x.pub.error)?.pub.error ?? 'a publish failed'
            onSettled = undefined
            resolve(s)
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
    void Promise.all(conns.map((c) => c.pub.end())).finally(() => process.exit(0))
  }
})
process.on('disconnect', () => process.exit(0))
