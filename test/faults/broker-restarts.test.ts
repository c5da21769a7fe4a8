// Fault: the external MQTT broker and PostgreSQL go away under load and come back. One real process (all
// roles) on a Mosquitto of the test's own (configured from deploy/mosquitto/) and on PostgreSQL reached
// through a TCP proxy the test cuts and restores. Mosquitto restart: ingest reconnects by itself, health
// is degraded meanwhile and ok after, and every reading the broker acknowledged to a persistent-session
// QoS 1 gateway is stored. PostgreSQL cut: health degraded, ok after; a warning raised during the cut is stored after.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, connect, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import mqtt from 'mqtt'
import type { Warning } from '../../core/contracts/warning.js'
import { fixtureRegistry, PASSWORDS, TOKENS } from '../fixture-registry.js'
import { startRoles, type RoleProcess } from '../process-harness.js'
import { mosquittoInstalled, startMosquitto, type MosquittoInstance } from '../mosquitto-instance.js'
import { Api, eventually } from '../api-client.js'
import { dropSchema, missingServices, recordFigures, runName, sleep } from './fault-kit.js'

const missing = missingServices('test/faults/broker-restarts.test.ts', { DATABASE_URL: !!process.env.DATABASE_URL, 'mosquitto (binary)': mosquittoInstalled() })

const run = runName()
const schema = `yj_fault_br_${run}`
const INGEST = { user: 'yujing-ingest', password: `ingest-${run}-secret-pw` }
const dir = mkdtempSync(join(tmpdir(), 'yujing-broker-restarts-'))
const registryFile = join(dir, 'registry.json')
writeFileSync(registryFile, JSON.stringify(fixtureRegistry()))

