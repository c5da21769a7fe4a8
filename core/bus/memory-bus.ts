// The in-process bus (embedded mode). Each consumer group has fixed partitions (key → partition by
// hash), each a FIFO; a partition is handled by one member at a time and holds its next message until
// the one before is handled, so per-key order holds even while members join or leave, and a leaving
// member's backlog passes to the others. A member handles one message at a time, or up to
// `concurrency` (a subscribe option) of different partitions when its handler returns promises. A
// group backlog at highWaterMark makes publishers to that topic wait (backpressure, never a deadlock
// on another topic). Retries and dead letters follow the Bus contract.
import type { Static, TSchema } from 'typebox'
import type { Topic } from '../contracts/topics.js'
import { errorMessage, isRetriable } from '../runtime/errors.js'
import { systemClock, type Clock } from '../runtime/clock.js'
import type { Bus, DeadLetter, Handler, MessageMeta, SubscribeOptions, Subscription } from './bus.js'

export interface MemoryBusOptions {
  /** Weight (see `weigh`) waiting in one consumer group at which publishers to its topic wait. */
  highWaterMark?: number
  /** A message's weight against highWaterMark; default 1 (messages). The app weighs a reading batch by
   *  its readings, so a backlog of batches of 100 is bounded like one of single readings. */
  weigh?: (topic: string, msg: unknown) => number
  retries?: number
  retryDelayMs?: number
  /** Partitions per consumer group (how finely members share the load); default 16. */
  partitions?: number
  /** Where dead letters go besides the subscriber's callback. */
  onDeadLetter?: (letter: DeadLetter) => void
  /** Stamps dead letters; default the system clock. */
  clock?: Clock
}

interface Item { value: unknown; key: string; offset: number; partition: number; w: number }
interface Part { queue: Item[]; head: number; busy: boolean }
interface Member {
  handler: Handler<TSchema>; running: boolean; closed: boolean; opts: SubscribeOptions
  /** Deliveries of different partitions this member may have in flight; and how many it has. */
  limit: number; active: number
  /** Wakes the work loop waiting for a free delivery slot. */
  slotFree?: () => void
}
interface Group { topic: string; members: Member[]; parts: Part[]; pending: number; weight: number; inFlight: number }

const RESOLVED: Promise<void> = Promise.resolve()

