// The Kafka bus (scale-out mode), the only module importing kafkajs. Same contract as the memory bus:
// key = topic.key(msg) so per-key order holds per partition; at-least-once (an offset is committed only
// after its handler finished or its message was dead-lettered); retriable failures retried in place.
import kafkajs from 'kafkajs'
import type { Admin, Consumer, EachBatchPayload, Kafka as KafkaClient, LogEntry, Producer, Message } from 'kafkajs'
import type { Static, TSchema } from 'typebox'
import type { Topic } from '../contracts/topics.js'
import { AppError, errorMessage, isRetriable } from '../runtime/errors.js'
import type { Logger } from '../runtime/logger.js'
import { systemClock, type Clock } from '../runtime/clock.js'
import type { Bus, DeadLetter, Handler, MessageMeta, SubscribeOptions, Subscription } from './bus.js'

const { Kafka, Partitioners, logLevel } = kafkajs

export interface KafkaBusOptions {
  brokers: string[]
  clientId: string
  /** Prepended to every topic and group name (default "yujing."). */
  topicPrefix?: string
  /** Partitions of topics this bus creates (default 6). */
  partitions?: number
  replicationFactor?: number
  /** Handler retries for retriable errors before dead-lettering (default 3). */
  retries?: number
  retryDelayMs?: number
  logger?: Logger
  onDeadLetter?: (letter: DeadLetter) => void
  /** How long single publish() calls are gathered into one send (default 0 = next tick). */
  producerLingerMs?: number
  /** Partitions one consumer handles at once, each still in order (default 6). */
  partitionsConsumedConcurrently?: number
  /** Dead-letter topic for a topic name (without prefix); default `${name}.dlq`. */
  deadLetterTopic?: (name: string) => string
  /** Upper bound of one producer request's payload, in bytes (default 900 kB, below the broker's 1 MB). */
  maxSendBytes?: number
  /** Idempotent producer (default true; acks=all either way). Off is ~40 % faster per send here, at the
   *  cost of possible duplicates on producer retries (consumers are idempotent anyway). */
  idempotent?: boolean
  sessionTimeoutMs?: number
  /** How often the cluster's reachability is checked for health() (default 3 s). */
  healthProbeMs?: number
  /** How long subscribe() waits for the consumer to join its group (default 30 s). */
  joinTimeoutMs?: number
  /** How often handled offsets are committed (default 1 s). Committing after every fetched batch put an
   *  OffsetCommit round trip into every consume cycle (at 5,000 readings/s it tripled the latency of
   *  each hop); a crash redelivers at most this much (at-least-once either way). Also committed on
   *  drain(), unsubscribe, close and when a rebalance starts. */
  commitIntervalMs?: number
  clock?: Clock
}

interface PendingSend { messages: Message[]; bytes: number; waiters: { resolve: () => void; reject: (e: unknown) => void }[] }
interface TopicOut { name: string; queue: PendingSend[]; flushing: boolean; timer: ReturnType<typeof setTimeout> | null }

interface Member {
  consumer: Consumer
  groupId: string
  topic: string
  crashed: string | null
  closed: boolean
  /** partition -> high watermark - next offset, as last seen. */
  lag: Map<number, number>
  /** partition -> last offset handled (and made durable by beforeCommit), not necessarily committed. */
  handled: Map<number, bigint>
  /** partition -> last offset committed by this member. */
  committed: Map<number, bigint>
  /** Between a rebalance starting and the new assignment: nothing is committed. */
  rebalancing: boolean
  committing: Promise<void> | null
}

