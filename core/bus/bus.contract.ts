// The Bus contract suite: every adapter (memory, Kafka) runs these same tests. `make` returns a new bus
// with at least 2 retries and a short retry backoff; each test uses its own bus, closed afterwards.
import Type from 'typebox'
import { afterEach, describe, expect, it } from 'vitest'
import type { Topic } from '../contracts/topics.js'
import { AppError } from '../runtime/errors.js'
import type { Bus, DeadLetter, MessageMeta } from './bus.js'

const Msg = Type.Object({ k: Type.String(), n: Type.Integer() })
interface Msg { k: string; n: number }
export const contractTopic: Topic<typeof Msg> = { name: 'contract.msgs', schema: Msg, key: (m) => m.k }

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
async function waitFor(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = performance.now() + ms
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}
const label = (m: Msg): string => `${m.k}:${m.n}`
const sorted = (xs: string[]): string[] => xs.slice().sort()

export function busContract(name: string, make: () => Promise<Bus>): void {
  describe(`Bus contract: ${name}`, () => {
    let buses: Bus[] = []
    const fresh = async (): Promise<Bus> => { const b = await make(); buses.push(b); return b }
    afterEach(async () => { for (const b of buses) await b.close(); buses = [] })

    it('delivers every message once to each consumer group', async () => {
      const bus = await fresh()
      const a: string[] = []
      const b: string[] = []
      await bus.subscribe(contractTopic, { group: 'ga' }, (m) => { a.push(label(m)) })
      await bus.subscribe(contractTopic, { group: 'gb' }, async (m) => { await sleep(0); b.push(label(m)) })
      const msgs = Array.from({ length: 30 }, (_, n) => ({ k: `k${n % 3}`, n }))
      for (const m of msgs) await bus.publish(contractTopic, m)
      await waitFor(() => a.length >= 30 && b.length >= 30, 'both groups')
      await bus.drain(30_000)
      expect(sorted(a)).toEqual(sorted(msgs.map(label)))
      expect(sorted(b)).toEqual(sorted(msgs.map(label)))
    })

    it('shares a group\'s load among its members, each message handled once', async () => {
      const bus = await fresh()
      const got: [string[], string[]] = [[], []]
      await bus.subscribe(contractTopic, { group: 'pair' }, (m) => { got[0].push(label(m)) })
      await bus.subscribe(contractTopic, { group: 'pair' }, (m) => { got[1].push(label(m)) })
      const msgs = Array.from({ length: 200 }, (_, n) => ({ k: `key-${n % 40}`, n }))
      await bus.publishMany(contractTopic, msgs)
      await waitFor(() => got[0].length + got[1].length >= 200, 'all 200 messages')
      await bus.drain(30_000)
      expect(sorted([...got[0], ...got[1]])).toEqual(sorted(msgs.map(label)))
      expect(got[0].length).toBeGreaterThan(0)
      expect(got[1].length).toBeGreaterThan(0)
    })

    it('keeps per-key order within a group, with handlers of varying duration', async () => {
      const bus = await fresh()
      const solo = new Map<string, number[]>()
      const pair = new Map<string, number[]>()
      const rec = (into: Map<string, number[]>) => async (m: Msg): Promise<void> => {
        if (m.n % 3 === 0) await sleep(m.n % 4)
        const xs = into.get(m.k) ?? []
        xs.push(m.n)
        into.set(m.k, xs)
      }
      await bus.subscribe(contractTopic, { group: 'solo' }, rec(solo))
      await bus.subscribe(contractTopic, { group: 'duo' }, rec(pair))
      await bus.subscribe(contractTopic, { group: 'duo' }, rec(pair))
      const keys = ['a', 'b', 'c', 'd', 'e']
      const msgs: Msg[] = []
      for (let n = 0; n < 20; n++) for (const k of keys) msgs.push({ k, n })
      for (const m of msgs.slice(0, 50)) await bus.publish(contractTopic, m)
      await bus.publishMany(contractTopic, msgs.slice(50))
      const count = (mm: Map<string, number[]>): number => [...mm.values()].reduce((s, x) => s + x.length, 0)
      await waitFor(() => count(solo) >= 100 && count(pair) >= 100, 'all messages')
      await bus.drain(30_000)
      const expected = Array.from({ length: 20 }, (_, n) => n)
      for (const k of keys) {
        expect(solo.get(k), `solo ${k}`).toEqual(expected)
        expect(pair.get(k), `duo ${k}`).toEqual(expected)
      }
    })

    it('retries a handler that throws a retriable error, then goes on in order', async () => {
      const bus = await fresh()
      const attempts = new Map<number, number>()
      const handled: number[] = []
      const letters: DeadLetter[] = []
      await bus.subscribe(contractTopic, { group: 'retry', onDeadLetter: (l) => letters.push(l) }, (m) => {
        const a = (attempts.get(m.n) ?? 0) + 1
        attempts.set(m.n, a)
        if (m.n === 1 && a <= 2) throw new AppError('STORE_UNAVAILABLE', 'store busy', { retriable: true })
        handled.push(m.n)
      })
      await bus.publishMany(contractTopic, [0, 1, 2].map((n) => ({ k: 'same', n })))
      await waitFor(() => handled.length >= 3, 'three handled')
      await bus.drain(30_000)
      expect(handled).toEqual([0, 1, 2])
      expect(attempts.get(1)).toBe(3)
      expect(attempts.get(2)).toBe(1)
      expect(letters).toEqual([])
    })

    it('dead-letters a message whose retries run out, with the error, and moves on', async () => {
      const bus = await fresh()
      const calls = new Map<number, number>()
      const handled: number[] = []
      const letters: DeadLetter[] = []
      await bus.subscribe(contractTopic, { group: 'dlq', onDeadLetter: (l) => letters.push(l) }, (m) => {
        calls.set(m.n, (calls.get(m.n) ?? 0) + 1)
        if (m.n === 1) throw new Error('database is down')
        handled.push(m.n)
      })
      await bus.publishMany(contractTopic, [0, 1, 2].map((n) => ({ k: 'poison', n })))
      await waitFor(() => handled.length >= 2 && letters.length >= 1, 'dead letter and the rest')
      await bus.drain(30_000)
      expect(handled).toEqual([0, 2])
      expect(letters).toHaveLength(1)
      const l = letters[0]!
      expect(l).toMatchObject({ key: 'poison', value: { k: 'poison', n: 1 }, error: 'database is down' })
      expect(l.topic.endsWith(contractTopic.name)).toBe(true)
      expect(l.attempts).toBeGreaterThan(1)
      expect(calls.get(1)).toBe(l.attempts)
      expect(Number.isFinite(l.at)).toBe(true)
    })

    it('dead-letters a TypeError at once, without retrying', async () => {
      const bus = await fresh()
      let calls = 0
      const handled: number[] = []
      const letters: DeadLetter[] = []
      await bus.subscribe(contractTopic, { group: 'bug', onDeadLetter: (l) => letters.push(l) }, (m) => {
        if (m.n === 5) { calls++; throw new TypeError('cannot read properties of undefined') }
        handled.push(m.n)
      })
      await bus.publishMany(contractTopic, [4, 5, 6].map((n) => ({ k: 'x', n })))
      await waitFor(() => handled.length >= 2 && letters.length >= 1, 'dead letter and the rest')
      await bus.drain(30_000)
      expect(calls).toBe(1)
      expect(handled).toEqual([4, 6])
      expect(letters).toHaveLength(1)
      expect(letters[0]).toMatchObject({ key: 'x', value: { k: 'x', n: 5 }, error: 'cannot read properties of undefined', attempts: 1 })
    })

    it('publishMany delivers every message, in order per key, with its key in the meta', async () => {
      const bus = await fresh()
      const got: { m: Msg; meta: MessageMeta }[] = []
      await bus.subscribe(contractTopic, { group: 'many' }, (m, meta) => { got.push({ m, meta }) })
      const msgs = Array.from({ length: 50 }, (_, n) => ({ k: 'E1001', n }))
      await bus.publishMany(contractTopic, msgs)
      await bus.publishMany(contractTopic, [])
      await waitFor(() => got.length >= 50, 'fifty messages')
      await bus.drain(30_000)
      expect(got.map((g) => g.m)).toEqual(msgs)
      expect(got.every((g) => g.meta.key === 'E1001' && g.meta.topic.endsWith(contractTopic.name))).toBe(true)
    })

    it('drain resolves only once every published message has been handled', async () => {
      const bus = await fresh()
      let done = 0
      await bus.subscribe(contractTopic, { group: 'slow' }, async () => { await sleep(3); done++ })
      await bus.publishMany(contractTopic, Array.from({ length: 20 }, (_, n) => ({ k: `k${n % 2}`, n })))
      await bus.drain(30_000)
      expect(done).toBe(20)
      await bus.drain(30_000)
    })

    it('unsubscribe stops delivery to that subscriber; the rest of its group takes over', async () => {
      const bus = await fresh()
      const left: string[] = []
      const stayed: string[] = []
      const other: string[] = []
      const sub = await bus.subscribe(contractTopic, { group: 'g' }, (m) => { left.push(label(m)) })
      await bus.subscribe(contractTopic, { group: 'g' }, (m) => { stayed.push(label(m)) })
      await bus.subscribe(contractTopic, { group: 'h' }, (m) => { other.push(label(m)) })
      await sub.unsubscribe()
      const msgs = Array.from({ length: 20 }, (_, n) => ({ k: `key-${n}`, n }))
      await bus.publishMany(contractTopic, msgs)
      await waitFor(() => stayed.length >= 20 && other.length >= 20, 'the remaining subscribers')
      await bus.drain(30_000)
      expect(left).toEqual([])
      expect(sorted(stayed)).toEqual(sorted(msgs.map(label)))
      expect(sorted(other)).toEqual(sorted(msgs.map(label)))
    })
  })
}
