// Fault: the time-series store (InfluxDB write API; a VictoriaMetrics of the test's own) killed under load,
// and one that accepts connections but never answers. The real process (all roles) keeps raising warnings
// and taking acknowledgements; /metrics shows the readings buffered for the history store (none dropped);
// after the store returns, the buffer drains and every reading published during the outage is in it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import mqtt from 'mqtt'
import type { Warning } from '../../core/contracts/warning.js'
import { fixtureRegistry, PASSWORDS, TOKENS } from '../fixture-registry.js'
import { startProcess, type RunningProcess } from '../process-harness.js'
import { freeStablePort } from '../ports.js'
import { Api, eventually } from '../api-client.js'
import { metricValue, missingServices, recordFigures, sleep } from './fault-kit.js'

const vmInstalled = spawnSync('victoria-metrics', ['-version'], { stdio: 'ignore' }).error === undefined
const missing = missingServices('test/faults/tsdb-down.test.ts', { 'victoria-metrics (binary)': vmInstalled })

const dir = mkdtempSync(join(tmpdir(), 'yujing-tsdb-down-'))
const registryFile = join(dir, 'registry.json')
writeFileSync(registryFile, JSON.stringify(fixtureRegistry()))
const cleanups: (() => Promise<unknown>)[] = []

interface Vm { url: string; child: ChildProcess; kill(): Promise<void> }
async function startVm(port: number, data: string): Promise<Vm> {
  mkdirSync(data, { recursive: true })
  const child = spawn('victoria-metrics', [`-httpListenAddr=127.0.0.1:${port}`, `-storageDataPath=${data}`, '-retentionPeriod=100y', '-search.latencyOffset=0s', '-search.disableCache'], { stdio: 'ignore' })
  const url = `http://127.0.0.1:${port}`
  await eventually(async () => (await fetch(`${url}/health`)).ok, 15_000, 'victoria-metrics healthy')
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  const vm = { url, child, async kill() { if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await exited } } }
  cleanups.push(() => vm.kill())
  return vm
}

async function exported(url: string, sensor: string, from: number): Promise<Set<number>> {
  const u = new URL('/api/v1/export', url)
  u.searchParams.set('match[]', `reading_value{sensor="${sensor}"}`)
  u.searchParams.set('start', String(Math.floor(from / 1000) - 1))
  const text = await (await fetch(u)).text()
  const out = new Set<number>()
  for (const line of text.split('\n').filter(Boolean)) for (const ts of (JSON.parse(line) as { timestamps: number[] }).timestamps) out.add(ts)
  return out
}

async function health(p: RunningProcess): Promise<{ status: string; checks: Record<string, { ok: boolean; detail?: string }> }> {
  return (await (await fetch(`http://127.0.0.1:${p.httpPort}/api/health`)).json()) as never
}
async function metrics(p: RunningProcess): Promise<string> {
  return (await fetch(`http://127.0.0.1:${p.httpPort}/metrics`)).text()
}

/** Publishes `n` quiet CO readings and one methane incident; returns the CO timestamps and the raised warning. */
async function incidentUnderOutage(proc: RunningProcess, n: number): Promise<{ coTs: number[]; warning: Warning; raiseMs: number; ackMs: number }> {
  const base = `http://127.0.0.1:${proc.httpPort}`
  const gw = await mqtt.connectAsync(`mqtt://127.0.0.1:${proc.mqttPort}`, { username: 'gw-E1', password: TOKENS.E1, reconnectPeriod: 0 })
  try {
    const coTs: number[] = []
    const t0 = Date.now() - n * 10
    for (let i = 0; i < n; i++) {
      const ts = t0 + i * 10
      await gw.publishAsync('sensors/E1/E1-CO-01', JSON.stringify({ ts, value: 3 }), { qos: 1 })
      coTs.push(ts)
    }
    const duty = await Api.login(base, 'duty', PASSWORDS.duty)
    const t = Date.now()
    await gw.publishAsync('sensors/E1/E1-CH4-01', JSON.stringify({ ts: Date.now(), value: 1.2 }), { qos: 1 })
    const warning = await eventually(async () => ((await duty.get('/api/warnings?enterpriseId=E1')).body as Warning[]).find((w) => w.dedupKey === 'E1-CH4-01|threshold'), 10_000, 'warning while the TSDB is down')
    const raiseMs = Date.now() - t
    const t2 = Date.now()
    const acked = await duty.post(`/api/warnings/${warning.id}/ack`, { note: 'TSDB down' })
    expect(acked.status).toBe(200)
    expect(acked.body).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'duty' })
    return { coTs, warning, raiseMs, ackMs: Date.now() - t2 }
  } finally {
    await gw.endAsync().catch(() => undefined)
  }
}

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined)
}, 60_000)

