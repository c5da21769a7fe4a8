// Fault: SIGKILL of the rules instance owning an enterprise in the middle of an incident, over real Kafka
// and PostgreSQL. Four processes: ingest (embedded MQTT), rules-1, rules-2, alerting+dashboard. A sensor
// with {orange 25, red 50, clear 20, forSeconds 10} crosses 25 at 1 reading/s; its owner is killed 3 s in.
// The other instance takes the partition after the consumer session timeout and the warning is raised
// exactly once, within forSeconds + the measured rebalance time (+ slack); the figures are recorded.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import mqtt from 'mqtt'
import type { Warning } from '../../core/contracts/warning.js'
import { fixtureRegistry, PASSWORDS, TOKENS } from '../fixture-registry.js'
import { startRoles, type RoleProcess } from '../process-harness.js'
import { Api, eventually } from '../api-client.js'
import { deleteTopics, dropSchema, missingServices, recordFigures, runName, sleep } from './fault-kit.js'

const missing = missingServices('test/faults/rules-kill.test.ts', { KAFKA_BROKERS: !!process.env.KAFKA_BROKERS, DATABASE_URL: !!process.env.DATABASE_URL })

const FOR_SECONDS = 10
const KILL_AFTER_MS = 3000
const SENSOR = 'E2-LEL-01'
const run = runName()
const schema = `yj_fault_rk_${run}`
const topicPrefix = `yujing-fault-rk-${run}.`
const dir = mkdtempSync(join(tmpdir(), 'yujing-rules-kill-'))
const registryFile = join(dir, 'registry.json')
const doc = fixtureRegistry()
doc.sensors = doc.sensors.map((x) => (x.id === SENSOR ? { ...x, thresholds: { orange: 25, red: 50, clear: 20, forSeconds: FOR_SECONDS } } : x))
writeFileSync(registryFile, JSON.stringify(doc))

const procs: RoleProcess[] = []
let gw: mqtt.MqttClient
let base = ''

const env = (): Record<string, string> => ({
  KAFKA_TOPIC_PREFIX: topicPrefix, KAFKA_PARTITIONS: '6', DATABASE_SCHEMA: schema,
  MQTT_URL: '', INFLUX_URL: '', MQTT_PORT: '0',
  YUJING_REGISTRY: registryFile, YUJING_DEMO: '0', YUJING_TOKEN_SECRET: `fault-secret-${run}-xxxxxxxx`, LOG_LEVEL: 'info',
})
async function start(name: string, roles: string): Promise<RoleProcess> {
  const p = await startRoles(name, roles, ['--data-dir', join(dir, name)], env(), 90_000)
  procs.push(p)
  return p
}
const tookOverE2 = (p: RoleProcess): boolean => p.logs.some((l) => l.includes('took over an enterprise') && l.includes('"enterpriseId":"E2"'))

describe.skipIf(missing.length > 0)('fault: SIGKILL of the rules instance owning an enterprise during an incident (Kafka, PostgreSQL)', () => {
  beforeAll(async () => {
    await start('central-1', 'alerting,dashboard') // creates the schema and stores the registry
    const [ingest] = await Promise.all([start('ingest-1', 'ingest'), start('rules-1', 'rules'), start('rules-2', 'rules')])
    const mqttPort = (JSON.parse(ingest!.logs.find((l) => l.includes('"yujing started"'))!) as { mqttPort: number }).mqttPort
    base = `http://127.0.0.1:${procs[0]!.httpPort}`
    gw = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { username: 'gw-E2', password: TOKENS.E2, clientId: `gw-E2-${run}`, reconnectPeriod: 0 })
  }, 180_000)

  afterAll(async () => {
    await gw?.endAsync().catch(() => undefined)
    await Promise.all(procs.map((p) => p.stop()))
    if (missing.length) return
    await dropSchema(process.env.DATABASE_URL!, schema).catch(() => undefined)
    await deleteTopics(process.env.KAFKA_BROKERS!.split(','), topicPrefix).catch(() => undefined)
  }, 60_000)

  it('the other instance takes the partition and raises the warning once, within forSeconds + rebalance time', async () => {
    const duty = await Api.login(base, 'duty', PASSWORDS.duty)
    const rules = procs.filter((p) => p.name.startsWith('rules-'))
    let ts = Date.now()
    const send = async (v: number): Promise<void> => { ts = Math.max(ts + 1, Date.now()); await gw.publishAsync(`sensors/E2/${SENSOR}`, JSON.stringify({ ts, value: v }), { qos: 1 }) }

    // Below threshold until one rules instance owns E2 (took it over on its first reading).
    const owner = await eventually(async () => { await send(10); return rules.find(tookOverE2) }, 30_000, 'a rules instance owns E2')
    const successor = rules.find((p) => p !== owner)!
    expect(tookOverE2(successor)).toBe(false)

    // The incident: 30 %LEL at 1 reading/s from conditionStart; the owner is killed 3 s into the 10 s.
    await send(30)
    const conditionStart = ts
    let killedAt = 0
    let stop = false
    const stream = (async () => {
      let n = 0
      while (!stop) {
        await sleep(1000)
        await send(30); n++
        if (!killedAt && Date.now() - conditionStart >= KILL_AFTER_MS) { killedAt = Date.now(); owner.child.kill('SIGKILL') }
      }
      return n
    })()
    let raised: Warning | undefined
    let raisedSeenAt = 0
    try {
      raised = await eventually(async () => {
        const list = (await duty.get(`/api/warnings?enterpriseId=E2`)).body as Warning[]
        const w = list.find((x) => x.dedupKey === `${SENSOR}|threshold`)
        if (w) raisedSeenAt = Date.now()
        return w
      }, 120_000, 'warning raised after the kill')
    } finally {
      // Keep the condition a few seconds more: a second warning for the same episode would show now.
      await sleep(4000)
      stop = true
    }
    const readingsAfterStart = await stream
    expect(killedAt).toBeGreaterThan(0)
    expect(await owner.stop()).toBe(null) // died by the signal

    const takeover = successor.logs.find((l) => l.includes('took over an enterprise') && l.includes('"enterpriseId":"E2"'))
    expect(takeover, 'the successor logged taking over E2').toBeDefined()
    const takeoverAt = (JSON.parse(takeover!) as { time: number }).time
    const rebalanceMs = takeoverAt - killedAt
    const raiseMs = raisedSeenAt - conditionStart

    // Exactly one warning for the episode, with the incident's value; not before forSeconds of reading time.
    const list = (await duty.get(`/api/warnings?enterpriseId=E2&limit=1000`)).body as Warning[]
    const mine = list.filter((w) => w.dedupKey === `${SENSOR}|threshold`)
    expect(mine.map((w) => w.id)).toEqual([raised.id])
    expect(raised).toMatchObject({ enterpriseId: 'E2', sensorId: SENSOR, kind: 'threshold', level: 2, active: true })
    expect(raised.value).toBe(30)
    expect(raiseMs).toBeGreaterThanOrEqual(FOR_SECONDS * 1000)
    expect(raiseMs).toBeLessThanOrEqual(FOR_SECONDS * 1000 + rebalanceMs + 5000)

    recordFigures('rules-kill', {
      forSeconds: FOR_SECONDS, killAfterMs: KILL_AFTER_MS, readingsAfterStart,
      rebalanceMs, raiseAfterConditionStartMs: raiseMs, raisedAt: raised.raisedAt,
      sessionTimeoutMs: 30_000, warnings: mine.length,
    })
  }, 180_000)
})
