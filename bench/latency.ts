// Latency probes: readings published on dedicated probe sensors, alternately crossing red and clearing,
// timed from MQTT publish to the matching `warning` event on a socket.io client. The prober runs in a
// child process of its own (probe-child.ts): in the orchestrator, which holds the generated registry of
// 100,000 sensors, its own garbage collections (30–60 ms mark-compacts) held back warnings that had
// arrived and were counted as pipeline latency — as an operator's browser is a process of its own.
import { fork } from 'node:child_process'
import { resolve } from 'node:path'
import { io, type Socket } from 'socket.io-client'
import type { MqttClient } from 'mqtt'
import { connectMqtt } from './mqtt-connect.js'
import { endChild } from './util.js'
import { PROBE_CLEAR, PROBE_RAISE, type BenchGateway } from './registry.js'

export interface Prober {
  /** Probes every `intervalMs` until stop(); returns latencies in ms (sorted) and counters. */
  start(intervalMs: number): void
  stop(waitMs?: number): Promise<{ samples: number[]; sent: number; timedOut: number; worst: { atMs: number; ms: number }[]; perSecond: PerSecond[] }>
  /** Probe readings acknowledged so far (they are counted by the pipeline too). */
  published(): number
  close(): Promise<void>
}

interface Pending { at: number; active: boolean }
/** Latency of the probes sent in one second of the phase (where in the phase the tail is). */
export interface PerSecond { second: number; n: number; p50: number; p99: number; max: number }

function perSecond(timed: readonly { atMs: number; ms: number }[]): PerSecond[] {
  const by = new Map<number, number[]>()
  for (const t of timed) {
    const s = Math.floor(t.atMs / 1000)
    let a = by.get(s)
    if (!a) by.set(s, (a = []))
    a.push(t.ms)
  }
  return [...by].sort((a, b) => a[0] - b[0]).map(([second, a]) => {
    a.sort((x, y) => x - y)
    const at = (q: number): number => a[Math.min(a.length - 1, Math.floor((q / 100) * a.length))]!
    return { second, n: a.length, p50: at(50), p99: at(99), max: a[a.length - 1]! }
  })
}

export interface ProberOptions { httpPort: number; mqttPort: number; probe: BenchGateway; admin: { username: string; password: string } }
export type ProbeResult = Awaited<ReturnType<Prober['stop']>>

/** Messages between the orchestrator and the probe child. */
export type ToProbe =
  | { type: 'init'; options: ProberOptions }
  | { type: 'start'; intervalMs: number }
  | { type: 'stop'; waitMs?: number }
  | { type: 'close' }
export type FromProbe =
  | { type: 'ready' }
  | { type: 'error'; message: string }
  | { type: 'stopped'; result: ProbeResult; published: number }

/** A prober in a child process (see the header); published() is as of the last stop() (which waits for
 *  every probe's acknowledgement; it is read after one). */
