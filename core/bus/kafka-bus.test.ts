// The Kafka bus against a real broker at KAFKA_BROKERS (deploy/local/kafka.sh start): the shared bus
// contract plus Kafka-only behaviour (per-key order over partitions with two group members, dead-letter
// topic, broker restart). Without KAFKA_BROKERS it skips, unless CI=true / YUJING_REQUIRE_SERVICES=1.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import Type from 'typebox'
import { pino } from 'pino'
import { afterAll, describe, expect, it, vi } from 'vitest'
import type { Topic } from '../contracts/topics.js'
import { AppError } from '../runtime/errors.js'
import type { Bus, DeadLetter, MessageMeta } from './bus.js'
import { busContract } from './bus.contract.js'
import { createKafkaBus, type KafkaBusOptions } from './kafka-bus.js'
import { Kafka, logLevel } from 'kafkajs'

// Joining a Kafka consumer group takes seconds (rebalance), not microseconds: allow for it.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 })

const brokersEnv = process.env.KAFKA_BROKERS
const required = process.env.CI === 'true' || process.env.YUJING_REQUIRE_SERVICES === '1'
const brokers = brokersEnv ? brokersEnv.split(',').map((s) => s.trim()).filter(Boolean) : []
// A unique prefix per run so runs (and parallel files) never share topics or groups.
const runId = `t${process.pid}${Date.now().toString(36)}`
const silent = pino({ level: 'silent' })
const buses: Bus[] = []
let seq = 0

async function makeBus(extra: Partial<KafkaBusOptions> = {}): Promise<Bus> {
  const bus = await createKafkaBus({
    brokers, clientId: `yujing-test-${runId}`, topicPrefix: `yujing.${runId}.${++seq}.`, logger: silent,
    retryDelayMs: 10, ...extra,
  })
  buses.push(bus)
  return bus
}

afterAll(async () => { await Promise.allSettled(buses.map((b) => b.close())) }, 60_000)

interface Order { enterpriseId: string; n: number; poison?: boolean }
const OrderSchema = Type.Object({ enterpriseId: Type.String(), n: Type.Integer(), poison: Type.Optional(Type.Boolean()) })
const orders: Topic<typeof OrderSchema> = { name: 'orders', schema: OrderSchema, key: (m) => m.enterpriseId }
const ordersDlq: Topic<typeof OrderSchema> = { name: 'orders.dlq', schema: OrderSchema, key: (m) => m.enterpriseId }

