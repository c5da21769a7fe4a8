import { describe, expect, it } from 'vitest'
import { createPipelinedPublisher } from './pipelined-publisher.js'

interface Call { items: number[]; resolve(): void; reject(err: Error): void }

/** A publish whose acknowledgements the test gives by hand. */
function manualPublish(): { calls: Call[]; publish(items: number[]): Promise<void> } {
  const calls: Call[] = []
  return {
    calls,
    publish: (items) => new Promise<void>((resolve, reject) => { calls.push({ items: [...items], resolve, reject }) }),
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r))

describe('pipelined publisher', () => {
  it('does not make the caller wait: what is added during a publish goes out together, in order', async () => {
    const m = manualPublish()
    const p = createPipelinedPublisher({ publish: m.publish, isRunning: () => true })
    expect(p.add([1])).toBeUndefined()
    expect(p.add([2, 3])).toBeUndefined()
    expect(p.add([4])).toBeUndefined()
    expect(m.calls.map((c) => c.items)).toEqual([[1]]) // one publish in flight
    m.calls[0]!.resolve()
    await tick()
    expect(m.calls.map((c) => c.items)).toEqual([[1], [2, 3, 4]])
    expect(p.backlog()).toBe(3)
  })

  it('settled() waits for what was added before it, not for what comes after', async () => {
    const m = manualPublish()
    const p = createPipelinedPublisher({ publish: m.publish, isRunning: () => true })
    p.add([1])
    p.add([2])
    let done = false
    const s = p.settled().then(() => { done = true })
    p.add([3]) // after settled(): not waited for
    m.calls[0]!.resolve() // [1]
    await tick()
    expect(done).toBe(false) // [2] is not acknowledged yet
    m.calls[1]!.resolve() // [2, 3]
    await s
    expect(done).toBe(true)
    expect(p.backlog()).toBe(0)
    await expect(p.settled()).resolves.toBeUndefined()
  })

  it('a failed publish is retried with the same items before anything queued behind it', async () => {
    const m = manualPublish()
    const retries: number[] = []
    const p = createPipelinedPublisher({ publish: m.publish, isRunning: () => true, retryDelayMs: () => 1, onRetry: (_e, n) => retries.push(n) })
    p.add([1, 2])
    p.add([3])
    const s = p.settled()
    m.calls[0]!.reject(new Error('broker down'))
    await new Promise((r) => setTimeout(r, 20))
    expect(m.calls.map((c) => c.items)).toEqual([[1, 2], [1, 2]])
    m.calls[1]!.resolve()
    await tick()
    expect(m.calls[2]!.items).toEqual([3])
    m.calls[2]!.resolve()
    await s
    expect(retries).toEqual([1])
  })

  it('once its owner stops, a failing publish is given up and settled() rejects (the input stays uncommitted)', async () => {
    const m = manualPublish()
    let running = true
    const p = createPipelinedPublisher({ publish: m.publish, isRunning: () => running, retryDelayMs: () => 1 })
    p.add([1])
    const s = p.settled()
    running = false
    m.calls[0]!.reject(new Error('broker down'))
    await expect(s).rejects.toThrow('broker down')
    expect(p.backlog()).toBe(0)
  })

  it('asks the caller to wait once the backlog is over its limit', async () => {
    const m = manualPublish()
    const p = createPipelinedPublisher({ publish: m.publish, isRunning: () => true, maxBacklog: 3 })
    expect(p.add([1, 2])).toBeUndefined()
    expect(p.add([3])).toBeUndefined()
    const wait = p.add([4])
    expect(wait).toBeInstanceOf(Promise)
    let released = false
    void wait!.then(() => { released = true })
    m.calls[0]!.resolve() // [1, 2]
    await tick()
    expect(released).toBe(false)
    m.calls[1]!.resolve() // [3, 4]
    await tick()
    expect(released).toBe(true)
  })
})