export async function createProber(o: ProberOptions): Promise<Prober> {
  // Without V8's memory reducer: in this small process it ran two full collections (12–17 ms and 5–10 ms)
  // a few seconds into every latency phase, holding back the warnings that had arrived meanwhile.
  const child = fork(resolve(import.meta.dirname, 'probe-child.js'), [], { execArgv: [...process.execArgv, '--no-memory-reducer'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' })
  let published = 0
  const waiting: { type: FromProbe['type']; resolve: (m: FromProbe) => void; reject: (e: Error) => void }[] = []
  child.on('message', (raw) => {
    const m = raw as FromProbe
    if (m.type === 'stopped') published = m.published
    const i = waiting.findIndex((w) => w.type === m.type || m.type === 'error')
    if (i >= 0) waiting.splice(i, 1)[0]!.resolve(m)
  })
  child.once('exit', (code) => { for (const w of waiting.splice(0)) w.reject(new Error(`latency prober exited with ${code}`)) })
  const ask = (m: ToProbe, reply: FromProbe['type']): Promise<FromProbe> => new Promise((res, rej) => {
    waiting.push({ type: reply, resolve: res, reject: rej })
    child.send(m)
  })
  const ready = await ask({ type: 'init', options: o }, 'ready')
  if (ready.type === 'error') { child.kill(); throw new Error(ready.message) }
  return {
    start(intervalMs) { child.send({ type: 'start', intervalMs } satisfies ToProbe) },
    async stop(waitMs) {
      const m = await ask({ type: 'stop', ...(waitMs !== undefined ? { waitMs } : {}) }, 'stopped')
      if (m.type !== 'stopped') throw new Error(`latency prober: ${m.type === 'error' ? m.message : 'unexpected reply'}`)
      return m.result
    },
    published: () => published,
    close: () => endChild(child, { type: 'close' } satisfies ToProbe),
  }
}

/** The prober itself, in the calling process (the probe child runs it). */
export async function createProberHere(o: ProberOptions): Promise<Prober> {
  const res = await fetch(`http://127.0.0.1:${o.httpPort}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(o.admin) })
  if (!res.ok) throw new Error(`login failed: ${res.status} ${await res.text()}`)
  const { token } = (await res.json()) as { token: string }
  const socket: Socket = io(`http://127.0.0.1:${o.httpPort}`, { path: '/socket.io', auth: { token }, transports: ['websocket'] })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve())
    socket.once('connect_error', (e) => reject(e))
  })
  const mqtt: MqttClient = await connectMqtt({ host: '127.0.0.1', port: o.mqttPort, clientId: 'bench-probe', username: o.probe.id, password: o.probe.token })
  const pending = new Map<string, Pending>()
  const state = new Map<string, boolean>() // sensor → its warning condition is active
  let samples: number[] = []
  let timed: { atMs: number; ms: number }[] = [] // send time (ms since start) and latency, for where the tail is
  let startedAt = 0
  let sent = 0
  let acked = 0
  /** Probe publishes not yet acknowledged (or failed). */
  let unacked = 0
  let timedOut = 0
  let cursor = 0
  let timer: NodeJS.Timeout | undefined
  let lastTs = 0

  socket.on('warning', (w: { sensorId?: string; active?: boolean }) => {
    if (!w.sensorId) return
    const p = pending.get(w.sensorId)
    if (!p || w.active !== p.active) return
    const ms = performance.now() - p.at
    samples.push(ms)
    timed.push({ atMs: Math.round(p.at - startedAt), ms: Math.round(ms * 10) / 10 })
    pending.delete(w.sensorId)
  })

  const probeOnce = (): void => {
    const now = performance.now()
    for (const [sid, p] of pending) if (now - p.at > 5000) { pending.delete(sid); timedOut++ }
    const sid = o.probe.sensors[cursor++ % o.probe.sensors.length]!
    if (pending.has(sid)) return
    const active = !(state.get(sid) ?? false)
    state.set(sid, active)
    const ts = Math.max(Date.now(), lastTs + 1)
    lastTs = ts
    pending.set(sid, { at: performance.now(), active })
    sent++
    unacked++
    mqtt.publish(`sensors/${o.probe.enterpriseId}/${sid}`, `{"ts":${ts},"value":${active ? PROBE_RAISE : PROBE_CLEAR}}`, { qos: 1 }, (err) => { unacked--; if (!err) acked++ })
  }

  return {
    start(intervalMs) {
      samples = []
      timed = []
      startedAt = performance.now()
      sent = 0
      timedOut = 0
      timer = setInterval(probeOnce, intervalMs)
    },
    async stop(waitMs = 3000) {
      if (timer) clearInterval(timer)
      const until = Date.now() + waitMs
      // Also until every probe is acknowledged: the PUBACK follows the journal write, so it can arrive
      // after the warning, and a late one would count toward the next phase (an apparent loss of 1).
      while ((pending.size || unacked) && Date.now() < until) await new Promise((r) => setTimeout(r, 20))
      timedOut += pending.size
      pending.clear()
      const worst = [...timed].sort((a, b) => b.ms - a.ms).slice(0, 20).sort((a, b) => a.atMs - b.atMs)
      return { samples: [...samples].sort((a, b) => a - b), sent, timedOut, worst, perSecond: perSecond(timed) }
    },
    published: () => acked,
    async close() {
      socket.close()
      await mqtt.endAsync().catch(() => undefined)
    },
  }
}
