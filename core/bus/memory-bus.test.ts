// The memory bus: the shared bus contract, plus what only the in-process bus promises — backpressure at
// highWaterMark with nothing lost, no cross-topic deadlock, and order and completeness while members change.
import { describe, expect, it } from 'vitest'
import type { Topic } from '../contracts/topics.js'
import { fakeClock } from '../runtime/clock.js'
import { busContract, contractTopic } from './bus.contract.js'
import type { DeadLetter } from './bus.js'
import { createMemoryBus } from './memory-bus.js'

busContract('memory', async () => createMemoryBus({ retries: 3, retryDelayMs: 1 }))

const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms))
type M = { k: string; n: number }
const other: Topic<typeof contractTopic.schema> = { ...contractTopic, name: 'contract.other' }

describe('memory bus', () => {
  it('makes publishers wait at highWaterMark behind a slow consumer, and loses nothing', async () => {
    const bus = createMemoryBus({ highWaterMark: 10 })
    let open!: () => void
    const gate = new Promise<void>((r) => { open = r })
    const got: number[] = []
    let entered!: () => void
    const busy = new Promise<void>((r) => { entered = r })
    await bus.subscribe(contractTopic, { group: 'slow' }, async (m: M) => { entered(); await gate; got.push(m.n) })
    await bus.publish(contractTopic, { k: 'a', n: 0 })
    await busy // the consumer took message 0 and blocks on the gate
    for (let n = 1; n <= 9; n++) await bus.publish(contractTopic, { k: 'a', n })
    expect(bus.lag()).toBe(9)
    let tenth = false
    const p10 = bus.publish(contractTopic, { k: 'a', n: 10 }).then(() => { tenth = true })
    let many = false
    const pMany = bus.publishMany(contractTopic, Array.from({ length: 20 }, (_, i) => ({ k: 'a', n: 11 + i }))).then(() => { many = true })
    await tick(30)
    expect(tenth).toBe(false)
    expect(many).toBe(false)
    expect(bus.lag()).toBe(30)
    expect(got).toEqual([])
    open()
    await Promise.all([p10, pMany])
    expect(tenth && many).toBe(true)
    await bus.drain()
    expect(got).toEqual(Array.from({ length: 31 }, (_, n) => n))
    expect(bus.lag()).toBe(0)
    await bus.close()
  })

  it('counts the backlog by weight when given one: a few heavy messages reach the high-water mark', async () => {
    const bus = createMemoryBus({ highWaterMark: 300, weigh: (_t, m) => (m as M).n })
    let open!: () => void
    const gate = new Promise<void>((r) => { open = r })
    let entered!: () => void
    const busy = new Promise<void>((r) => { entered = r })
    const got: number[] = []
    await bus.subscribe(contractTopic, { group: 'slow' }, async (m: M) => { entered(); await gate; got.push(m.n) })
    await bus.publish(contractTopic, { k: 'a', n: 1 })
    await busy
    await bus.publish(contractTopic, { k: 'a', n: 100 })
    await bus.publish(contractTopic, { k: 'a', n: 150 }) // weight 250 waiting: below 300
    let heavy = false
    const p = bus.publish(contractTopic, { k: 'a', n: 60 }).then(() => { heavy = true }) // 310: full
    await tick(30)
    expect(heavy).toBe(false)
    expect(bus.lag()).toBe(3) // lag stays a message count
    open()
    await p
    await bus.drain()
    expect(got).toEqual([1, 100, 150, 60])
    await bus.close()
  })

  it('does not block a handler publishing to another topic while its own topic is full', async () => {
    const bus = createMemoryBus({ highWaterMark: 4 })
    const out: number[] = []
    await bus.subscribe(contractTopic, { group: 'stage' }, async (m: M) => { await bus.publish(other, m) })
    await bus.subscribe(other, { group: 'sink' }, (m: M) => { out.push(m.n) })
    await bus.publishMany(contractTopic, Array.from({ length: 40 }, (_, n) => ({ k: 'E1', n })))
    await bus.drain(2000)
    expect(out).toEqual(Array.from({ length: 40 }, (_, n) => n))
    await bus.close()
  })

  it('keeps per-key order and loses nothing while members join and leave a group', async () => {
    const bus = createMemoryBus({ partitions: 8 })
    const seen = new Map<string, number[]>()
    const handler = async (m: M): Promise<void> => {
      if (m.n % 5 === 0) await tick(1)
      const xs = seen.get(m.k) ?? []
      xs.push(m.n)
      seen.set(m.k, xs)
    }
    const first = await bus.subscribe(contractTopic, { group: 'g' }, handler)
    const keys = Array.from({ length: 12 }, (_, i) => `E${i}`)
    const wave = (from: number): M[] => Array.from({ length: 10 }, (_, j) => keys.map((k) => ({ k, n: from + j }))).flat()
    await bus.publishMany(contractTopic, wave(0))
    const second = await bus.subscribe(contractTopic, { group: 'g' }, handler) // joins with a backlog waiting
    await bus.publishMany(contractTopic, wave(10))
    await tick(2)
    await first.unsubscribe() // leaves with part of its backlog unhandled
    await bus.publishMany(contractTopic, wave(20))
    await bus.subscribe(contractTopic, { group: 'g' }, handler)
    await second.unsubscribe()
    await bus.publishMany(contractTopic, wave(30))
    await bus.drain(5000)
    for (const k of keys) expect(seen.get(k), k).toEqual(Array.from({ length: 40 }, (_, n) => n))
    await bus.close()
  })

  it('stamps dead letters with the injected clock and survives a throwing dead-letter callback', async () => {
    const clock = fakeClock(Date.parse('2026-11-28T08:00:00.000Z'))
    const global: DeadLetter[] = []
    const bus = createMemoryBus({ retries: 0, clock, onDeadLetter: (l) => global.push(l) })
    const ok: number[] = []
    await bus.subscribe(contractTopic, { group: 'g', onDeadLetter: () => { throw new Error('callback bug') } }, (m: M) => {
      if (m.n === 1) throw new Error('boom')
      ok.push(m.n)
    })
    await bus.publishMany(contractTopic, [0, 1, 2].map((n) => ({ k: 'a', n })))
    await bus.drain(2000)
    expect(ok).toEqual([0, 2])
    expect(global).toEqual([{ topic: 'contract.msgs', key: 'a', value: { k: 'a', n: 1 }, error: 'boom', attempts: 1, at: Date.parse('2026-11-28T08:00:00.000Z') }])
    await bus.close()
  })

  it('drops messages for a group with no members left, and drain reports a timeout with the lag', async () => {
    const bus = createMemoryBus()
    let open!: () => void
    const gate = new Promise<void>((r) => { open = r })
    let entered!: () => void
    const busy = new Promise<void>((r) => { entered = r })
    const sub = await bus.subscribe(contractTopic, { group: 'g' }, async () => { entered(); await gate })
    await bus.publishMany(contractTopic, Array.from({ length: 5 }, (_, n) => ({ k: 'a', n })))
    await busy
    expect(bus.lag()).toBe(4)
    await expect(bus.drain(20)).rejects.toThrow(/did not drain within 20 ms \(lag 4\)/)
    await sub.unsubscribe()
    expect(bus.lag()).toBe(0)
    open()
    await bus.drain(2000)
    await bus.close()
    await expect(bus.publish(contractTopic, { k: 'a', n: 9 })).rejects.toThrow('bus closed')
  })
  it('with `concurrency`, handles that many partitions at once, never two messages of one key, and drains', async () => {
    const bus = createMemoryBus({ partitions: 16 })
    let inFlight = 0
    let most = 0
    const busyKeys = new Set<string>()
    let overlapSameKey = 0
    const got = new Map<string, number[]>()
    const releases: (() => void)[] = []
    await bus.subscribe(contractTopic, { group: 'c', concurrency: 4 }, async (m: M) => {
      if (busyKeys.has(m.k)) overlapSameKey++
      busyKeys.add(m.k)
      inFlight++
      most = Math.max(most, inFlight)
      await new Promise<void>((r) => releases.push(r))
      inFlight--
      busyKeys.delete(m.k)
      got.set(m.k, [...(got.get(m.k) ?? []), m.n])
    })
    const keys = Array.from({ length: 12 }, (_, i) => `key-${i}`)
    for (let n = 0; n < 5; n++) await bus.publishMany(contractTopic, keys.map((k) => ({ k, n })))
    await tick(10)
    expect(inFlight).toBe(4) // four partitions at once, not one
    // release the handlers one at a time until everything is through
    let drained = false
    const d = bus.drain(5000).then(() => { drained = true })
    while (!drained) { releases.shift()?.(); await tick(0) }
    await d
    expect(most).toBe(4)
    expect(overlapSameKey).toBe(0)
    for (const k of keys) expect(got.get(k)).toEqual([0, 1, 2, 3, 4]) // per-key order
    await bus.close()
  })
})
