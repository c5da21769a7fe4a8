// The system under test: the real yujing process (the built CLI) on free ports, with the bench
// registry and a config file; reads its counters from /metrics and /api/health, CPU and RSS from /proc.
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { resolve } from 'node:path'
import { procCpuMs, procRss } from './util.js'

export interface SutCounters {
  accepted: number
  rejected: number
  duplicates: number
  received: number
  written: number
  historyDropped: number
  busLag: number
  /** QoS 0 messages shed while the pipeline was saturated (each counted once in `rejected`). */
  shedMessages: number
  /** MQTT messages received (every kind) and not yet acknowledged. */
  messages: number
  pending: number
  heapUsed: number
  rss: number
  cpuMs: number
  at: number
}

export interface Sut {
  child: ChildProcess
  pid: number
  /** HTTP port (dashboard, or health and metrics only). */
  httpPort: number
  /** Embedded MQTT port; 0 without the ingest role. */
  mqttPort: number
  startupMs: number
  logs: string[]
  counters(): Promise<SutCounters>
  exited(): boolean
  stop(): Promise<number | null>
}

const ROOT = resolve(import.meta.dirname, '..', '..')

export async function startSut(o: { registryFile: string; dataDir: string; configFile: string; nodeArgs?: string[]; env?: Record<string, string>; timeoutMs?: number; roles?: string }): Promise<Sut> {
  const t0 = Date.now()
  const child = spawn(process.execPath, [...(o.nodeArgs ?? []), resolve(ROOT, 'bin/yujing.js'), 'start', '--registry', o.registryFile, '--data-dir', o.dataDir, '--config', o.configFile, '--port', '0', '--mqtt-port', '0', ...(o.roles ? ['--roles', o.roles] : [])], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', MQTT_URL: '', KAFKA_BROKERS: '', DATABASE_URL: '', INFLUX_URL: '', YUJING_DEMO: '', ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const logs: string[] = []
  // BENCH_SUT_LOG=<file>: a copy of the process's output (e.g. with --node-args "--trace-gc"), for diagnosis.
  if (process.env.BENCH_SUT_LOG) {
    const out = createWriteStream(process.env.BENCH_SUT_LOG, { flags: 'a' })
    child.stdout!.pipe(out)
    child.stderr!.pipe(out)
  }
  let httpPort = 0
  let mqttPort = 0
  const exitP = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  await new Promise<void>((ready, reject) => {
    const timer = setTimeout(() => reject(new Error(`yujing did not start in ${o.timeoutMs ?? 120_000} ms:\n${logs.slice(-20).join('\n')}`)), o.timeoutMs ?? 120_000)
    let buf = ''
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString()
      let i
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i)
        buf = buf.slice(i + 1)
        logs.push(line)
        if (logs.length > 5000) logs.splice(1000, 1) // keeps the first 1,000 lines (start-up) and the last 4,000
        try {
          const j = JSON.parse(line) as { msg?: string; port?: number; mqttPort?: number }
          if (j.msg === 'yujing started') {
            httpPort = j.port ?? 0
            mqttPort = j.mqttPort ?? 0
            clearTimeout(timer)
            ready()
          }
        } catch { /* not JSON */ }
      }
    })
    child.stderr!.on('data', (d: Buffer) => { logs.push(d.toString()); if (logs.length > 5000) logs.splice(1000, 1) })
    void exitP.then((code) => { clearTimeout(timer); reject(new Error(`yujing exited with ${code}:\n${logs.slice(-30).join('\n')}`)) })
  })
  const startupMs = Date.now() - t0
  const pid = child.pid!
  const base = `http://127.0.0.1:${httpPort}`
  const metric = (text: string, name: string): number => {
    let sum = 0
    let found = false
    for (const line of text.split('\n')) {
      if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{')) {
        sum += Number(line.slice(line.lastIndexOf(' ') + 1))
        found = true
      }
    }
    return found ? sum : 0
  }
  return {
    child, pid, httpPort, mqttPort, startupMs, logs,
    async counters() {
      const [mt, health] = await Promise.all([
        fetch(`${base}/metrics`).then((r) => r.text()),
        fetch(`${base}/api/health`).then((r) => r.json() as Promise<{ checks: Record<string, { detail?: string }> }>),
      ])
      const h = /buffered (\d+), written (\d+), dropped (\d+)/.exec(health.checks.history?.detail ?? '')
      return {
        accepted: metric(mt, 'yujing_readings_accepted_total'),
        rejected: metric(mt, 'yujing_readings_rejected_total'),
        duplicates: metric(mt, 'yujing_readings_duplicate_total'),
        received: metric(mt, 'yujing_readings_received_total'),
        written: h ? Number(h[2]) : NaN,
        historyDropped: h ? Number(h[3]) : NaN,
        busLag: metric(mt, 'yujing_bus_lag'),
        shedMessages: metric(mt, 'yujing_mqtt_messages_total{kind="shed"}'),
        messages: metric(mt, 'yujing_mqtt_messages_total'),
        pending: metric(mt, 'yujing_ingest_pending_messages'),
        heapUsed: metric(mt, 'yujing_process_nodejs_heap_size_used_bytes'),
        rss: procRss(pid),
        cpuMs: procCpuMs(pid),
        at: Date.now(),
      }
    },
    exited: () => child.exitCode !== null || child.signalCode !== null,
    async stop() {
      if (child.exitCode !== null) return child.exitCode
      child.kill('SIGTERM')
      const t = setTimeout(() => child.kill('SIGKILL'), 60_000)
      const code = await exitP
      clearTimeout(t)
      return code
    },
  }
}
