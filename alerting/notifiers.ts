// Notifications leave alerting two ways: every warning change goes on the bus (`warnings`, pushed to
// browsers by the dashboard), and notifying events go to configured webhooks — POST JSON with a
// timeout, exponential-backoff retries, a bounded queue (oldest dropped first) and metrics.
import type { Contact } from '../core/contracts/registry.js'
import type { EscalationTier, Warning, WarningEvent, WarningEventType } from '../core/contracts/warning.js'
import type { RegistryIndex } from '../core/registry/registry-index.js'
import type { Clock, TimerHandle } from '../core/runtime/clock.js'
import type { Logger } from '../core/runtime/logger.js'
import type { Metrics } from '../core/runtime/metrics.js'
import { errorMessage } from '../core/runtime/errors.js'
import { contactsFor } from './escalation.js'

export interface WebhookConfig {
  url: string
  /** Least severe level sent: 1 = red only … 4 = every level (default 4). */
  minLevel?: number
  headers?: Record<string, string>
}

export interface WebhookDeliveryOptions {
  timeoutMs: number
  /** Attempts per notification and webhook, the first included. */
  maxAttempts: number
  /** Delay before retry n (n ≥ 1) = min(maxDelayMs, baseDelayMs × 2^(n-1)). */
  baseDelayMs: number
  maxDelayMs: number
  /** Deliveries waiting (queued or between retries); beyond it the oldest queued is dropped. */
  queueSize: number
  concurrency: number
}

export const DEFAULT_WEBHOOK_DELIVERY: WebhookDeliveryOptions = {
  timeoutMs: 5000, maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 60_000, queueSize: 1000, concurrency: 4,
}

/** What a webhook receives (the POST body). */
export interface Notification {
  event: WarningEventType
  warning: Warning
  tier: EscalationTier
  contacts: readonly Contact[]
}

/** Events that notify people, most significant first: one notification per change. */
export const NOTIFY_EVENTS: readonly WarningEventType[] = ['escalated_tier', 'escalated_level', 'raised', 'reactivated', 'renotified']

/** The notification a warning change calls for, if any. */
export function notificationFor(w: Warning, events: readonly WarningEvent[], reg: RegistryIndex): Notification | undefined {
  for (const type of NOTIFY_EVENTS) {
    const e = events.find((x) => x.type === type)
    if (!e) continue
    const tier: EscalationTier = e.type === 'raised' ? 'enterprise' : e.tier ?? w.escalationTier
    return { event: e.type, warning: w, tier, contacts: contactsFor(reg, w, tier) }
  }
  return undefined
}

export interface WebhookStats { queued: number; waitingRetry: number; inFlight: number; sent: number; failed: number; dropped: number }

export interface WebhookNotifier {
  /** Queue a notification for every webhook whose minLevel admits it. Never throws. */
  notify(n: Notification): void
  /** Resolves when nothing is queued, waiting for a retry or in flight. */
  idle(): Promise<void>
  /** Stop: drop queued and waiting deliveries, wait for those in flight. */
  stop(): Promise<void>
  stats(): WebhookStats
}

interface Job { hook: WebhookConfig; body: string; attempt: number }

class HttpStatusError extends Error {
  constructor(readonly status: number) { super(`HTTP ${status}`) }
}

function retriable(err: unknown): boolean {
  if (err instanceof HttpStatusError) return err.status >= 500 || err.status === 408 || err.status === 429
  return true // network error, timeout
}

export function createWebhookNotifier(deps: {
  webhooks: readonly WebhookConfig[]
  metrics: Metrics
  logger: Logger
  clock: Clock
  options?: Partial<WebhookDeliveryOptions>
  fetch?: typeof fetch
}): WebhookNotifier {
  const o: WebhookDeliveryOptions = { ...DEFAULT_WEBHOOK_DELIVERY, ...deps.options }
  const doFetch = deps.fetch ?? fetch
  const queue: Job[] = []
  const waiting = new Map<number, { job: Job; timer: TimerHandle }>()
  let nextWait = 1
  let inFlight = 0
  let sent = 0
  let failed = 0
  let dropped = 0
  let stopped = false
  let idleWaiters: (() => void)[] = []
  const count = (result: string): void => { deps.metrics.notificationsSent.inc({ channel: 'webhook', result }) }

  const isIdle = (): boolean => queue.length === 0 && waiting.size === 0 && inFlight === 0
  const checkIdle = (): void => {
    if (idleWaiters.length && isIdle()) { const w = idleWaiters; idleWaiters = []; for (const f of w) f() }
  }

  function enqueue(job: Job): void {
    while (queue.length + waiting.size >= o.queueSize && queue.length > 0) {
      const old = queue.shift()!
      dropped++
      count('dropped')
      deps.logger.warn({ url: old.hook.url }, 'webhook queue full: oldest notification dropped')
    }
    if (queue.length + waiting.size >= o.queueSize) { dropped++; count('dropped'); return }
    queue.push(job)
    pump()
  }

  function pump(): void {
    while (!stopped && inFlight < o.concurrency && queue.length) {
      const job = queue.shift()!
      inFlight++
      void send(job).finally(() => { inFlight--; pump(); checkIdle() })
    }
    checkIdle()
  }

  async function send(job: Job): Promise<void> {
    try {
      const res = await doFetch(job.hook.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...job.hook.headers },
        body: job.body,
        signal: AbortSignal.timeout(o.timeoutMs),
      })
      await res.arrayBuffer().catch(() => undefined)
      if (!res.ok) throw new HttpStatusError(res.status)
      sent++
      count('ok')
    } catch (err) {
      if (!stopped && retriable(err) && job.attempt < o.maxAttempts) {
        count('retry')
        const delay = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** (job.attempt - 1))
        const id = nextWait++
        const timer = deps.clock.setTimeout(() => {
          waiting.delete(id)
          if (!stopped) { queue.push({ ...job, attempt: job.attempt + 1 }); pump() }
          checkIdle()
        }, delay)
        waiting.set(id, { job, timer })
        deps.logger.debug({ url: job.hook.url, attempt: job.attempt, delay, err: errorMessage(err) }, 'webhook failed, will retry')
      } else {
        failed++
        count('failed')
        deps.logger.warn({ url: job.hook.url, attempts: job.attempt, err: errorMessage(err) }, 'webhook notification failed')
      }
    }
  }

  return {
    notify(n) {
      if (stopped || !deps.webhooks.length) return
      let body: string | undefined
      for (const hook of deps.webhooks) {
        if (n.warning.level > (hook.minLevel ?? 4)) continue
        body ??= JSON.stringify({ event: n.event, warning: n.warning, tier: n.tier, contacts: n.contacts })
        enqueue({ hook, body, attempt: 1 })
      }
    },
    idle() {
      if (isIdle()) return Promise.resolve()
      return new Promise((r) => idleWaiters.push(r))
    },
    async stop() {
      stopped = true
      if (queue.length || waiting.size) deps.logger.warn({ queued: queue.length, waiting: waiting.size }, 'webhook deliveries dropped at stop')
      queue.length = 0
      for (const { timer } of waiting.values()) deps.clock.clear(timer)
      waiting.clear()
      checkIdle()
      if (inFlight) await new Promise<void>((r) => idleWaiters.push(r))
    },
    stats: () => ({ queued: queue.length, waitingRetry: waiting.size, inFlight, sent, failed, dropped }),
  }
}