describe.skipIf(missing.length > 0)('fault: time-series store down or slow (real process, VictoriaMetrics)', () => {
  it('killed under load: warnings raised and acknowledged, readings buffered (metric), all written once it is back', async () => {
    const port = await freeStablePort()
    const data = join(dir, 'vm')
    let vm = await startVm(port, data)
    const proc = await startProcess(['--registry', registryFile, '--data-dir', join(dir, 'a')], { INFLUX_URL: vm.url, INFLUX_BUCKET: 'fault' })
    cleanups.push(() => proc.stop())

    // Healthy path first: a reading reaches the store.
    const gw = await mqtt.connectAsync(`mqtt://127.0.0.1:${proc.mqttPort}`, { username: 'gw-E1', password: TOKENS.E1, reconnectPeriod: 0 })
    const before = Date.now() - 5000
    await gw.publishAsync('sensors/E1/E1-CO-01', JSON.stringify({ ts: before, value: 2 }), { qos: 1 })
    await gw.endAsync()
    await eventually(async () => (await exported(vm.url, 'E1-CO-01', before)).has(before), 20_000, 'first reading in VictoriaMetrics')

    await vm.kill()
    const N = 500
    const out = await incidentUnderOutage(proc, N)
    const buffered = await eventually(async () => {
      const v = metricValue(await metrics(proc), 'yujing_telemetry_buffered')
      return v !== undefined && v >= N ? v : undefined
    }, 10_000, 'yujing_telemetry_buffered ≥ readings of the outage')
    const m = await metrics(proc)
    expect(metricValue(m, 'yujing_telemetry_dropped_total') ?? 0).toBe(0)
    const hDown = await health(proc)
    expect(hDown.checks.history?.detail).toMatch(/buffered [1-9]\d*/)

    // Back on the same port and data: the buffer drains, every reading of the outage is stored.
    const downMs = Date.now() - out.coTs[0]!
    const t = Date.now()
    vm = await startVm(port, data)
    await eventually(async () => metricValue(await metrics(proc), 'yujing_telemetry_buffered') === 0, 60_000, 'history buffer drained')
    const drainMs = Date.now() - t
    const stored = await eventually(async () => {
      const got = await exported(vm.url, 'E1-CO-01', out.coTs[0]!)
      return out.coTs.every((x) => got.has(x)) ? got : undefined
    }, 20_000, 'readings of the outage in VictoriaMetrics')
    expect(out.coTs.filter((x) => stored.has(x))).toHaveLength(N)
    const hAfter = await health(proc)
    recordFigures('tsdb-down/killed', {
      readingsDuringOutage: N, raiseMs: out.raiseMs, ackMs: out.ackMs, bufferedMetric: buffered, dropped: 0,
      healthWhileDown: hDown.status, historyCheckWhileDown: hDown.checks.history, healthAfter: hAfter.status,
      outageMs: downMs, drainAfterRestartMs: drainMs, storedAfter: N,
    })
  }, 120_000)

  it('accepting but never answering: warnings still raised and acknowledged at once, readings buffered', async () => {
    const sockets = new Set<Socket>()
    const black: Server = createServer((s) => { sockets.add(s); s.on('error', () => undefined); s.on('close', () => sockets.delete(s)) })
    await new Promise<void>((r) => black.listen(0, '127.0.0.1', () => r()))
    cleanups.push(async () => { for (const s of sockets) s.destroy(); await new Promise((r) => black.close(r)) })
    const url = `http://127.0.0.1:${(black.address() as { port: number }).port}`
    const proc = await startProcess(['--registry', registryFile, '--data-dir', join(dir, 'b')], { INFLUX_URL: url, INFLUX_BUCKET: 'fault' })
    cleanups.push(() => proc.stop())
    await sleep(1500) // let the first write request hang
    const N = 300
    const out = await incidentUnderOutage(proc, N)
    expect(out.raiseMs).toBeLessThan(5000)
    const buffered = await eventually(async () => {
      const v = metricValue(await metrics(proc), 'yujing_telemetry_buffered')
      return v !== undefined && v >= N ? v : undefined
    }, 10_000, 'yujing_telemetry_buffered ≥ readings sent')
    expect(sockets.size).toBeGreaterThan(0) // the writer is really stuck on the silent server
    const h = await health(proc)
    recordFigures('tsdb-down/silent', {
      readings: N, raiseMs: out.raiseMs, ackMs: out.ackMs, bufferedMetric: buffered,
      health: h.status, historyCheck: h.checks.history,
    })
    // SIGTERM still stops the process although its history store never answers.
    const t = Date.now()
    const code = await proc.stop()
    const stopMs = Date.now() - t
    recordFigures('tsdb-down/silent-stop', { exitCode: code, stopMs })
    // The store gets 5 s for the last flush (INFLUX close timeout), not the HTTP timeouts of every retry
    // (39 s before): a generous bound, so this is a hang check, not a timing goal.
    expect(code).toBe(0)
    expect(stopMs).toBeLessThan(25_000)
  }, 120_000)
})
