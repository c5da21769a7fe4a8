// Follows each journaled batch through the in-process bus: a message published while a tagged message
// is being handled (findings from readings, warnings from findings…) inherits its origin, and the
// origin is done when every delivery it caused has been handled (or dead-lettered). Invariant:
// `watermark()` never passes a sequence with a delivery still pending, so checkpointing at it is safe.
import { AsyncLocalStorage } from 'node:async_hooks'
import type { TSchema } from 'typebox'
import type { Bus, Handler, SubscribeOptions } from '../core/bus/bus.js'

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

export function createPipelineTracker(inner: Bus, initialSeq = 0): PipelineTracker {
  const als = new AsyncLocalStorage<number>()
  const origin = new WeakMap<object, number>()
  const counts = new Map<number, number>() // seq -> deliveries outstanding; insertion order = seq order
  const groups = new Map<string, Map<string, number>>() // topic -> group -> members
  let highest = initialSeq

  const live = (topic: string): number => {
    let n = 0
    for (const m of groups.get(topic)?.values() ?? []) if (m > 0) n++
    return n
  }
  const settle = (seq: number, by: number): void => {
    const c = counts.get(seq)
    if (c === undefined) return
    counts.set(seq, Math.max(0, c + by)) // kept (at 0) until watermark() retires it, preserving order
  }
  const note = (seq: number): void => { if (seq > highest) highest = seq }
  const account = (topic: string, msgs: readonly unknown[]): void => {
    const ctx = als.getStore()
    for (const m of msgs) {
      if (typeof m !== 'object' || m === null) continue
      const seq = origin.get(m) ?? ctx
      // A retired origin (already fully handled) is not tracked again: later side effects of it are
      // not needed for its durability, and re-adding would break the seq order of `counts`.
      if (seq === undefined || !counts.has(seq)) continue
      origin.set(m, seq)
      const n = live(topic)
      if (n > 0) counts.set(seq, (counts.get(seq) ?? 0) + n)
    }
  }
  const originOf = (msg: unknown): number | undefined => (typeof msg === 'object' && msg !== null ? origin.get(msg) : undefined)

  const bus: Bus = {
    kind: inner.kind,
    publish(topic, msg) { account(topic.name, [msg]); return inner.publish(topic, msg) },
    publishMany(topic, msgs) { account(topic.name, msgs); return inner.publishMany(topic, msgs) },
    async subscribe<S extends TSchema>(topic: Parameters<Bus['subscribe']>[0], opts: SubscribeOptions, handler: Handler<S>) {
      let gs = groups.get(topic.name)
      if (!gs) { gs = new Map(); groups.set(topic.name, gs) }
      gs.set(opts.group, (gs.get(opts.group) ?? 0) + 1)
      const wrapped: Handler<S> = async (msg, meta) => {
        const seq = originOf(msg)
        if (seq === undefined) return handler(msg, meta)
        await als.run(seq, () => handler(msg, meta))
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
    tag(msg, seq) { note(seq); origin.set(msg, seq); counts.set(seq, counts.get(seq) ?? 0) },
    note,
    watermark() {
      // Tagged seqs with nothing pending are removed lazily, oldest first.
      for (const [seq, c] of counts) {
        if (c > 0) return seq - 1
        counts.delete(seq)
      }
      return highest
    },
    pending: () => counts.size,
  }
}
