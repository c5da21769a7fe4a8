// Follows each journaled batch through the in-process bus: a message published by a handler while it
// handles a tagged message (findings from readings…) inherits its origin, and the origin is done when
// every delivery it caused has been handled (or dead-lettered). Invariant: `watermark()` never passes a
// sequence with a delivery still pending, so checkpointing at it is safe.
//
// "While it handles" means the synchronous part of the handler, up to its first `await`: the origin is
// a plain variable set around that call, not an AsyncLocalStorage (whose promise hooks cost ~9 % of the
// pipeline's CPU at 20,000 messages/s). Durability therefore rests on two rules the stages keep: what
// must be tracked is published before the handler's first await (rules publish their findings so), and
// a handler's promise resolves only after its own durable effect is done (alerting stores the warning
// before its findings handler resolves). What is published later (alerting's `warnings` for the live
// view and the rules' takeover state) is not tracked: losing it in a crash loses nothing stored.
import type { TSchema } from 'typebox'
import type { Bus, Handler, SubscribeOptions } from '../core/bus/bus.js'
import { createSeqCounts } from './seq-counts.js'

export interface PipelineTracker {
  /** The bus every stage must use (wraps the in-process bus). */
  bus: Bus
  /** Mark `msg` (about to be published) as caused by journal entry `seq`; seqs must be tagged in increasing order. */
  tag(msg: object, seq: number): void
  /** Declare `seq` known (e.g. rejection-only entries that publish nothing). */
  note(seq: number): void
  /** Highest seq such that every seq at or below it is fully handled. */
  watermark(): number
  pending(): number
}

/** Where a message's origin is kept: a symbol-keyed property on the message itself rather than a
 *  WeakMap entry per message (ephemeron entries are costly for the young-generation GC at tens of
 *  thousands of messages a second). Symbol keys are invisible to JSON and structured clone, so the
 *  journal, the telemetry worker and the web client never see it. */
const ORIGIN = Symbol('yujing.origin')
type Tagged = { [ORIGIN]?: number }

export function createPipelineTracker(inner: Bus, initialSeq = 0): PipelineTracker {
  let current: number | undefined // origin of the handler now running synchronously
  const counts = createSeqCounts() // seq -> deliveries outstanding, oldest first
  const groups = new Map<string, Map<string, number>>() // topic -> group -> members
  let highest = initialSeq

  const live = (topic: string): number => {
    let n = 0
    for (const m of groups.get(topic)?.values() ?? []) if (m > 0) n++
    return n
  }
  const settle = (seq: number, by: number): void => counts.adjust(seq, by) // kept (at 0) until watermark() retires it
  const note = (seq: number): void => { if (seq > highest) highest = seq }
  const accountOne = (topic: string, m: unknown, ctx: number | undefined): void => {
    if (typeof m !== 'object' || m === null) return
    const seq = (m as Tagged)[ORIGIN] ?? ctx
    // A retired origin (already fully handled) is not tracked again: later side effects of it are
    // not needed for its durability, and re-adding would break the seq order of `counts`.
    if (seq === undefined) return
    const c = counts.get(seq)
    if (c === undefined) return
    ;(m as Tagged)[ORIGIN] = seq
    const n = live(topic)
    if (n > 0) counts.adjust(seq, n)
  }
  const originOf = (msg: unknown): number | undefined => (typeof msg === 'object' && msg !== null ? (msg as Tagged)[ORIGIN] : undefined)

  const bus: Bus = {
    kind: inner.kind,
    publish(topic, msg) { accountOne(topic.name, msg, current); return inner.publish(topic, msg) },
    publishMany(topic, msgs) { for (const m of msgs) accountOne(topic.name, m, current); return inner.publishMany(topic, msgs) },
    async subscribe<S extends TSchema>(topic: Parameters<Bus['subscribe']>[0], opts: SubscribeOptions, handler: Handler<S>) {
      let gs = groups.get(topic.name)
      if (!gs) { gs = new Map(); groups.set(topic.name, gs) }
      gs.set(opts.group, (gs.get(opts.group) ?? 0) + 1)
      // Not an async function: a handler that returns synchronously costs no promise.
      const wrapped: Handler<S> = (msg, meta) => {
        const seq = originOf(msg)
        if (seq === undefined) return handler(msg, meta)
        const outer = current
        current = seq
        let r: void | Promise<void>
        try { r = handler(msg, meta) } finally { current = outer }
        // Not on a throw or a rejection: the bus retries, or settles it as a dead letter.
        if (r && typeof (r as Promise<void>).then === 'function') return (r as Promise<void>).then(() => settle(seq, -1))
        settle(seq, -1)
      }
      const sub = await inner.subscribe(topic as never, {
        ...opts,
        onDeadLetter: (letter) => {
          const seq = originOf(letter.value)
          if (seq !== undefined) settle(seq, -1)
          opts.onDeadLetter?.(letter)
        },
      }, wrapped as never)
      let gone = false
      return {
        async unsubscribe() {
          if (!gone) { gone = true; gs.set(opts.group, (gs.get(opts.group) ?? 1) - 1) }
          await sub.unsubscribe()
        },
      }
    },
    drain: (t) => inner.drain(t),
    lag: () => inner.lag(),
    health: () => inner.health(),
    close: () => inner.close(),
  }

  return {
    bus,
    tag(msg, seq) { note(seq); (msg as Tagged)[ORIGIN] = seq; counts.add(seq) },
    note,
    watermark() {
      // Tagged seqs with nothing pending are retired lazily, oldest first.
      const oldest = counts.oldestPending()
      return oldest === undefined ? highest : oldest - 1
    },
    pending: () => counts.size(),
  }
}
