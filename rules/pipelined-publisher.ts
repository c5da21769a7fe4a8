// Publishes items in order without making the caller wait for each publish: what is added while one
// publish is in flight goes out together in the next. `settled()` resolves once everything added before
// the call is acknowledged (the caller commits its input offsets then). A failed publish is retried with
// the same items in the same place (nothing overtakes it) for as long as the owner runs.

export interface PipelinedPublisher<T> {
  /** Queues items. Returns a promise only when the unacknowledged backlog is over its limit: the caller
   *  awaits it (backpressure); otherwise nothing to wait for. */
  add(items: readonly T[]): Promise<void> | undefined
  /** Resolves when every item added so far is acknowledged; rejects if they were given up. */
  settled(): Promise<void>
  /** Items added and not yet acknowledged. */
  backlog(): number
}

export interface PipelinedPublisherOptions<T> {
  publish(items: T[]): Promise<void>
  /** While false, a failed publish is given up (its items are not acknowledged) instead of retried. */
  isRunning(): boolean
  onRetry?(err: unknown, attempt: number): void
  /** Backlog at which add() asks the caller to wait; default 10,000. */
  maxBacklog?: number
  /** Delay before retry `attempt` (1, 2, …); default 100 ms doubling up to 5 s. */
  retryDelayMs?(attempt: number): number
}

interface Waiter { upTo: number; resolve(): void; reject(err: unknown): void }

const RESOLVED = Promise.resolve()

export function createPipelinedPublisher<T>(o: PipelinedPublisherOptions<T>): PipelinedPublisher<T> {
  const maxBacklog = Math.max(1, o.maxBacklog ?? 10_000)
  const delay = o.retryDelayMs ?? ((attempt: number) => Math.min(5000, 100 * 2 ** (attempt - 1)))
  let buffer: T[] = []
  let added = 0 // items ever added
  let acked = 0 // items acknowledged, in order (always a prefix of those added)
  let running = false
  let waiters: Waiter[] = []

  const release = (): void => {
    if (!waiters.length) return
    const still: Waiter[] = []
    for (const w of waiters) if (w.upTo <= acked) w.resolve(); else still.push(w)
    waiters = still
  }

  async function drain(): Promise<void> {
    running = true
    try {
      while (buffer.length) {
        const items = buffer
        buffer = []
        for (let attempt = 1; ; attempt++) {
          try {
            await o.publish(items)
            break
          } catch (err) {
            if (!o.isRunning()) {
              // Given up: these and everything queued behind them stay unacknowledged.
              const w = waiters
              waiters = []
              added = acked
              buffer = []
              for (const x of w) x.reject(err)
              return
            }
            o.onRetry?.(err, attempt)
            await new Promise((r) => setTimeout(r, delay(attempt)))
          }
        }
        acked += items.length
        release()
      }
    } finally {
      running = false
    }
  }

  const settled = (): Promise<void> => {
    if (acked >= added) return RESOLVED
    return new Promise<void>((resolve, reject) => { waiters.push({ upTo: added, resolve, reject }) })
  }

  return {
    add(items) {
      if (!items.length) return undefined
      for (const x of items) buffer.push(x)
      added += items.length
      if (!running) void drain()
      return added - acked > maxBacklog ? settled() : undefined
    },
    settled,
    backlog: () => added - acked,
  }
}