/** A TCP proxy to PostgreSQL: cut() closes every connection and refuses new ones until restore(). */
interface Proxy { port: number; cut(): void; restore(): void; close(): Promise<void> }
async function pgProxy(target: URL): Promise<Proxy> {
  const pairs = new Set<Socket>()
  let open = true
  const server: Server = createServer((client) => {
    if (!open) { client.destroy(); return }
    const upstream = connect(Number(target.port || 5432), target.hostname)
    for (const s of [client, upstream]) { pairs.add(s); s.on('close', () => pairs.delete(s)); s.on('error', () => undefined) }
    client.pipe(upstream); upstream.pipe(client)
    client.on('close', () => upstream.destroy()); upstream.on('close', () => client.destroy())
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  return {
    port: (server.address() as { port: number }).port,
    cut() { open = false; for (const s of pairs) s.destroy() },
    restore() { open = true },
    async close() { for (const s of pairs) s.destroy(); await new Promise((r) => server.close(r)) },
  }
}

let broker: MosquittoInstance
let restarted: ChildProcess | undefined
let proxy: Proxy
let proc: RoleProcess
let base = ''

async function health(): Promise<{ status: string; checks: Record<string, { ok: boolean; detail?: string }> }> {
  return (await (await fetch(`${base}/api/health`)).json()) as never
}
/** Polls health until `pred`; returns the ms it took. */
async function healthBecomes(pred: (h: Awaited<ReturnType<typeof health>>) => boolean, what: string, timeoutMs = 30_000): Promise<number> {
  const t = Date.now()
  await eventually(async () => pred(await health()), timeoutMs, what)
  return Date.now() - t
}

/** Restarts Mosquitto (SIGTERM, 3 s down) under a QoS 1 stream from a persistent-session gateway on 4 lanes;
 *  returns what was acknowledged, what of it is stored, and when ingest re-subscribed. */
async function mosquittoRestartUnderLoad(p: RoleProcess, gatewayId: 'E1' | 'E2', sensorId: string, clientSuffix: string): Promise<{
  acked: number[]; ackedAt: Map<number, number>; lost: number[]; tStart: number; resubscribedAt: number; figures: Record<string, unknown>
}> {
  const url = `http://127.0.0.1:${p.httpPort}`
  const admin = await Api.login(url, 'admin', PASSWORDS.admin)
  const gw = await mqtt.connectAsync(broker.url, { username: `gw-${gatewayId}`, password: TOKENS[gatewayId], clientId: `gw-${gatewayId}-${run}-${clientSuffix}`, clean: false, reconnectPeriod: 300 })
  gw.on('error', () => undefined)
  const acked: number[] = []
  const ackedAt = new Map<number, number>()
  let attempted = 0
  let stop = false
  const t0 = Date.now() - 60_000
  // 4 publishers in flight, each awaiting its PUBACK; a publish still pending at the end is not counted.
  const stream = Promise.all([0, 1, 2, 3].map(async (lane) => {
    for (let i = 0; !stop; i++) {
      const ts = t0 + i * 4 + lane
      attempted++
      try {
        await gw.publishAsync(`sensors/${gatewayId}/${sensorId}`, JSON.stringify({ ts, value: 3 }), { qos: 1 })
        acked.push(ts); ackedAt.set(ts, Date.now())
      } catch { /* not acknowledged: not counted */ }
      await sleep(10)
    }
  }))
  await sleep(2000)
  const ackedBeforeStop = acked.length
  const connectsBefore = p.logs.filter((l) => l.includes('connected to external MQTT broker')).length
  const tStop = Date.now()
  if (restarted && restarted.exitCode === null) { const e = new Promise((r) => restarted!.once('exit', r)); restarted.kill('SIGTERM'); await e }
  else await broker.stop() // SIGTERM: Mosquitto saves its persistence (sessions and their queues)
  const h = async (): Promise<{ status: string; checks: Record<string, { ok: boolean }> }> => (await (await fetch(`${url}/api/health`)).json()) as never
  let t = Date.now()
  await eventually(async () => { const x = await h(); return x.status === 'degraded' && x.checks.ingest?.ok === false }, 10_000, 'health degraded (ingest)')
  const degradedMs = Date.now() - t
  await sleep(3000)
  restarted = spawn('mosquitto', ['-c', join(broker.dir, 'mosquitto.conf')], { stdio: 'ignore' })
  const tStart = Date.now()
  t = Date.now()
  await eventually(async () => (await h()).status === 'ok', 30_000, 'health ok after the broker is back')
  const okMs = Date.now() - t
  await eventually(async () => gw.connected, 15_000, 'gateway reconnected')
  await sleep(2000)
  stop = true
  await Promise.race([stream, sleep(10_000)])
  await gw.endAsync(true).catch(() => undefined)

  const from = new Date(t0 - 1000).toISOString()
  const to = new Date(Date.now() + 1000).toISOString()
  const wanted = new Set(acked)
  let stored = new Set<number>()
  await eventually(async () => {
    const r = await admin.get(`/api/sensors/${sensorId}/readings?from=${from}&to=${to}&limit=100000`)
    stored = new Set((r.body as { ts: string }[]).map((x) => Date.parse(x.ts)))
    return [...wanted].every((x) => stored.has(x))
  }, 30_000, 'every acknowledged reading stored').catch(() => undefined)
  const lost = acked.filter((x) => !stored.has(x))
  const reconnected = p.logs.filter((l) => l.includes('connected to external MQTT broker'))
  expect(reconnected.length).toBeGreaterThan(connectsBefore)
  expect(acked.length).toBeGreaterThan(ackedBeforeStop)
  const resubscribedAt = (JSON.parse(reconnected.at(-1)!) as { time: number }).time
  return {
    acked, ackedAt, lost, tStart, resubscribedAt,
    figures: {
      attempted, acked: acked.length, ackedBeforeStop, storedOfAcked: acked.filter((x) => stored.has(x)).length, storedTotal: stored.size,
      lost: lost.length, restartToIngestResubscribedMs: resubscribedAt - tStart,
      brokerDownMs: tStart - tStop, healthDegradedAfterMs: degradedMs, healthOkAfterStartMs: okMs,
      ingestReconnectLog: reconnected.at(-1),
    },
  }
}

describe.skipIf(missing.length > 0)('fault: external MQTT broker and PostgreSQL restarts under load (real process)', () => {
  beforeAll(async () => {
    broker = await startMosquitto({ registryFile, dir: join(dir, 'mosquitto'), ingestUser: INGEST.user, ingestPassword: INGEST.password })
    proxy = await pgProxy(new URL(process.env.DATABASE_URL!))
    const dbUrl = new URL(process.env.DATABASE_URL!)
    dbUrl.host = `127.0.0.1:${proxy.port}`
    proc = await startRoles('solo-1', 'ingest,rules,alerting,dashboard', ['--data-dir', join(dir, 'data')], {
      DATABASE_URL: dbUrl.toString(), DATABASE_SCHEMA: schema, KAFKA_BROKERS: '', INFLUX_URL: '',
      MQTT_URL: broker.url, MQTT_USERNAME: INGEST.user, MQTT_PASSWORD: INGEST.password,
      YUJING_REGISTRY: registryFile, YUJING_DEMO: '0', YUJING_TOKEN_SECRET: `fault-secret-${run}-xxxxxxxx`, PORT: '0',
    }, 60_000)
    base = `http://127.0.0.1:${proc.httpPort}`
  }, 90_000)

  afterAll(async () => {
    await proc?.stop()
    if (restarted && restarted.exitCode === null) { const e = new Promise((r) => restarted!.once('exit', r)); restarted.kill('SIGTERM'); await e }
    await broker?.stop()
    await proxy?.close()
    if (!missing.length) await dropSchema(process.env.DATABASE_URL!, schema).catch(() => undefined)
  }, 60_000)

  it('Mosquitto restarted under a QoS 1 stream (shared subscription, the default): ingest reconnects by itself, health degraded then ok, every reading acknowledged outside the restart window stored', async () => {
    const r = await mosquittoRestartUnderLoad(proc, 'E1', 'E1-CO-01', 'shared')
    // Mosquitto 2.0.x restores the ingest's persistent session without its $share subscription: what the
    // broker accepts between its restart and ingest's re-subscription has no subscriber and is dropped by
    // the broker. Everything acknowledged before the stop or after that window must be stored.
    const outsideWindow = r.lost.filter((x) => r.ackedAt.get(x)! < r.tStart || r.ackedAt.get(x)! > r.resubscribedAt + 1000)
    expect(outsideWindow).toEqual([])
    recordFigures('broker-restarts/mosquitto-shared', r.figures)
  }, 120_000)

  let incidentDuringCut = false
  it('PostgreSQL cut under load: health degraded while cut, ok after; the API answers 503 meanwhile', async () => {
    const duty = await Api.login(base, 'duty', PASSWORDS.duty)
    const gw = await mqtt.connectAsync(broker.url, { username: 'gw-E2', password: TOKENS.E2, clientId: `gw-E2-${run}`, reconnectPeriod: 300 })
    gw.on('error', () => undefined)
    const tCut = Date.now()
    proxy.cut()
    try {
      const degradedMs = await healthBecomes((h) => h.status === 'degraded' && h.checks.store?.ok === false, 'health degraded (store)', 20_000)
      // An incident (E2-LEL-01 past orange 25 %LEL) during the cut; readings are acknowledged by ingest.
      await gw.publishAsync('sensors/E2/E2-LEL-01', JSON.stringify({ ts: Date.now(), value: 30 }), { qos: 1 })
      await gw.publishAsync('sensors/E2/E2-LEL-01', JSON.stringify({ ts: Date.now() + 1, value: 31 }), { qos: 1 })
      incidentDuringCut = true
      const listDuringCut = await duty.get('/api/warnings?enterpriseId=E2')
      expect(listDuringCut.status).toBe(503)
      await sleep(5000)
      proxy.restore()
      const tRestore = Date.now()
      const okMs = await healthBecomes((h) => h.status === 'ok', 'health ok after PostgreSQL is back', 30_000)
      await sleep(3000)
      const after = ((await duty.get('/api/warnings?enterpriseId=E2')).body as Warning[]).filter((w) => w.dedupKey === 'E2-LEL-01|threshold')
      recordFigures('broker-restarts/postgres', {
        cutMs: tRestore - tCut, healthDegradedAfterMs: degradedMs, healthOkAfterRestoreMs: okMs, listDuringCutStatus: listDuringCut.status,
        warningStoredAfterRestore: after.length, findingsDeadLettered: proc.logs.filter((l) => l.includes('message dead-lettered') && l.includes('"topic":"findings"')).length,
      })
    } finally {
      proxy.restore()
      await gw.endAsync(true).catch(() => undefined)
    }
  }, 120_000)

  // Alerting holds a finding whose warning cannot be stored and retries the store with backoff until it
  // is back (it used to be dead-lettered after the bus's three quick retries, losing the warning).
  it('the warning of an incident during the PostgreSQL cut is stored and listed after', async () => {
    expect(incidentDuringCut).toBe(true)
    const duty = await Api.login(base, 'duty', PASSWORDS.duty)
    const found = await eventually(async () => ((await duty.get('/api/warnings?enterpriseId=E2')).body as Warning[]).find((w) => w.dedupKey === 'E2-LEL-01|threshold'), 10_000, 'warning raised during the cut is listed after')
    expect(found).toMatchObject({ enterpriseId: 'E2', sensorId: 'E2-LEL-01', kind: 'threshold', active: true })
  }, 30_000)

  // One ingest instance with MQTT_SHARED=0: a plain persistent subscription, which Mosquitto saves with the
  // session and queues for while ingest reconnects, so nothing acknowledged is lost across the restart.
  it('Mosquitto restarted under a QoS 1 stream with MQTT_SHARED=0 (one ingest instance): nothing acknowledged is lost', async () => {
    await proc.stop()
    const solo = await startRoles('solo-plain', 'ingest,rules,alerting,dashboard', ['--data-dir', join(dir, 'data-plain')], {
      DATABASE_URL: process.env.DATABASE_URL!, DATABASE_SCHEMA: schema, KAFKA_BROKERS: '', INFLUX_URL: '',
      MQTT_URL: broker.url, MQTT_USERNAME: INGEST.user, MQTT_PASSWORD: INGEST.password, MQTT_SHARED: '0',
      YUJING_REGISTRY: registryFile, YUJING_DEMO: '0', YUJING_TOKEN_SECRET: `fault-secret-${run}-xxxxxxxx`, PORT: '0',
    }, 60_000)
    try {
      expect(solo.logs.some((l) => l.includes('"filter":"sensors/#"'))).toBe(true)
      const r = await mosquittoRestartUnderLoad(solo, 'E1', 'E1-CO-01', 'plain')
      recordFigures('broker-restarts/mosquitto-plain', r.figures)
      expect(r.lost).toEqual([])
    } finally {
      await solo.stop()
    }
  }, 150_000)
})
