// For stage tests: the in-process bus dressed as a bus with round trips (as Kafka is). Publishes to one
// topic are acknowledged only when the test says so, and the subscription to another topic is captured
// (its handler and beforeCommit), so a test can call the handler itself and watch what waits for what.
import type { Static, TSchema } from 'typebox'
import type { Topic } from '../../contracts/topics.js'
import type { Bus, Handler, MessageMeta } from '../bus.js'
import { createMemoryBus } from '../memory-bus.js'

export interface RoundTripBus<In extends TSchema, Out extends TSchema> {
  bus: Bus
  /** What was published to the gated topic, in call order (acknowledged or not). */
  published: Static<Out>[]
  /** Acknowledges the oldest publish not yet acknowledged. */
  ackOne(): void
  /** Acknowledges every publish so far (before stopping a stage that waits for them). */
  ackAll(): void
  /** The captured subscription to the input topic (after the stage started). */
  input(): { handler: (msg: Static<In>, meta: MessageMeta) => void | Promise<void>; beforeCommit?: () => Promise<void> }
  close(): Promise<void>
}

export function roundTripBus<In extends TSchema, Out extends TSchema>(input: Topic<In>, gated: Topic<Out>): RoundTripBus<In, Out> {
  const inner = createMemoryBus()
  const acks: (() => void)[] = []
  const published: Static<Out>[] = []
  let captured: ReturnType<RoundTripBus<In, Out>['input']> | undefined
  const gate = (msgs: readonly unknown[]): Promise<void> => {
    for (const m of msgs) published.push(m as Static<Out>)
    return new Promise<void>((r) => acks.push(r))
  }
  const bus: Bus = {
    ...inner,
    kind: 'kafka',
    publish: (topic, msg) => (topic.name === gated.name ? gate([msg]) : inner.publish(topic, msg)),
    publishMany: (topic, msgs) => (topic.name === gated.name ? gate(msgs) : inner.publishMany(topic, msgs)),
    async subscribe<S extends TSchema>(topic: Topic<S>, opts: Parameters<Bus['subscribe']>[1], handler: Handler<S>) {
      if (topic.name === input.name) captured = { handler: handler as never, ...(opts.beforeCommit ? { beforeCommit: opts.beforeCommit } : {}) }
      return inner.subscribe(topic, opts, handler)
    },
  }
  return {
    bus,
    published,
    ackOne: () => acks.shift()?.(),
    ackAll: () => { for (const a of acks.splice(0)) a() },
    input: () => {
      if (!captured) throw new Error(`nothing subscribed to ${input.name}`)
      return captured
    },
    async close() {
      for (const a of acks.splice(0)) a()
      await inner.close()
    },
  }
}
