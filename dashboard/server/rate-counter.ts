// Events per second over a sliding window of whole seconds (ring of per-second buckets), on an
// injected clock. The current, incomplete second is not counted, so the rate does not jitter.
export interface RateCounter {
  add(n: number, nowMs: number): void
  /** Mean events per second over the last `windowSeconds` complete seconds. */
  rate(nowMs: number): number
}

export function createRateCounter(windowSeconds = 10): RateCounter {
  const size = windowSeconds + 1
  const counts = new Array<number>(size).fill(0)
  const seconds = new Array<number>(size).fill(-1)
  return {
    add(n, nowMs) {
      const s = Math.floor(nowMs / 1000)
      const i = s % size
      if (seconds[i] !== s) { seconds[i] = s; counts[i] = 0 }
      counts[i]! += n
    },
    rate(nowMs) {
      const cur = Math.floor(nowMs / 1000)
      let sum = 0
      for (let i = 0; i < size; i++) {
        const s = seconds[i]!
        if (s < cur && s >= cur - windowSeconds) sum += counts[i]!
      }
      return sum / windowSeconds
    },
  }
}
