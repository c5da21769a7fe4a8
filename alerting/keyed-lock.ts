// Serialises async work per key (findings, commands and timers touching the same dedup key), so a
// read-modify-write of one warning never interleaves with another. Different keys run concurrently.
export interface KeyedLock {
  /** Run `fn` after every earlier task of `key` has settled; resolves/rejects with `fn`'s result. */
  run<T>(key: string, fn: () => Promise<T>): Promise<T>
  /** Is a task of `key` queued or running? */
  busy(key: string): boolean
  readonly size: number
}

export function createKeyedLock(): KeyedLock {
  const tails = new Map<string, Promise<void>>()
  const noop = (): void => undefined
  return {
    run<T>(key: string, fn: () => Promise<T>): Promise<T> {
      const prev = tails.get(key)
      const p = prev ? prev.then(fn) : fn()
      const tail = p.then(noop, noop)
      tails.set(key, tail)
      void tail.then(() => { if (tails.get(key) === tail) tails.delete(key) })
      return p
    },
    busy: (key) => tails.has(key),
    get size() { return tails.size },
  }
}
