// Scale-out end to end over the real engines: Kafka, PostgreSQL, VictoriaMetrics (InfluxDB line protocol)
// and a Mosquitto of our own with the generated per-gateway ACLs. Four processes: 2 × ingest+rules,
// alerting, dashboard. A real MQTT gateway publishes a methane scenario; the warning is raised once,
// pushed over socket.io, listed and acknowledged over HTTP, and the readings are in the time-series store.
// A second scenario stops the rules instance owning an enterprise: its successor resumes the condition.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import mqtt from 'mqtt'
import pg from 'pg'
import kafkajs from 'kafkajs'
import type { Socket } from 'socket.io-client'
import type { Warning } from '../core/contracts/warning.js'
import { fixtureRegistry, PASSWORDS, TOKENS } from './fixture-registry.js'
import { startRoles, type RoleProcess } from './process-harness.js'
import { mosquittoInstalled, startMosquitto, type MosquittoInstance } from './mosquitto-instance.js'
import { Api, connectSocket, eventually, warningCollector } from './api-client.js'

const NEEDED = ['KAFKA_BROKERS', 'MQTT_URL', 'DATABASE_URL', 'INFLUX_URL'] as const
const missing = NEEDED.filter((k) => !process.env[k])
if (!mosquittoInstalled()) missing.push('mosquitto (binary)' as never)
const required = process.env.CI === 'true' || process.env.YUJING_REQUIRE_SERVICES === '1'
if (missing.length && required) throw new Error(`scale-out test needs ${missing.join(', ')} (CI=true / YUJING_REQUIRE_SERVICES=1)`)
if (missing.length) console.warn(`skipping test/scale-out.test.ts: ${missing.join(', ')} not set`)

