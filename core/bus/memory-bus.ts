// The in-process bus (embedded mode). Per consumer-group member, one FIFO queue drained in order, so
// per-key order holds; a bounded queue makes publishers wait (backpressure) instead of growing memory.
// Retries and dead letters follow the Bus contract.
import type { Static, TSchema } from 'typebox'
import type { Topic } from '../contracts/topics.js'
import { errorMessage, isRetriable } from '../runtime/errors.js'
import type { Bus, DeadLetter, Handler, MessageMeta, SubscribeOptions, Subscription } from './bus.js'

export interface MemoryBusOptions {
  /** Queue length per consumer at which publishers wait. */
  highWaterMark?: number
  retries?: number
  retryDelayMs?: number
  /** Where dead letters go besides the subscriber's callback. */
  onDeadLetter?: (letter: DeadLetter) => void
}

interface Member {
  handler: Handler<TSchema>
  queue: { value: unknown; key: string; offset: number }[]
  head: number
  running: boolean
  closed: boolean
  opts: SubscribeOptions
}

interface Group { members: Member[] }

export function createMemoryBus(options: MemoryBusOptions = {}): Bus {
  const highWater = options.highWaterMark ?? 200_000
  const retries = options.retries ?? 3
  const retryDelayMs = options.retryDelayMs ?? 20
  const groups = new Map<string, Map<string, Group>>() // topic -> group -> members
  const offsets = new Map<string, number>()
  let waiters: (() => void)[] = []
  let idleWaiters: (() => void)[] = []
  let closed = false

  const pending = (m: Member): number => m.queue.length - m.head

  function totalLag(): number {
    let n = 0
    for (const gs of groups.values()) for (const g of gs.values()) for (const m of g.members) n += pending(m)
    return n
  }

  function maxLag(): number {
    let n = 0
    for (const gs of groups.values()) for (const g of gs.values()) for (const m of g.members) n = Math.max(n, pending(m))
    return n
  }

  function wakeWaiters(): void {
    if (waiters.length && maxLag() < highWater / 2) { const w = waiters; waiters = []; for (const f of w) f() }
    if (idleWaiters.length && totalLag() === 0 && !anyRunning()) { const w = idleWaiters; idleWaiters = []; for (const f of w) f() }
  }

  function anyRunning(): boolean {
    for (const gs of groups.values()) for (const g of gs.values()) for (const m of g.members) if (m.running) return true
    return false
  }

  async function deliver(m: Member, item: { value: unknown; key: string; offset: number }, topic: string): Promise<void> {
    const meta: MessageMeta = { topic, key: item.key, offset: String(item.offset), partition: 0 }
    for (let attempt = 1; ; attempt++) {
      try {
        const r = m.handler(item.value as never, meta)
        if (r && typeof (r as Promise<void>).then === 'function') await r
        return
      } catch (err) {
        if (!isRetriable(err) || attempt > retries) {
          const letter: DeadLetter = { topic, key: item.key, value: item.value, error: errorMessage(err), attempts: attempt, at: Date.now() }
          m.opts.onDeadLetter?.(letter)
          options.onDeadLetter?.(letter)
          return
        }
        await new Promise((r) => setTimeout(r, retryDelayMs * attempt))
      }
    }
  }

  function run(m: Member, topic: string): void {
    if (m.running || m.closed) return
    m.running = true
    setImmediate(async () => {
      let n = 0
      while (m.head < m.queue.length && !m.closed) {
        const item = m.queue[m.head]!
        m.queue[m.head++] = undefined as never
        await deliver(m, item, topic)
        if (++n % 512 === 0) { compact(m); wakeWaiters(); await new Promise((r) => setImmediate(r)) }
      }
      compact(m)
      m.running = false
      wakeWaiters()
      if (m.head < m.queue.length) run(m, topic)
    })
  }

  function compact(m: Member): void {
    if (m.head > 0 && (m.head === m.queue.length || m.head > 4096)) { m.queue = m.queue.slice(m.head); m.head = 0 }
  }

  function hashKey(key: string): number {
    let h = 2166136261
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619)
    return h >>> 0
  }

  function enqueue(topicName: string, key: string, value: unknown): void {
    const gs = groups.get(topicName)
    if (!gs) return
    const offset = (offsets.get(topicName) ?? 0) + 1
    offsets.set(topicName, offset)
    for (const g of gs.values()) {
      const live = g.members.filter((m) => !m.closed)
      if (!live.length) continue
      const m = live.length === 1 ? live[0]! : live[hashKey(key) % live.length]!
      m.queue.push({ value, key, offset })
      run(m, topicName)
    }
  }

  async function backpressure(): Promise<void> {
    if (maxLag() >= highWater) await new Promise<void>((r) => waiters.push(r))
  }

  const bus: Bus = {
    kind: 'memory',
    async publish<S extends TSchema>(topic: Topic<S>, msg: Static<S>) {
      if (closed) throw new Error('bus closed')
      enqueue(topic.name, topic.key(msg), msg)
      await backpressure()
    },
    async publishMany<S extends TSchema>(topic: Topic<S>, msgs: readonly Static<S>[]) {
      if (closed) throw new Error('bus closed')
      for (const msg of msgs) enqueue(topic.name, topic.key(msg), msg)
      await backpressure()
    },
    async subscribe<S extends TSchema>(topic: Topic<S>, opts: SubscribeOptions, handler: Handler<S>): Promise<Subscription> {
      let gs = groups.get(topic.name)
      if (!gs) { gs = new Map(); groups.set(topic.name, gs) }
      let g = gs.get(opts.group)
      if (!g) { g = { members: [] }; gs.set(opts.group, g) }
      const m: Member = { handler: handler as Handler<TSchema>, queue: [], head: 0, running: false, closed: false, opts }
      g.members.push(m)
      return {
        async unsubscribe() {
          m.closed = true
          g!.members = g!.members.filter((x) => x !== m)
          wakeWaiters()
        },
      }
    },
    drain(timeoutMs = 10_000) {
      if (totalLag() === 0 && !anyRunning()) return Promise.resolve()
      return new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`bus did not drain within ${timeoutMs} ms (lag ${totalLag()})`)), timeoutMs)
        idleWaiters.push(() => { clearTimeout(t); resolve() })
      })
    },
    lag: totalLag,
    health: () => ({ ok: !closed, detail: `lag ${totalLag()}` }),
    async close() {
      closed = true
      const w = waiters; waiters = []; for (const f of w) f()
    },
  }
  return bus
}