export async function createKafkaBus(opts: KafkaBusOptions): Promise<Bus> {
  if (!Array.isArray(opts.brokers) || opts.brokers.length === 0 || opts.brokers.some((b) => typeof b !== 'string' || !b.includes(':'))) {
    throw new AppError('CONFIG_INVALID', `kafka bus: brokers must be host:port strings, got ${JSON.stringify(opts.brokers)}`)
  }
  const prefix = opts.topicPrefix ?? 'yujing.'
  const partitions = opts.partitions ?? 6
  const replicationFactor = opts.replicationFactor ?? 1
  const retries = opts.retries ?? 3
  const retryDelayMs = opts.retryDelayMs ?? 20
  const linger = opts.producerLingerMs ?? 0
  const concurrency = Math.max(1, opts.partitionsConsumedConcurrently ?? 6)
  const dlqName = opts.deadLetterTopic ?? ((n: string) => `${n}.dlq`)
  const maxSendBytes = opts.maxSendBytes ?? 900_000
  const clock = opts.clock ?? systemClock()
  const log = opts.logger

  const kafka: KafkaClient = new Kafka({
    clientId: opts.clientId,
    brokers: opts.brokers,
    connectionTimeout: 3000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 200, maxRetryTime: 5000, retries: 12 },
    logLevel: log ? logLevel.WARN : logLevel.NOTHING,
    logCreator: () => (e: LogEntry) => {
      if (!log) return
      const { message, ...rest } = e.log
      const fields = { namespace: e.namespace, ...rest }
      if (e.level <= logLevel.ERROR) log.error(fields, `kafka: ${message}`)
      else if (e.level === logLevel.WARN) log.warn(fields, `kafka: ${message}`)
      else log.debug(fields, `kafka: ${message}`)
    },
  })

  const admin: Admin = kafka.admin()
  const producer: Producer = kafka.producer({
    idempotent: opts.idempotent ?? true,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    // Idempotence needs unlimited retries (kafkajs warns otherwise): a publish waits out a broker restart.
    retry: { initialRetryTime: 200, maxRetryTime: 5000, retries: (opts.idempotent ?? true) ? Number.MAX_SAFE_INTEGER : 12 },
  })
  let producerUp = false
  producer.on(producer.events.CONNECT, () => { producerUp = true })
  producer.on(producer.events.DISCONNECT, () => { producerUp = false })

  try {
    await admin.connect()
    await producer.connect()
  } catch (err) {
    await Promise.allSettled([producer.disconnect(), admin.disconnect()])
    throw new AppError('BUS_UNAVAILABLE', `kafka bus: cannot connect to ${opts.brokers.join(',')}: ${errorMessage(err)}`, { retriable: true, cause: err })
  }

  // Reachability: the admin asks for the cluster's metadata every few seconds (a producer or consumer
  // only notices an outage when it next sends or fetches, and kafkajs fires no event for it).
  let unreachableSince: number | null = null
  let lastProbeError = ''
  /** The describeCluster still running (kafkajs retries it for a while when no broker answers). */
  let asking: Promise<unknown> | null = null
  const probeEveryMs = opts.healthProbeMs ?? 3000
  const probe = async (): Promise<void> => {
    if (closed) return
    if (!asking) asking = admin.describeCluster().finally(() => { asking = null })
    try {
      let timer: ReturnType<typeof setTimeout> | undefined
      const timeout = new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new Error(`no answer within ${probeEveryMs} ms`)), probeEveryMs) })
      try { await Promise.race([asking, timeout]) } finally { clearTimeout(timer) }
      if (unreachableSince !== null) log?.info({ downMs: clock.now() - unreachableSince }, 'kafka bus: cluster reachable again')
      unreachableSince = null
    } catch (err) {
      lastProbeError = errorMessage(err)
      if (unreachableSince === null) { unreachableSince = clock.now(); log?.warn({ err: lastProbeError }, 'kafka bus: cluster not reachable') }
    }
  }
  const probeTimer = setInterval(() => void probe(), probeEveryMs)
  probeTimer.unref()

  let closed = false
  const ensured = new Map<string, Promise<void>>()
  /** Topics this bus created and has not yet sent to: their offsets are known to be 0 (no listOffsets, which
   *  answers NOT_LEADER for a few seconds after creation on KRaft). */
  const createdHere = new Set<string>()
  const outs = new Map<string, TopicOut>()
  const members = new Set<Member>()
  const groupLocks = new Map<string, Promise<unknown>>()
  let inFlight = 0

  // ---- decoding shared by the groups of this process
  // Several stages of one process read the same topic, each in its own group (readings: rules, history,
  // dashboard), and each decoded every message: JSON.parse was 8 % of the all-roles process's CPU at
  // 5,000 readings/s. A message is parsed by the first of them and the value handed to the others, as
  // the in-process bus hands every group the same object (handlers must not mutate messages). An entry
  // leaves once every other group took it, or when 32,768 newer ones came after it (a group that far
  // behind, or whose partition is read by a member in another process, parses itself; 8,192 missed 40 % of
  // the shares in a 10,000/s flood, where the groups drift seconds apart). Evicted by a ring of keys:
  // deleting a Map's first key over and over rescans the deleted slots before it (measured: 15 % of the
  // process's CPU).
  const SHARED_MAX = 32_768
  const shared = new Map<string, { value: unknown; left: number }>()
  const sharedRing: string[] = new Array<string>(SHARED_MAX).fill('')
  let sharedNext = 0
  /** Groups of this process reading `topic` (full name). */
  function localGroups(topic: string): number {
    const ids = new Set<string>()
    for (const m of members) if (m.topic === topic && !m.closed) ids.add(m.groupId)
    return ids.size
  }

  function ensureTopic(full: string): Promise<void> {
    let p = ensured.get(full)
    if (!p) {
      p = admin.createTopics({ topics: [{ topic: full, numPartitions: partitions, replicationFactor }], waitForLeaders: true })
        .then((created) => { if (created) createdHere.add(full) })
        .catch((err: unknown) => {
          const e = err as { type?: string; errors?: { type?: string }[] }
          if (e.type === 'TOPIC_ALREADY_EXISTS' || e.errors?.every((x) => x.type === 'TOPIC_ALREADY_EXISTS')) return
          ensured.delete(full)
          throw new AppError('BUS_UNAVAILABLE', `kafka bus: cannot create topic ${full}: ${errorMessage(err)}`, { retriable: true, cause: err })
        })
      ensured.set(full, p)
    }
    return p
  }

  // ---- producing: per topic one FIFO of pending sends, flushed one send at a time (keeps order, batches under load)
  function outFor(full: string): TopicOut {
    let o = outs.get(full)
    if (!o) { o = { name: full, queue: [], flushing: false, timer: null }; outs.set(full, o) }
    return o
  }

  function enqueue(full: string, msgs: Message[]): Promise<void> {
    const o = outFor(full)
    return new Promise<void>((resolve, reject) => {
      let last = o.queue[o.queue.length - 1]
      for (const m of msgs) {
        const size = (m.value as string).length + (m.key as string).length + 64
        if (!last || (last.bytes + size > maxSendBytes && last.messages.length > 0)) {
          last = { messages: [], bytes: 0, waiters: [] }
          o.queue.push(last)
        }
        last.messages.push(m)
        last.bytes += size
      }
      if (!last) { resolve(); return }
      last.waiters.push({ resolve, reject })
      // Earlier chunks of a multi-chunk call resolve before the last one, so waiting on the last is enough.
      schedule(o)
    })
  }

  function schedule(o: TopicOut): void {
    if (o.flushing || o.timer) return
    if (linger > 0) o.timer = setTimeout(() => { o.timer = null; void flush(o) }, linger)
    else { o.flushing = true; setImmediate(() => { o.flushing = false; void flush(o) }) }
  }

  async function flush(o: TopicOut): Promise<void> {
    if (o.flushing) return
    o.flushing = true
    try {
      while (o.queue.length) {
        const batch = o.queue.shift()!
        try {
          await ensureTopic(o.name)
          createdHere.delete(o.name)
          await producer.send({ topic: o.name, acks: -1, messages: batch.messages })
          for (const w of batch.waiters) w.resolve()
        } catch (err) {
          const e = err instanceof AppError ? err : new AppError('BUS_UNAVAILABLE', `kafka bus: publish to ${o.name} failed: ${errorMessage(err)}`, { retriable: true, cause: err })
          for (const w of batch.waiters) w.reject(e)
        }
      }
    } finally {
      o.flushing = false
    }
  }

  function encode<S extends TSchema>(topic: Topic<S>, msg: Static<S>): Message {
    const key = topic.key(msg)
    if (typeof key !== 'string') throw new AppError('MESSAGE_INVALID', `kafka bus: key of ${topic.name} is not a string`)
    const value = JSON.stringify(msg)
    if (value === undefined) throw new AppError('MESSAGE_INVALID', `kafka bus: message for ${topic.name} is not JSON`)
    return { key, value }
  }

  // ---- consuming
  async function deadLetter(m: Member, sub: SubscribeOptions, topicName: string, key: string, raw: string, value: unknown, err: unknown, attempts: number): Promise<void> {
    const letter: DeadLetter = { topic: topicName, key, value, error: errorMessage(err), attempts, at: clock.now() }
    const target = prefix + dlqName(topicName)
    await ensureTopic(target)
    createdHere.delete(target)
    // The original value unchanged; the reason in headers, so the DLQ can be replayed as is.
    await producer.send({
      topic: target,
      acks: -1,
      messages: [{ key, value: raw, headers: {
        'yujing-error': letter.error, 'yujing-attempts': String(attempts), 'yujing-source-topic': m.topic,
        'yujing-group': m.groupId, 'yujing-at': String(letter.at),
      } }],
    })
    log?.warn({ topic: m.topic, key, attempts, error: letter.error, dlq: target }, 'kafka bus: message dead-lettered')
    try { sub.onDeadLetter?.(letter) } catch { /* a callback's failure must not block the partition */ }
    try { opts.onDeadLetter?.(letter) } catch { /* idem */ }
  }

  async function handleBatch(m: Member, sub: SubscribeOptions, topicName: string, handler: Handler<TSchema>, p: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, isRunning, isStale } = p
    // With beforeCommit, a handled offset is resolved (kafkajs' fetch position) and recorded for
    // commitHandled only after beforeCommit made its effect durable.
    let handled: string | null = null
    const resolveOffset = (offset: string): void => {
      if (sub.beforeCommit) handled = offset
      else { p.resolveOffset(offset); m.handled.set(batch.partition, BigInt(offset)) }
    }
    const settle = async (): Promise<void> => {
      if (handled === null) return
      const offset = handled
      await beforeCommit(sub, heartbeat)
      p.resolveOffset(offset)
      m.handled.set(batch.partition, BigInt(offset))
      if (handled === offset) handled = null
    }
    const hw = Number(batch.highWatermark)
    const others = localGroups(m.topic) - 1
    const sharePrefix = `${m.topic}\u0000${batch.partition}\u0000`
    let n = 0
    for (const msg of batch.messages) {
      if (!isRunning() || isStale() || m.closed) break
      const rawOf = (): string => (msg.value ? msg.value.toString('utf8') : '')
      const key = msg.key ? msg.key.toString('utf8') : ''
      const meta: MessageMeta = { topic: topicName, key, offset: msg.offset, partition: batch.partition }
      inFlight++
      try {
        let value: unknown
        const sk = others > 0 ? sharePrefix + msg.offset : ''
        const hit = others > 0 ? shared.get(sk) : undefined
        if (hit) {
          value = hit.value
          if (--hit.left <= 0) shared.delete(sk)
        } else {
          const raw = rawOf()
          try { value = JSON.parse(raw) } catch (err) {
            await deadLetter(m, sub, topicName, key, raw, raw, new AppError('MESSAGE_INVALID', `not JSON: ${errorMessage(err)}`), 1)
            resolveOffset(msg.offset)
            continue
          }
          if (others > 0) {
            shared.delete(sharedRing[sharedNext]!)
            sharedRing[sharedNext] = sk
            sharedNext = (sharedNext + 1) % SHARED_MAX
            shared.set(sk, { value, left: others })
          }
        }
        for (let attempt = 1; ; attempt++) {
          try {
            const r = handler(value as never, meta)
            if (r && typeof (r as Promise<void>).then === 'function') await r
            break
          } catch (err) {
            if (!isRetriable(err) || attempt > retries) {
              await deadLetter(m, sub, topicName, key, rawOf(), value, err, attempt)
              break
            }
            await new Promise((r) => setTimeout(r, retryDelayMs * attempt))
            await heartbeat().catch(() => undefined)
          }
        }
        resolveOffset(msg.offset)
      } finally {
        inFlight--
      }
      m.lag.set(batch.partition, Math.max(0, hw - (Number(msg.offset) + 1)))
      if (++n % 500 === 0) { await settle(); await heartbeat() }
    }
    await settle()
  }

  /** Commits what this member handled since its last commit (the offsets of its current assignment). */
  function commitHandled(m: Member): Promise<void> {
    if (m.committing) return m.committing
    const list: { topic: string; partition: number; offset: string }[] = []
    for (const [partition, off] of m.handled) {
      if ((m.committed.get(partition) ?? -1n) < off) list.push({ topic: m.topic, partition, offset: String(off + 1n) })
    }
    if (!list.length || m.rebalancing) return Promise.resolve()
    m.committing = (async () => {
      try {
        await m.consumer.commitOffsets(list)
        for (const c of list) {
          const off = BigInt(c.offset) - 1n
          if ((m.committed.get(c.partition) ?? -1n) < off) m.committed.set(c.partition, off)
        }
      } catch (err) {
        log?.debug({ err: errorMessage(err), groupId: m.groupId }, 'kafka bus: offset commit failed; retried at the next interval')
      } finally {
        m.committing = null
      }
    })()
    return m.committing
  }
  const commitAll = async (): Promise<void> => { await Promise.all([...members].map((m) => commitHandled(m))) }
  const commitTimer = setInterval(() => { void commitAll() }, Math.max(10, opts.commitIntervalMs ?? 1000))
  commitTimer.unref()

  /** Runs the subscriber's beforeCommit, heartbeating meanwhile so a slow store does not cost the
   *  partitions; its error propagates (nothing committed, kafkajs fetches the batch again). */
  async function beforeCommit(sub: SubscribeOptions, heartbeat: () => Promise<void>): Promise<void> {
    if (!sub.beforeCommit) return
    const p = sub.beforeCommit()
    let settled = false
    void p.then(() => { settled = true }, () => { settled = true })
    while (!settled) {
      await Promise.race([p.catch(() => undefined), new Promise((r) => setTimeout(r, 2000))])
      if (!settled) await heartbeat().catch(() => undefined)
    }
    await p
  }

  /** Pin a new group's start (earliest or the current end) so nothing published after subscribe() is missed. */
  async function pinStart(groupId: string, full: string, fromBeginning: boolean): Promise<void> {
    // Right after createTopics the metadata may still be settling (NOT_LEADER...): retry briefly.
    for (let attempt = 1; ; attempt++) {
      try { return await pinStartOnce(groupId, full, fromBeginning) } catch (err) {
        if (attempt >= 20 || (err as { retriable?: boolean }).retriable === false) throw err
        await new Promise((r) => setTimeout(r, 100 * Math.min(attempt, 5)))
      }
    }
  }

  async function pinStartOnce(groupId: string, full: string, fromBeginning: boolean): Promise<void> {
    const committed = await admin.fetchOffsets({ groupId, topics: [full] })
    const parts = committed[0]?.partitions ?? []
    if (parts.some((x) => Number(x.offset) >= 0)) return
    // From the beginning (asked for, or a topic this process just created): the consumer's own
    // "earliest" reset does it. Only "from now" on an existing topic needs the end offsets pinned
    // (kafkajs' admin.setOffsets costs ~5 s: its helper consumer waits out a full fetch).
    if (fromBeginning || createdHere.has(full)) return
    try {
      const ends = await admin.fetchTopicOffsets(full)
      await admin.setOffsets({ groupId, topic: full, partitions: ends.map((e) => ({ partition: e.partition, offset: e.high })) })
    } catch (err) {
      // Another instance of the group (e.g. a second rules process starting at the same moment) has
      // already joined: the group is live and its members set where it starts; ours joins it as it is.
      if (/no running instances|rebalanc/i.test(errorMessage(err))) {
        opts.logger?.info({ groupId, topic: full }, 'consumer group already running: joining it without pinning offsets')
        return
      }
      throw err
    }
  }

  function withGroupLock<T>(groupId: string, fn: () => Promise<T>): Promise<T> {
    const prev = groupLocks.get(groupId) ?? Promise.resolve()
    const next = prev.catch(() => undefined).then(fn)
    groupLocks.set(groupId, next)
    return next
  }

  async function subscribe<S extends TSchema>(topic: Topic<S>, sub: SubscribeOptions, handler: Handler<S>): Promise<Subscription> {
    if (closed) throw new Error('bus closed')
    if (!sub || typeof sub.group !== 'string' || !sub.group) throw new AppError('BAD_REQUEST', 'kafka bus: subscribe needs a group')
    const full = prefix + topic.name
    // Groups are per topic (as in the memory bus), which also keeps kafkajs' assigner from mixing topics.
    const groupId = `${prefix}${sub.group}.${topic.name}`
    await ensureTopic(full)
    const consumer = kafka.consumer({
      groupId,
      sessionTimeout: opts.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: 3000,
      maxWaitTimeInMs: 250,
      allowAutoTopicCreation: false,
      retry: { initialRetryTime: 200, maxRetryTime: 5000, retries: 12, restartOnFailure: async (e: Error) => {
        log?.warn({ err: errorMessage(e), groupId }, 'kafka bus: consumer failed; restarting')
        return !closed && !member.closed
      } },
    })
    const member: Member = { consumer, groupId, topic: full, crashed: null, closed: false, lag: new Map(), handled: new Map(), committed: new Map(), rebalancing: false, committing: null }
    // A rebalance is starting: commit what was handled while the partitions are still ours, then commit
    // nothing until the new assignment says which partitions are.
    consumer.on(consumer.events.REBALANCING, () => {
      const last = commitHandled(member) // takes its list now, before the flag below
      member.rebalancing = true
      void last
    })
    consumer.on(consumer.events.CRASH, (e) => { member.crashed = errorMessage(e.payload.error); if (!e.payload.restart) void restart(member) })
    let joined!: () => void
    const firstJoin = new Promise<void>((r) => { joined = r })
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      member.crashed = null
      const mine = new Set(e.payload.memberAssignment[full] ?? [])
      for (const p of [...member.handled.keys()]) if (!mine.has(p)) member.handled.delete(p)
      member.committed.clear() // the group's committed offsets may have moved on under another member
      member.rebalancing = false
      joined()
      if (sub.onAssignment) {
        try { sub.onAssignment(e.payload.memberAssignment[full] ?? []) } catch (err) { log?.error({ err: errorMessage(err), groupId }, 'kafka bus: onAssignment callback failed') }
      }
    })
    await withGroupLock(groupId, async () => {
      await pinStart(groupId, full, sub.fromBeginning ?? false)
      await consumer.connect()
      await consumer.subscribe({ topics: [full], fromBeginning: (sub.fromBeginning ?? false) || createdHere.has(full) })
      await startRun()
    })
    // Return once this member holds its share of the partitions (the group has rebalanced).
    const joinTimeout = new Promise<boolean>((r) => setTimeout(() => r(false), opts.joinTimeoutMs ?? 30_000).unref())
    if (!(await Promise.race([firstJoin.then(() => true), joinTimeout]))) log?.warn({ groupId }, 'kafka bus: consumer has not joined its group yet')
    async function startRun(): Promise<void> {
      await consumer.run({
        autoCommit: false, // commitHandled commits on an interval (see commitIntervalMs)
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: concurrency,
        eachBatch: (p) => handleBatch(member, sub, topic.name, handler as Handler<TSchema>, p),
      })
    }
    async function restart(mb: Member): Promise<void> {
      if (closed || mb.closed) return
      await new Promise((r) => setTimeout(r, 1000))
      if (closed || mb.closed) return
      try {
        await consumer.connect()
        await consumer.subscribe({ topics: [full], fromBeginning: (sub.fromBeginning ?? false) || createdHere.has(full) })
        await startRun()
      } catch (err) {
        log?.error({ err: errorMessage(err), groupId }, 'kafka bus: consumer restart failed; retrying')
        void restart(mb)
      }
    }
    members.add(member)
    return {
      async unsubscribe() {
        if (member.closed) return
        await commitHandled(member)
        await commitHandled(member) // what was handled while a commit already in flight went out
        member.closed = true
        members.delete(member)
        await consumer.disconnect().catch(() => undefined)
      },
    }
  }

  async function drain(timeoutMs = 10_000): Promise<void> {
    const deadline = clock.now() + timeoutMs
    let last = ''
    for (;;) {
      await commitAll()
      const sending = [...outs.values()].some((o) => o.flushing || o.queue.length > 0 || o.timer)
      let behind = 0
      if (!sending) {
        const seen = new Set<string>()
        for (const m of members) {
          const k = `${m.groupId}|${m.topic}`
          if (m.closed || seen.has(k)) continue
          seen.add(k)
          try {
            const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(m.topic), admin.fetchOffsets({ groupId: m.groupId, topics: [m.topic] })])
            const c = new Map((committed[0]?.partitions ?? []).map((x) => [x.partition, Number(x.offset)]))
            for (const e of ends) {
              const at = c.get(e.partition) ?? -1
              const from = at >= 0 ? at : Number(e.low)
              behind += Math.max(0, Number(e.high) - from)
            }
          } catch (err) { behind += 1; last = errorMessage(err) }
        }
      }
      if (!sending && behind === 0 && inFlight === 0) return
      if (clock.now() >= deadline) {
        throw new AppError('TIMEOUT', `kafka bus did not drain within ${timeoutMs} ms (behind ${behind}, in flight ${inFlight}${sending ? ', sending' : ''}${last ? `, ${last}` : ''})`, { retriable: true })
      }
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  function lag(): number {
    let n = 0
    for (const m of members) for (const v of m.lag.values()) n += v
    return n
  }

  const bus: Bus = {
    kind: 'kafka',
    async publish<S extends TSchema>(topic: Topic<S>, msg: Static<S>) {
      if (closed) throw new Error('bus closed')
      await enqueue(prefix + topic.name, [encode(topic, msg)])
    },
    async publishMany<S extends TSchema>(topic: Topic<S>, msgs: readonly Static<S>[]) {
      if (closed) throw new Error('bus closed')
      if (!msgs.length) return
      await enqueue(prefix + topic.name, msgs.map((m) => encode(topic, m)))
    },
    subscribe,
    drain,
    lag,
    health() {
      if (closed) return { ok: false, detail: 'closed' }
      const crashed = [...members].filter((m) => m.crashed)
      if (!producerUp) return { ok: false, detail: 'producer disconnected' }
      if (unreachableSince !== null) return { ok: false, detail: `cluster not reachable for ${Math.round((clock.now() - unreachableSince) / 1000)} s: ${lastProbeError}` }
      if (crashed.length) return { ok: false, detail: `consumer ${crashed[0]!.groupId}: ${crashed[0]!.crashed}` }
      return { ok: true, detail: `lag ${lag()}, ${members.size} consumers` }
    },
    async close() {
      if (closed) return
      clearInterval(probeTimer)
      clearInterval(commitTimer)
      for (const o of outs.values()) { if (o.timer) { clearTimeout(o.timer); o.timer = null; void flush(o) } }
      // Let queued sends finish before the producer goes.
      for (let i = 0; i < 200 && [...outs.values()].some((o) => o.flushing || o.queue.length); i++) await new Promise((r) => setTimeout(r, 25))
      closed = true
      await commitAll().catch(() => undefined)
      await commitAll().catch(() => undefined) // what was handled while a commit already in flight went out
      const ms = [...members]
      members.clear()
      await Promise.allSettled(ms.map(async (m) => { m.closed = true; await m.consumer.disconnect() }))
      await Promise.allSettled([producer.disconnect(), admin.disconnect()])
    },
  }
  return bus
}