export function createMemoryBus(options: MemoryBusOptions = {}): Bus {
  const highWater = Math.max(1, options.highWaterMark ?? 200_000)
  const retries = Math.max(0, options.retries ?? 3)
  const retryDelayMs = Math.max(0, options.retryDelayMs ?? 20)
  const nParts = Math.max(1, Math.floor(options.partitions ?? 16))
  const clock = options.clock ?? systemClock()
  const weigh = options.weigh
  const groups = new Map<string, Map<string, Group>>() // topic -> group name -> group
  const offsets = new Map<string, number>()
  const waiters = new Map<string, (() => void)[]>() // topic -> publishers waiting for room
  let idleWaiters: (() => void)[] = []
  let closed = false

  const newParts = (): Part[] => Array.from({ length: nParts }, () => ({ queue: [], head: 0, busy: false }))

  function allGroups(): Group[] {
    const out: Group[] = []
    for (const gs of groups.values()) for (const g of gs.values()) out.push(g)
    return out
  }
  const totalLag = (): number => allGroups().reduce((n, g) => n + g.pending, 0)
  const busy = (): boolean => allGroups().some((g) => g.inFlight > 0 || g.members.some((m) => m.running))
  const topicFull = (topic: string): boolean => {
    for (const g of groups.get(topic)?.values() ?? []) if (g.weight >= highWater) return true
    return false
  }
  const topicRoomy = (topic: string): boolean => {
    for (const g of groups.get(topic)?.values() ?? []) if (g.weight >= highWater / 2) return false
    return true
  }

  function wake(topic: string): void {
    const w = waiters.get(topic)
    if (w?.length && (closed || topicRoomy(topic))) { waiters.delete(topic); for (const f of w) f() }
    if (idleWaiters.length && totalLag() === 0 && !busy()) { const i = idleWaiters; idleWaiters = []; for (const f of i) f() }
  }

  function hashKey(key: string): number {
    let h = 2166136261
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619)
    return h >>> 0
  }

  const ownerOf = (g: Group, p: number): Member | undefined => g.members[p % Math.max(1, g.members.length)]

  /** The oldest waiting message among the free partitions this member owns. */
  function nextFor(g: Group, m: Member): Part | undefined {
    const idx = g.members.indexOf(m)
    if (idx < 0) return undefined
    let best: Part | undefined
    for (let p = idx; p < g.parts.length; p += g.members.length) {
      const part = g.parts[p]!
      if (part.busy || part.head >= part.queue.length) continue
      if (!best || part.queue[part.head]!.offset < best.queue[best.head]!.offset) best = part
    }
    return best
  }

  /** Handles one message; returns a promise only when the handler did or threw (a synchronous
   *  handler costs no promise: at tens of thousands of deliveries a second, an async function per
   *  delivery was a third of what the process allocated). Never rejects: a failure ends as a retry or
   *  a dead letter. */
  function deliver(g: Group, m: Member, item: Item): Promise<void> | undefined {
    const meta: MessageMeta = { topic: g.topic, key: item.key, offset: String(item.offset), partition: item.partition }
    try {
      const r = m.handler(item.value as never, meta)
      if (r && typeof (r as Promise<void>).then === 'function') return (r as Promise<void>).then(undefined, (err: unknown) => failed(g, m, item, meta, err))
      return undefined
    } catch (err) {
      return failed(g, m, item, meta, err)
    }
  }

  /** After a failed attempt: retries a retriable error (up to `retries` more times), else dead-letters. */
  async function failed(g: Group, m: Member, item: Item, meta: MessageMeta, first: unknown): Promise<void> {
    let err = first
    for (let attempt = 1; ; attempt++) {
      if (!isRetriable(err) || attempt > retries) {
        const letter: DeadLetter = { topic: g.topic, key: item.key, value: item.value, error: errorMessage(err), attempts: attempt, at: clock.now() }
        for (const cb of [m.opts.onDeadLetter, options.onDeadLetter]) {
          try { cb?.(letter) } catch { /* a failing dead-letter callback must not stop the consumer */ }
        }
        return
      }
      await new Promise((r) => setTimeout(r, retryDelayMs * attempt))
      try {
        const r = m.handler(item.value as never, meta)
        if (r && typeof (r as Promise<void>).then === 'function') await r
        return
      } catch (e) {
        err = e
      }
    }
  }

  /** Members to start in the next turn: one setImmediate for all of them, not one per publish. */
  let kicks: [Group, Member][] = []
  function runKicks(): void {
    const k = kicks
    kicks = []
    for (const [g, m] of k) void work(g, m)
  }
  function kick(g: Group, m: Member): void {
    if (m.running || m.closed) return
    m.running = true
    if (kicks.push([g, m]) === 1) setImmediate(runKicks)
  }

  /** After a delivery: frees its partition and hands it on if ownership moved while it was in flight. */
  function delivered(g: Group, m: Member, part: Part, item: Item): void {
    part.busy = false
    g.inFlight--
    const owner = ownerOf(g, item.partition)
    if (owner && owner !== m) kick(g, owner)
    if (waiters.has(g.topic)) wake(g.topic)
  }

  async function work(g: Group, m: Member): Promise<void> {
    let n = 0
    try {
      for (;;) {
        if (m.closed) break
        const part = nextFor(g, m)
        if (!part) break
        const item = part.queue[part.head]!
        part.queue[part.head++] = undefined as never
        if (part.head === part.queue.length || part.head > 4096) { part.queue = part.queue.slice(part.head); part.head = 0 }
        g.pending--
        g.weight -= item.w
        g.inFlight++
        part.busy = true
        const p = deliver(g, m, item)
        if (!p) delivered(g, m, part, item)
        else if (m.limit <= 1) {
          try { await p } finally { delivered(g, m, part, item) }
        } else {
          m.active++
          void p.then(() => {
            m.active--
            delivered(g, m, part, item)
            const slot = m.slotFree
            if (slot) { m.slotFree = undefined; slot() } else if (!m.closed && nextFor(g, m)) kick(g, m)
            else if (!m.running) wake(g.topic) // the last one in flight: drain() may be waiting
          })
          if (m.active >= m.limit) await new Promise<void>((r) => { m.slotFree = r })
        }
        if (++n % 256 === 0) await new Promise((r) => setImmediate(r))
      }
    } finally {
      m.running = false
      wake(g.topic)
      // A partition this member still owns may have filled while it was finishing.
      if (!m.closed && nextFor(g, m)) kick(g, m)
    }
  }

  function enqueue(topicName: string, key: string, value: unknown): void {
    const gs = groups.get(topicName)
    if (!gs) return
    const offset = (offsets.get(topicName) ?? 0) + 1
    offsets.set(topicName, offset)
    const p = hashKey(key) % nParts
    const w = weigh ? Math.max(1, weigh(topicName, value) || 1) : 1
    for (const g of gs.values()) {
      if (!g.members.length) continue
      g.parts[p]!.queue.push({ value, key, offset, partition: p, w })
      g.pending++
      g.weight += w
      kick(g, ownerOf(g, p)!)
    }
  }

  async function backpressure(topic: string): Promise<void> {
    while (!closed && topicFull(topic)) {
      await new Promise<void>((r) => { const w = waiters.get(topic) ?? []; w.push(r); waiters.set(topic, w) })
    }
  }

  const bus: Bus = {
    kind: 'memory',
    // Not an async function: with room on the topic (nearly always) a publish allocates no promise.
    publish<S extends TSchema>(topic: Topic<S>, msg: Static<S>): Promise<void> {
      if (closed) return Promise.reject(new Error('bus closed'))
      enqueue(topic.name, topic.key(msg), msg)
      return topicFull(topic.name) ? backpressure(topic.name) : RESOLVED
    },
    async publishMany<S extends TSchema>(topic: Topic<S>, msgs: readonly Static<S>[]) {
      if (closed) throw new Error('bus closed')
      for (const msg of msgs) enqueue(topic.name, topic.key(msg), msg)
      await backpressure(topic.name)
    },
    async subscribe<S extends TSchema>(topic: Topic<S>, opts: SubscribeOptions, handler: Handler<S>): Promise<Subscription> {
      let gs = groups.get(topic.name)
      if (!gs) { gs = new Map(); groups.set(topic.name, gs) }
      let g = gs.get(opts.group)
      if (!g) { g = { topic: topic.name, members: [], parts: newParts(), pending: 0, weight: 0, inFlight: 0 }; gs.set(opts.group, g) }
      const group = g
      const m: Member = { handler: handler as Handler<TSchema>, running: false, closed: false, opts, limit: Math.max(1, Math.floor(opts.concurrency ?? 1)), active: 0 }
      group.members.push(m)
      for (const x of group.members) kick(group, x) // partitions were reassigned
      return {
        async unsubscribe() {
          if (m.closed) return
          m.closed = true
          group.members = group.members.filter((x) => x !== m)
          if (!group.members.length) {
            // Nobody left in the group: its backlog goes with it (no retention in memory).
            group.parts = newParts()
            group.pending = 0
            group.weight = 0
          } else {
            for (const x of group.members) kick(group, x)
          }
          wake(group.topic)
        },
      }
    },
    drain(timeoutMs = 10_000) {
      if (totalLag() === 0 && !busy()) return Promise.resolve()
      return new Promise<void>((resolve, reject) => {
        const done = (): void => { clearTimeout(t); resolve() }
        const t = setTimeout(() => {
          idleWaiters = idleWaiters.filter((f) => f !== done)
          reject(new Error(`bus did not drain within ${timeoutMs} ms (lag ${totalLag()})`))
        }, timeoutMs)
        idleWaiters.push(done)
      })
    },
    lag: totalLag,
    health: () => ({ ok: !closed, detail: `lag ${totalLag()}` }),
    async close() {
      closed = true
      for (const t of [...waiters.keys()]) wake(t)
    },
  }
  return bus
}
