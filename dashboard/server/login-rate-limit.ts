// Login throttling: failures counted per (ip, username) and per ip in a sliding window; when either
// reaches its limit, further attempts are refused until the oldest failure leaves the window. A
// success clears only its (ip, username) pair. Memory is bounded (oldest keys evicted).
import type { Clock } from '../../core/runtime/clock.js'

export interface LoginRateLimitOptions {
  windowMs?: number
  /** Failures per (ip, username) within the window. */
  maxPerUser?: number
  /** Failures per ip (any username) within the window. */
  maxPerIp?: number
  maxKeys?: number
}

export interface LoginRateLimiter {
  /** Milliseconds until another attempt is allowed, 0 when allowed now. */
  retryAfterMs(ip: string, username: string): number
  failure(ip: string, username: string): void
  success(ip: string, username: string): void
}

export function createLoginRateLimiter(clock: Clock, opts: LoginRateLimitOptions = {}): LoginRateLimiter {
  const windowMs = opts.windowMs ?? 60_000
  const maxPerUser = opts.maxPerUser ?? 5
  const maxPerIp = opts.maxPerIp ?? 20
  const maxKeys = opts.maxKeys ?? 50_000
  const failures = new Map<string, number[]>()

  const pairKey = (ip: string, u: string): string => `u\u0000${ip}\u0000${u.toLowerCase()}`
  const ipKey = (ip: string): string => `i\u0000${ip}`

  function recent(key: string, now: number): number[] {
    const list = failures.get(key)
    if (!list) return []
    const kept = list.filter((t) => t > now - windowMs)
    if (kept.length) failures.set(key, kept)
    else failures.delete(key)
    return kept
  }

  function wait(key: string, max: number, now: number): number {
    const list = recent(key, now)
    if (list.length < max) return 0
    return list[list.length - max]! + windowMs - now
  }

  function add(key: string, now: number): void {
    const list = recent(key, now)
    list.push(now)
    failures.delete(key)
    failures.set(key, list) // re-insert: Map order = least recently failed first
    while (failures.size > maxKeys) failures.delete(failures.keys().next().value as string)
  }

  return {
    retryAfterMs(ip, username) {
      const now = clock.now()
      return Math.max(wait(pairKey(ip, username), maxPerUser, now), wait(ipKey(ip), maxPerIp, now))
    },
    failure(ip, username) {
      const now = clock.now()
      add(pairKey(ip, username), now)
      add(ipKey(ip), now)
    },
    success(ip, username) {
      failures.delete(pairKey(ip, username))
    },
  }
}
