// The bus port. Delivery is at-least-once: handlers must be idempotent. Messages with the same
// topic key are delivered in order within a consumer group. A handler that throws a retriable error
// is retried with a short backoff; a non-retriable error or exhausted retries sends the message with
// its reason to the dead-letter list (`deadLetters` topic) and the consumer moves on.
import type { Static, TSchema } from 'typebox'
import type { Topic } from '../contracts/topics.js'

export interface MessageMeta {
  topic: string
  key: string
  /** Position in the partition (adapter-specific, for logs). */
  offset: string
  partition: number
}

export type Handler<S extends TSchema> = (msg: Static<S>, meta: MessageMeta) => void | Promise<void>

export interface SubscribeOptions {
  /** Consumer group: each group gets every message once; members of a group share the load. */
  group: string
  /** Deliver messages published before the subscription (if the adapter retained them). */
  fromBeginning?: boolean
  /** Called when a message is dead-lettered. */
  onDeadLetter?: (letter: DeadLetter) => void
  /** Called with the partitions this member holds after each group (re)join; only partitioned adapters
   *  (Kafka) call it. The memory bus does not: there one member sees every key it is given. */
  onAssignment?: (partitions: readonly number[]) => void
  /** Adapters that commit offsets (Kafka) call it before each commit and commit only once it resolved:
   *  for a handler that buffers its effect (the history writer), this makes the effect durable first. If
   *  it throws, nothing is committed and the messages since the last commit come again. The memory bus
   *  commits nothing (the ingest journal covers it there) and never calls it. */
  beforeCommit?: () => Promise<void>
  /** How many partitions this member may handle at once when its handler returns a promise (per-key
   *  order holds: a partition's next message waits for the one before). Default 1. The memory bus
   *  honours it per subscription; the Kafka bus handles `partitionsConsumedConcurrently` partitions of
   *  every subscription at once. For handlers that wait on a group commit (alerting's warning store). */
  concurrency?: number
}

export interface DeadLetter {
  topic: string
  key: string
  value: unknown
  error: string
  attempts: number
  at: number
}

export interface Subscription {
  unsubscribe(): Promise<void>
}

export interface Bus {
  readonly kind: string
  publish<S extends TSchema>(topic: Topic<S>, msg: Static<S>): Promise<void>
  publishMany<S extends TSchema>(topic: Topic<S>, msgs: readonly Static<S>[]): Promise<void>
  subscribe<S extends TSchema>(topic: Topic<S>, opts: SubscribeOptions, handler: Handler<S>): Promise<Subscription>
  /** Wait until every message published so far has been handled (memory bus; best effort elsewhere). */
  drain(timeoutMs?: number): Promise<void>
  /** Messages waiting to be handled, for /metrics and backpressure. */
  lag(): number
  health(): { ok: boolean; detail?: string }
  close(): Promise<void>
}
