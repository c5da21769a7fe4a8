// The shipped Mosquitto configuration with the files `yujing mqtt-acl` generates, on a Mosquitto of our
// own: gateways authenticate with their registry token and publish only under their enterprise; no
// anonymous client; the ingest user (persistent session, shared subscription, QoS 1) gets what was
// published while it was away — more than Mosquitto's default queue of 1000 would have kept.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import mqtt from 'mqtt'
import { fixtureRegistry, TOKENS } from './fixture-registry.js'
import { mosquittoInstalled, startMosquitto, type MosquittoInstance } from './mosquitto-instance.js'
import { createMqttSource, type MqttSource } from '../ingest/mqtt-source.js'
import { createLogger } from '../core/runtime/logger.js'
import { mosquittoPasswordHash } from '../app/mosquitto-auth.js'

const INGEST = { user: 'yujing-ingest', password: 'ingest-password-0123456789' }
const required = process.env.CI === 'true' || process.env.YUJING_REQUIRE_SERVICES === '1'
const installed = mosquittoInstalled()
if (!installed && required) throw new Error('mosquitto is not installed (CI requires it: apt-get install mosquitto)')
if (!installed) console.warn('skipping test/mosquitto-acl.test.ts: mosquitto is not installed')

let broker: MosquittoInstance
const clients: mqtt.MqttClient[] = []
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function gateway(username: string | undefined, password: string | undefined): Promise<mqtt.MqttClient> {
  const c = await mqtt.connectAsync(broker.url, { username, password, reconnectPeriod: 0, connectTimeout: 3000, clientId: `t-${username ?? 'anon'}-${Math.random().toString(16).slice(2)}` })
  clients.push(c)
  return c
}

async function refused(username: string | undefined, password: string | undefined): Promise<string> {
  try {
    const c = await gateway(username, password)
    await c.endAsync()
    return 'accepted'
  } catch (err) {
    return (err as Error).message
  }
}

/** The ingest side exactly as yujing runs it against an external broker. */
async function ingest(got: string[], clientId: string): Promise<MqttSource> {
  // Each test its own shared-subscription group: Mosquitto keeps queueing a group's share for a member
  // whose persistent session is offline (delivered when it returns), so groups must not mix across tests.
  return createMqttSource({
    url: broker.url, username: INGEST.user, password: INGEST.password, clientId, group: `g-${clientId}`, shared: true,
    logger: createLogger({ level: 'silent' }),
    onMessage: async (_gw, topic, payload) => { got.push(`${topic} ${payload.toString()}`) },
  })
}

async function until(pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!pred()) { if (Date.now() > end) throw new Error('timed out'); await sleep(20) }
}