const until = async (cond: () => boolean, ms: number, what: string): Promise<void> => {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

if (!brokers.length && required) {
  describe('kafka bus', () => {
    it('needs KAFKA_BROKERS (CI=true / YUJING_REQUIRE_SERVICES=1): run deploy/local/kafka.sh start', () => {
      expect.fail('KAFKA_BROKERS is not set but services are required')
    })
  })
} else if (!brokers.length) {
  describe.skip('kafka bus: KAFKA_BROKERS not set (run deploy/local/kafka.sh start)', () => { it('skipped', () => {}) })
} else {
  busContract('kafka', () => makeBus())

  describe('kafka bus: Kafka-specific', () => {
    it('keeps per-key order across partitions with two members in one group, and shares the load', async () => {
      const bus = await makeBus()
      const seen: { member: number; m: Order; meta: MessageMeta }[] = []
      await bus.subscribe(orders, { group: 'pair' }, (m, meta) => { seen.push({ member: 1, m, meta }) })
      await bus.subscribe(orders, { group: 'pair' }, (m, meta) => { seen.push({ member: 2, m, meta }) })
      const keys = Array.from({ length: 24 }, (_, i) => `ent-${i}`)
      const msgs: Order[] = []
      for (let n = 0; n < 100; n++) for (const k of keys) msgs.push({ enterpriseId: k, n })
      await bus.publishMany(orders, msgs.slice(0, 1200))
      for (const m of msgs.slice(1200)) void bus.publish(orders, m)
      await bus.drain(60_000)
      expect(seen.length).toBe(msgs.length) // no rebalance happened during the run, so exactly once here
      const byKey = new Map<string, { members: Set<number>; ns: number[]; partitions: Set<number> }>()
      for (const s of seen) {
        const e = byKey.get(s.m.enterpriseId) ?? { members: new Set(), ns: [], partitions: new Set() }
        e.members.add(s.member); e.ns.push(s.m.n); e.partitions.add(s.meta.partition)
        byKey.set(s.m.enterpriseId, e)
      }
      for (const [k, e] of byKey) {
        expect(e.ns, k).toEqual(Array.from({ length: 100 }, (_, i) => i))
        expect(e.members.size, k).toBe(1)
        expect(e.partitions.size, k).toBe(1)
      }
      const partitions = new Set(seen.map((s) => s.meta.partition))
      expect(Math.max(...partitions)).toBeLessThanOrEqual(5) // topic created with 6 partitions
      expect(partitions.size).toBeGreaterThanOrEqual(4)
      expect(new Set(seen.map((s) => s.member)).size).toBe(2)
      expect(bus.lag()).toBe(0)
    }, 120_000)

    it('decodes a message once for all groups of the process: they get the same value, another process its own', async () => {
      const bus = await makeBus()
      const other = await createKafkaBus({ brokers, clientId: `yujing-test-${runId}-other`, topicPrefix: `yujing.${runId}.${seq}.`, logger: silent, retryDelayMs: 10 })
      buses.push(other)
      const got: Record<string, Order[]> = { rules: [], history: [], dashboard: [], elsewhere: [] }
      for (const g of ['rules', 'history', 'dashboard'] as const) await bus.subscribe(orders, { group: g }, (m) => { got[g]!.push(m) })
      await other.subscribe(orders, { group: 'elsewhere' }, (m) => { got.elsewhere!.push(m) })
      const msgs = Array.from({ length: 300 }, (_, n) => ({ enterpriseId: `ent-${n % 7}`, n }))
      await bus.publishMany(orders, msgs)
      await until(() => Object.values(got).every((a) => a.length === msgs.length), 60_000, 'every group to get every message')
      const byN = (a: Order[]): Map<number, Order> => new Map(a.map((m) => [m.n, m]))
      const [r, h, d, e] = [byN(got.rules!), byN(got.history!), byN(got.dashboard!), byN(got.elsewhere!)]
      for (const m of msgs) {
        expect(r.get(m.n)).toEqual(m)
        expect(h.get(m.n)).toBe(r.get(m.n)) // the same object: parsed once
        expect(d.get(m.n)).toBe(r.get(m.n))
        expect(e.get(m.n)).toEqual(m)
        expect(e.get(m.n)).not.toBe(r.get(m.n)) // another bus (process) decodes its own
      }
    }, 120_000)

    it('sends a poison message to <prefix>orders.dlq with its reason and moves on; retriable errors retry in place', async () => {
      const letters: DeadLetter[] = []
      const bus = await makeBus({ onDeadLetter: (l) => letters.push(l) })
      const subLetters: DeadLetter[] = []
      const handled: number[] = []
      let flaky = 0
      await bus.subscribe(orders, { group: 'work', onDeadLetter: (l) => subLetters.push(l) }, (m) => {
        if (m.poison) throw new TypeError(`cannot handle ${m.n}`)
        if (m.n === 2 && flaky++ < 2) throw new AppError('STORE_UNAVAILABLE', 'store down', { retriable: true })
        handled.push(m.n)
      })
      const dlq: { m: Order; meta: MessageMeta }[] = []
      await bus.subscribe(ordersDlq, { group: 'dlq-reader', fromBeginning: true }, (m, meta) => { dlq.push({ m, meta }) })
      await bus.publishMany(orders, [
        { enterpriseId: 'e1', n: 1 }, { enterpriseId: 'e1', n: 2 }, { enterpriseId: 'e1', n: 3, poison: true }, { enterpriseId: 'e1', n: 4 },
      ])
      await until(() => dlq.length === 1 && handled.length === 3, 30_000, 'dead letter and handled messages')
      await bus.drain(30_000)
      expect(handled).toEqual([1, 2, 4])
      expect(flaky).toBe(3)
      expect(dlq[0]!.m).toEqual({ enterpriseId: 'e1', n: 3, poison: true })
      expect(dlq[0]!.meta.key).toBe('e1')
      expect(dlq[0]!.meta.topic).toBe('orders.dlq')
      expect(subLetters).toHaveLength(1)
      expect(subLetters[0]).toMatchObject({ topic: 'orders', key: 'e1', error: 'cannot handle 3', attempts: 1, value: { n: 3, poison: true } })
      expect(letters).toHaveLength(1)
      // The poison offset was committed: a new member of the same group gets nothing again.
      const again: number[] = []
      const sub = await bus.subscribe(orders, { group: 'work' }, (m) => { again.push(m.n) })
      await bus.drain(10_000)
      await sub.unsubscribe()
      expect(again).toEqual([])
    }, 120_000)

    it('commits handled offsets on an interval, not after every batch; drain() commits what is left', async () => {
      const bus = await makeBus({ commitIntervalMs: 60_000 })
      const prefix = `yujing.${runId}.${seq}.`
      const admin = new Kafka({ brokers, clientId: `yujing-test-admin-${runId}`, logLevel: logLevel.NOTHING }).admin()
      await admin.connect()
      try {
        const seen: number[] = []
        await bus.subscribe(orders, { group: 'interval' }, (m) => { seen.push(m.n) })
        for (let n = 1; n <= 5; n++) { // one message per fetched batch
          await bus.publish(orders, { enterpriseId: 'e7', n })
          await until(() => seen.length === n, 30_000, `message ${n}`)
        }
        const committed = async (): Promise<number> => {
          const [t] = await admin.fetchOffsets({ groupId: `${prefix}interval.orders`, topics: [`${prefix}orders`] })
          return (t?.partitions ?? []).reduce((s, p) => s + Math.max(0, Number(p.offset)), 0)
        }
        expect(await committed()).toBe(0) // five batches handled, no commit yet
        await bus.drain(30_000)
        expect(await committed()).toBe(5)
      } finally {
        await admin.disconnect()
      }
    })

    it('commits offsets only after beforeCommit resolved; when it throws, the messages since the last commit come again', async () => {
      const bus = await makeBus()
      const seen: number[] = []
      let buffer: number[] = []
      const durable: number[] = []
      let attempts = 0
      const sub = await bus.subscribe(orders, {
        group: 'hist',
        // A store that is down at the first flush and slow (3 s, beyond a heartbeat interval) at the second.
        beforeCommit: async () => {
          attempts++
          if (attempts === 1) { buffer = []; throw new AppError('STORE_UNAVAILABLE', 'store down', { retriable: true }) }
          if (attempts === 2) await new Promise((r) => setTimeout(r, 3000))
          durable.push(...buffer)
          buffer = []
        },
      }, (m) => { seen.push(m.n); buffer.push(m.n) })
      await bus.publishMany(orders, [{ enterpriseId: 'e5', n: 1 }, { enterpriseId: 'e5', n: 2 }, { enterpriseId: 'e5', n: 3 }])
      await until(() => [1, 2, 3].every((n) => durable.includes(n)), 60_000, 'every message durable after the failed flush')
      expect(seen.filter((n) => n === 1).length).toBeGreaterThanOrEqual(2) // redelivered after the failure
      expect(attempts).toBeGreaterThanOrEqual(2)
      await bus.drain(30_000)
      await sub.unsubscribe()
      // Committed: a new member of the group gets nothing again.
      const again: number[] = []
      const sub2 = await bus.subscribe(orders, { group: 'hist' }, (m) => { again.push(m.n) })
      await bus.drain(10_000)
      await sub2.unsubscribe()
      expect(again).toEqual([])
    }, 120_000)

    it('dead-letters a message that keeps failing with a retriable error after the configured retries', async () => {
      const bus = await makeBus({ retries: 2 })
      let calls = 0
      const letters: DeadLetter[] = []
      await bus.subscribe(orders, { group: 'g', onDeadLetter: (l) => letters.push(l) }, () => { calls++; throw new Error('still down') })
      await bus.publish(orders, { enterpriseId: 'e9', n: 9 })
      await bus.drain(30_000)
      expect(calls).toBe(3)
      expect(letters).toMatchObject([{ topic: 'orders', key: 'e9', error: 'still down', attempts: 3 }])
    }, 60_000)

    it('rejects bad broker addresses and reports an unreachable broker as BUS_UNAVAILABLE', async () => {
      await expect(createKafkaBus({ brokers: [], clientId: 'x' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' })
      await expect(createKafkaBus({ brokers: ['127.0.0.1:1'], clientId: 'x' })).rejects.toMatchObject({ code: 'BUS_UNAVAILABLE' })
    }, 120_000)

    const restartable = process.env.YUJING_KAFKA_RESTART_TEST === '1'
    it.skipIf(!restartable)('reconnects after the broker restarts (kafka.sh stop/start; set YUJING_KAFKA_RESTART_TEST=1)', async () => {
      const script = fileURLToPath(new URL('../../deploy/local/kafka.sh', import.meta.url))
      const port = brokers[0]!.split(':')[1]!
      const bus = await makeBus()
      const got: number[] = []
      await bus.subscribe(orders, { group: 'survivor' }, (m) => { got.push(m.n) })
      await bus.publish(orders, { enterpriseId: 'r', n: 1 })
      await until(() => got.length === 1, 20_000, 'first message')
      execFileSync('bash', [script, 'stop', '--port', port], { stdio: 'ignore' })
      await until(() => !bus.health().ok, 10_000, 'health to turn bad').catch(() => undefined)
      execFileSync('bash', [script, 'start', '--port', port], { stdio: 'ignore', timeout: 120_000 })
      await bus.publish(orders, { enterpriseId: 'r', n: 2 })
      await until(() => got.includes(2), 90_000, 'message after restart')
      await bus.drain(60_000)
      expect(got.filter((n) => n === 2).length).toBeGreaterThanOrEqual(1)
      await until(() => bus.health().ok, 30_000, 'health to recover')
    }, 300_000)
  })
}
