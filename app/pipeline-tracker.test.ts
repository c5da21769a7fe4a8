import { describe, expect, it } from 'vitest'
import { createMemoryBus } from '../core/bus/memory-bus.js'
import { topics } from '../core/contracts/topics.js'
import { createPipelineTracker } from './pipeline-tracker.js'

const batch = (enterpriseId: string): never => ({ enterpriseId, gatewayId: 'g', receivedAt: 1, items: [] }) as never
const finding = (enterpriseId: string): never => ({ enterpriseId, key: `k-${enterpriseId}` }) as never
const until = async (cond: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 2))
  }
}
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void
  const wait = new Promise<void>((r) => { open = r })
  return { wait, open }
}

describe('pipeline tracker', () => {
  it('holds the watermark until what a handler published synchronously was handled downstream', async () => {
    const t = createPipelineTracker(createMemoryBus({ retryDelayMs: 1 }), 0)
    const g = gate()
    let downstreamDone = 0
    // rules-like: publishes findings before its first await
    await t.bus.subscribe(topics.readings, { group: 'rules' }, async (b) => {
      await t.bus.publishMany(topics.findings, [finding(b.enterpriseId)])
    })
    // alerting-like: its durable effect finishes before its promise resolves
    await t.bus.subscribe(topics.findings, { group: 'alerting' }, async () => { await g.wait; downstreamDone++ })
    const b1 = batch('e1')
    t.tag(b1, 1)
    await t.bus.publish(topics.readings, b1)
    await until(() => t.pending() === 1 && downstreamDone === 0)
    await new Promise((r) => setTimeout(r, 30))
    expect(t.watermark()).toBe(0) // the finding caused by entry 1 is still being handled
    g.open()
    await until(() => downstreamDone === 1)
    await until(() => t.watermark() === 1)
    expect(t.pending()).toBe(0)
  })

  it('keeps entries in order: a later entry done first does not move the watermark past an earlier one', async () => {
    const t = createPipelineTracker(createMemoryBus({ retryDelayMs: 1 }), 10)
    const gates = new Map<string, ReturnType<typeof gate>>([['slow', gate()], ['fast', gate()]])
    await t.bus.subscribe(topics.readings, { group: 'history' }, async (b) => { await gates.get(b.enterpriseId)!.wait })
    const slow = batch('slow')
    const fast = batch('fast')
    t.tag(slow, 11)
    t.tag(fast, 12)
    await t.bus.publish(topics.readings, slow)
    await t.bus.publish(topics.readings, fast)
    gates.get('fast')!.open()
    await new Promise((r) => setTimeout(r, 30))
    expect(t.watermark()).toBe(10)
    gates.get('slow')!.open()
    await until(() => t.watermark() === 12)
  })

  it('does not settle a failed delivery until its retry succeeds, and settles a dead letter', async () => {
    const t = createPipelineTracker(createMemoryBus({ retries: 2, retryDelayMs: 40 }), 0)
    let attempts = 0
    await t.bus.subscribe(topics.readings, { group: 'flaky' }, () => { if (++attempts === 1) throw new Error('transient') })
    const b = batch('e1')
    t.tag(b, 1)
    await t.bus.publish(topics.readings, b)
    await until(() => attempts === 1)
    expect(t.watermark()).toBe(0) // failed once; the retry is pending
    await until(() => attempts === 2)
    await until(() => t.watermark() === 1)

    const t2 = createPipelineTracker(createMemoryBus({ retries: 0, retryDelayMs: 1 }), 0)
    const letters: unknown[] = []
    await t2.bus.subscribe(topics.readings, { group: 'broken', onDeadLetter: (l) => letters.push(l) }, () => { throw new TypeError('bug') })
    const b2 = batch('e2')
    t2.tag(b2, 1)
    await t2.bus.publish(topics.readings, b2)
    await until(() => letters.length === 1)
    expect(t2.watermark()).toBe(1)
  })

  it('does not attribute publishes outside a handler (timers, other origins) to an entry', async () => {
    const t = createPipelineTracker(createMemoryBus({ retryDelayMs: 1 }), 0)
    const g = gate()
    await t.bus.subscribe(topics.findings, { group: 'alerting' }, async () => { await g.wait })
    await t.bus.subscribe(topics.readings, { group: 'rules' }, () => undefined)
    const b = batch('e1')
    t.tag(b, 1)
    await t.bus.publish(topics.readings, b)
    await t.bus.publish(topics.findings, finding('e1')) // not caused by entry 1
    await until(() => t.watermark() === 1)
    g.open()
  })
})