describe.skipIf(!installed)('Mosquitto with the generated passwd/acl and deploy/mosquitto/mosquitto.conf', () => {
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'yujing-mosq-'))
    const registryFile = join(dir, 'registry.json')
    writeFileSync(registryFile, JSON.stringify(fixtureRegistry()))
    broker = await startMosquitto({ registryFile, dir, ingestUser: INGEST.user, ingestPassword: INGEST.password })
  })
  afterAll(async () => {
    for (const c of clients) c.end(true)
    await broker?.stop()
  })

  it('writes one user per gateway and the ingest user, with ACLs limited to the gateway\'s enterprise and no anonymous entry', () => {
    const acl = readFileSync(join(broker.dir, 'acl'), 'utf8')
    expect(acl).toContain('user gw-E1\ntopic write sensors/E1/#\ntopic write sensors/E1\n')
    expect(acl).toContain('user gw-E2\ntopic write sensors/E2/#\ntopic write sensors/E2\n')
    expect(acl).toContain(`user ${INGEST.user}\ntopic read sensors/#\n`)
    // Topic lines before the first `user` line would apply to anonymous clients; `pattern` lines to everyone.
    expect(acl.split(/^user /m)[0]).not.toMatch(/^\s*topic /m)
    expect(acl).not.toMatch(/^\s*pattern /m)
    const passwd = readFileSync(join(broker.dir, 'passwd'), 'utf8').trim().split('\n')
    expect(passwd.map((l) => l.split(':')[0])).toEqual([INGEST.user, 'gw-E1', 'gw-E2'])
    for (const l of passwd) expect(l).toMatch(/^[^:]+:\$7\$101\$[A-Za-z0-9+/=]{16}\$[A-Za-z0-9+/=]{88}$/)
    expect(passwd.join('\n')).not.toContain(TOKENS.E1)
    // Deterministic with a fixed salt; differs with another password.
    const salt = Buffer.alloc(12, 7)
    expect(mosquittoPasswordHash('a', salt)).toBe(mosquittoPasswordHash('a', salt))
    expect(mosquittoPasswordHash('a', salt)).not.toBe(mosquittoPasswordHash('b', salt))
  })

  it('refuses a wrong token, an unknown gateway and anonymous clients; accepts the right token', async () => {
    expect(await refused('gw-E1', 'wrong-token-0123456789')).toMatch(/not authori[sz]ed|bad user/i)
    expect(await refused('gw-NOPE', TOKENS.E1)).toMatch(/not authori[sz]ed|bad user/i)
    expect(await refused(undefined, undefined)).toMatch(/not authori[sz]ed|bad user/i)
    expect(await refused('gw-E1', TOKENS.E1)).toBe('accepted')
  })

  it('delivers a gateway\'s readings on its own topics to ingest, and not what it publishes under another enterprise', async () => {
    const got: string[] = []
    const src = await ingest(got, 'yujing-ingest-acl')
    try {
      const e1 = await gateway('gw-E1', TOKENS.E1)
      await e1.publishAsync('sensors/E2/E2-LEL-01', '{"forged":true}', { qos: 1 })
      await e1.publishAsync('sensors/E2', '[{"forged":true}]', { qos: 1 })
      await e1.publishAsync('sensors/E1/E1-CH4-01', '{"value":0.5}', { qos: 1 })
      await e1.publishAsync('sensors/E1', '[{"value":0.6}]', { qos: 1 })
      await until(() => got.length >= 2)
      await sleep(300)
      expect(got).toEqual(['sensors/E1/E1-CH4-01 {"value":0.5}', 'sensors/E1 [{"value":0.6}]'])
    } finally {
      await src.close()
    }
  })

  it('a gateway cannot read other enterprises\' data (nor its own) by subscribing', async () => {
    const e1 = await gateway('gw-E1', TOKENS.E1)
    const spied: string[] = []
    e1.on('message', (t) => spied.push(t))
    const granted = await e1.subscribeAsync(['sensors/E2/#', 'sensors/#', '$share/x/sensors/#'], { qos: 1 })
    const e2 = await gateway('gw-E2', TOKENS.E2)
    const got: string[] = []
    const src = await ingest(got, 'yujing-ingest-spy')
    try {
      await e2.publishAsync('sensors/E2/E2-LEL-01', '{"value":3}', { qos: 1 })
      await until(() => got.length >= 1)
      await sleep(300)
      expect(spied).toEqual([])
      expect(granted.every((g) => g.qos === 128 || g.qos === 0 || g.qos === 1)).toBe(true)
    } finally {
      await src.close()
    }
  })

  it('ingest (persistent session, clean:false, QoS 1) receives the 3000 readings published while it was away', async () => {
    const got: string[] = []
    const first = await ingest(got, 'yujing-ingest-persist')
    await first.close() // session and shared subscription stay on the broker
    const e1 = await gateway('gw-E1', TOKENS.E1)
    const N = 3000
    const sends: Promise<unknown>[] = []
    for (let i = 0; i < N; i++) sends.push(e1.publishAsync('sensors/E1/E1-CO-01', `{"seq":${i}}`, { qos: 1 }))
    await Promise.all(sends) // every PUBACK: the broker holds them all
    expect(got).toEqual([])
    const t0 = Date.now()
    const again = await ingest(got, 'yujing-ingest-persist')
    try {
      await until(() => got.length >= N, 20_000)
      const seqs = got.map((g) => Number(/"seq":(\d+)/.exec(g)![1]))
      expect(new Set(seqs).size).toBe(N)
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b)) // in order
      console.log(`persistent session: ${N} queued QoS 1 readings delivered in ${Date.now() - t0} ms after reconnect`)
    } finally {
      await again.close()
    }
  })
})
