// Per-gateway token bucket (flood control): `rate` readings/s sustained, bursts up to burstFactor×rate.
// Invariant: a gateway never gets more than capacity + rate×elapsed readings admitted; time is passed in.
import type { RegistryHolder } from '../core/registry/registry-holder.js'
import type { Admission } from './decode.js'

export interface RateLimiterOptions {
  /** Readings/s for a gateway without its own maxRate. Default 5000. */
  defaultRate?: number
  /** Bucket capacity as a multiple of the rate. Default 2. */
  burstFactor?: number
  /** The rate of a gateway; default: its registry maxRate, else defaultRate. */
  rateOf?: (gatewayId: string) => number
}

export interface RateLimiter extends Admission {
  /** Admits up to `n` readings for the gateway at time `now` (epoch ms); returns how many. */
  take(gatewayId: string, n: number, now: number): number
  /** Forget every bucket (e.g. after a registry change of rates). */
  reset(): void
}

interface Bucket { tokens: number; at: number; rate: number }

export const DEFAULT_GATEWAY_RATE = 5000

export function createRateLimiter(opts: RateLimiterOptions = {}): RateLimiter {
  const defaultRate = opts.defaultRate ?? DEFAULT_GATEWAY_RATE
  const burst = opts.burstFactor ?? 2
  const rateOf = opts.rateOf ?? (() => defaultRate)
  const buckets = new Map<string, Bucket>()
  return {
    take(gatewayId, n, now) {
      let b = buckets.get(gatewayId)
      if (!b) {
        const rate = Math.max(1, rateOf(gatewayId))
        b = { tokens: rate * burst, at: now, rate }
        buckets.set(gatewayId, b)
      } else if (now > b.at) {
        b.tokens = Math.min(b.rate * burst, b.tokens + ((now - b.at) / 1000) * b.rate)
        b.at = now
      }
      const admitted = Math.min(n, Math.floor(b.tokens))
      b.tokens -= admitted
      return admitted
    },
    reset() { buckets.clear() },
  }
}

/**
 * Rates from the registry: a gateway's maxRate, else the default; an external-broker pseudo gateway
 * `ext:{enterpriseId}` gets the sum over the enterprise's gateways (it carries all of them).
 */
export function registryRates(registry: RegistryHolder, defaultRate = DEFAULT_GATEWAY_RATE): (gatewayId: string) => number {
  return (gatewayId) => {
    const reg = registry.current()
    const g = reg.gateways.get(gatewayId)
    if (g) return g.maxRate ?? defaultRate
    if (gatewayId.startsWith('ext:')) {
      const gws = reg.gatewaysByEnterprise.get(gatewayId.slice(4))
      if (gws?.length) return gws.reduce((sum, x) => sum + (x.maxRate ?? defaultRate), 0)
    }
    return defaultRate
  }
}