const run = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`
const schema = `yj_scale_${run}`
const topicPrefix = `yujing-test-${run}.`
const INGEST = { user: 'yujing-ingest', password: `ingest-${randomBytes(12).toString('hex')}` }
const dir = mkdtempSync(join(tmpdir(), 'yujing-scale-'))
const registryFile = join(dir, 'registry.json')
// E2-LEL-01 with a hysteresis band (raise at 25 %LEL, clear below 20) for the takeover scenario.
const doc = fixtureRegistry()
doc.sensors = doc.sensors.map((x) => (x.id === 'E2-LEL-01' ? { ...x, thresholds: { orange: 25, red: 50, clear: 20 } } : x))
writeFileSync(registryFile, JSON.stringify(doc))

let broker: MosquittoInstance
const procs: RoleProcess[] = []
let dashboard: RoleProcess
let gw: mqtt.MqttClient
let gw2: mqtt.MqttClient
const sockets: Socket[] = []
let base = ''
const t0 = Date.now()
const timings: Record<string, number> = {}

function env(): Record<string, string> {
  return {
    KAFKA_TOPIC_PREFIX: topicPrefix, KAFKA_PARTITIONS: '6',
    DATABASE_SCHEMA: schema,
    INFLUX_BUCKET: `yujing_${run}`,
    MQTT_URL: broker.url, MQTT_USERNAME: INGEST.user, MQTT_PASSWORD: INGEST.password,
    YUJING_REGISTRY: registryFile, YUJING_DEMO: '0', PORT: '0', LOG_LEVEL: 'info',
  }
}

async function start(name: string, roles: string): Promise<RoleProcess> {
  const p = await startRoles(name, roles, ['--data-dir', join(dir, name)], env(), 90_000)
  procs.push(p)
  timings[`start ${name}`] = p.startMs
  return p
}

const reading = (ts: number, value: number) => JSON.stringify({ ts, value })

describe.skipIf(missing.length > 0)('yujing at scale (Kafka, PostgreSQL, VictoriaMetrics, Mosquitto with ACLs; 4 processes)', () => {
  beforeAll(async () => {
    broker = await startMosquitto({ registryFile, dir: join(dir, 'mosquitto'), ingestUser: INGEST.user, ingestPassword: INGEST.password })
    // alerting first: it creates the schema and stores the registry; then the rest in parallel.
    await start('alerting-1', 'alerting')
    ;[dashboard] = await Promise.all([start('dashboard-1', 'dashboard'), start('worker-1', 'ingest,rules'), start('worker-2', 'ingest,rules')])
    base = `http://127.0.0.1:${dashboard.httpPort}`
    gw = await mqtt.connectAsync(broker.url, { username: 'gw-E1', password: TOKENS.E1, clientId: `gw-E1-${run}`, reconnectPeriod: 0 })
    gw2 = await mqtt.connectAsync(broker.url, { username: 'gw-E2', password: TOKENS.E2, clientId: `gw-E2-${run}`, reconnectPeriod: 0 })
    timings['all started'] = Date.now() - t0
  }, 150_000)

  afterAll(async () => {
    for (const s of sockets) s.close()
    await gw?.endAsync().catch(() => undefined)
    await gw2?.endAsync().catch(() => undefined)
    await Promise.all(procs.map((p) => p.stop()))
    await broker?.stop()
    const db = new pg.Client({ connectionString: process.env.DATABASE_URL })
    await db.connect()
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).finally(() => db.end())
    const admin = new kafkajs.Kafka({ brokers: process.env.KAFKA_BROKERS!.split(','), logLevel: kafkajs.logLevel.NOTHING }).admin()
    await admin.connect()
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(topicPrefix))
    if (mine.length) await admin.deleteTopics({ topics: mine }).catch(() => undefined)
    await admin.disconnect()
    console.log(`scale-out timings (ms): ${JSON.stringify({ ...timings, total: Date.now() - t0 })}`)
  }, 60_000)

  it('every process answers /api/health and /metrics, also those without the dashboard', async () => {
    for (const p of procs) {
      const res = await fetch(`http://127.0.0.1:${p.httpPort}/api/health`)
      expect(res.status, p.name).toBe(200)
      const body = (await res.json()) as { status: string; checks: Record<string, unknown> }
      expect(body.checks, p.name).toHaveProperty('bus')
      if (p.name.startsWith('worker')) expect(body.checks, p.name).toHaveProperty('rules')
      const metrics = await (await fetch(`http://127.0.0.1:${p.httpPort}/metrics`)).text()
      expect(metrics, p.name).toContain('yujing_readings_received_total')
    }
  })

  it('raises one warning from a methane scenario published by a real gateway, pushes it over socket.io, lists it and acks it over HTTP; readings reach VictoriaMetrics', async () => {
    const duty = await Api.login(base, 'duty', PASSWORDS.duty)
    const s = await connectSocket(base, duty.token); sockets.push(s)
    const warnings = warningCollector(s)

    const now = Date.now()
    const published = [[now - 2000, 0.6], [now - 1000, 1.2], [now, 1.62]] as const
    const t = Date.now()
    for (const [ts, v] of published) await gw.publishAsync('sensors/E1/E1-CH4-01', reading(ts, v), { qos: 1 })
    const orange = await warnings.waitFor((w) => w.sensorId === 'E1-CH4-01' && w.level <= 2, 30_000)
    timings['publish → first warning on socket.io'] = Date.now() - t
    const red = await warnings.waitFor((w) => w.id === orange.id && w.level === 1, 15_000)
    expect(red).toMatchObject({ color: 'red', status: 'open', active: true, kind: 'threshold', enterpriseId: 'E1', dedupKey: 'E1-CH4-01|threshold' })
    expect(red.peakValue).toBeCloseTo(1.62)

    // Exactly one warning, whichever ingest instance took which reading.
    await new Promise((r) => setTimeout(r, 1500))
    const ids = new Set(warnings.seen.filter((w) => w.dedupKey === 'E1-CH4-01|threshold').map((w) => w.id))
    expect([...ids]).toEqual([orange.id])
    const list = (await duty.get('/api/warnings?enterpriseId=E1')).body as Warning[]
    expect(list.filter((w) => w.dedupKey === 'E1-CH4-01|threshold').map((w) => w.id)).toEqual([orange.id])

    const acked = await duty.post(`/api/warnings/${orange.id}/ack`, { note: '已核实' })
    expect(acked.status).toBe(200)
    expect(acked.body).toMatchObject({ id: orange.id, status: 'acknowledged', acknowledgedBy: 'duty' })
    await warnings.waitFor((w) => w.id === orange.id && w.status === 'acknowledged', 10_000)
    expect(((await duty.get(`/api/warnings/${orange.id}`)).body as Warning).status).toBe('acknowledged')

    // Readings in the time-series store (exported back from VictoriaMetrics).
    const t2 = Date.now()
    const got = await eventually(async () => {
      const u = new URL('/api/v1/export', process.env.INFLUX_URL)
      u.searchParams.set('match[]', 'reading_value{sensor="E1-CH4-01"}')
      u.searchParams.set('start', String(Math.floor((now - 60_000) / 1000)))
      const text = await (await fetch(u)).text()
      const pairs = new Set<string>()
      for (const line of text.split('\n').filter(Boolean)) {
        const j = JSON.parse(line) as { values: number[]; timestamps: number[] }
        j.timestamps.forEach((ts, i) => pairs.add(`${ts}=${j.values[i]}`))
      }
      return published.every(([ts, v]) => pairs.has(`${ts}=${v}`)) ? pairs : undefined
    }, 20_000, 'readings exported by VictoriaMetrics')
    expect(got.size).toBeGreaterThanOrEqual(3)
    timings['readings visible in VictoriaMetrics after ack'] = Date.now() - t2
  }, 90_000)

  it('the rules instance taking over an enterprise resumes its active condition (band keeps it, past clear ends it)', async () => {
    const duty = await Api.login(base, 'duty', PASSWORDS.duty)
    const s = await connectSocket(base, duty.token); sockets.push(s)
    const warnings = warningCollector(s)
    let ts = Date.now()
    // Two readings of each value: the shared subscription may queue one for a stopped ingest instance.
    const send = async (v: number) => { for (let i = 0; i < 2; i++) { ts += 50; await gw2.publishAsync('sensors/E2/E2-LEL-01', reading(ts, v), { qos: 1 }) } }
    await send(30)
    const raised = await warnings.waitFor((w) => w.sensorId === 'E2-LEL-01' && w.active, 30_000)
    const owner = procs.find((p) => p.logs.some((l) => l.includes('took over an enterprise') && l.includes('"enterpriseId":"E2"')))
    expect(owner, 'a rules instance logged taking over E2').toBeDefined()
    const t = Date.now()
    expect(await owner!.stop('SIGTERM')).toBe(0)
    const successor = procs.find((p) => p !== owner && p.name.startsWith('worker-'))!
    await send(22) // hysteresis band (threshold 25, clear 20): must not clear
    await eventually(async () => successor.logs.some((l) => l.includes('took over an enterprise') && l.includes('"enterpriseId":"E2"')), 45_000, 'successor took over E2')
    timings['rebalance: stop owner → successor evaluates E2'] = Date.now() - t
    await new Promise((r) => setTimeout(r, 1500))
    expect(warnings.seen.filter((w) => w.id === raised.id).every((w) => w.active)).toBe(true)
    await send(19) // past clear
    const cleared = await warnings.waitFor((w) => w.id === raised.id && !w.active, 20_000)
    expect(cleared.clearedAt).toBeDefined()
    expect(new Set(warnings.seen.filter((w) => w.dedupKey === 'E2-LEL-01|threshold').map((w) => w.id)).size).toBe(1)
  }, 120_000)
})
