// Escalation of unacknowledged warnings: re-notify on a schedule by level, and when the ack deadline
// passes move up one tier (enterprise → county → city → province, skipping tiers the region chain lacks)
// with a new deadline. escalationStep is pure; createEscalator runs it on a Clock interval.
import type { WarningLevel } from '../core/contracts/levels.js'
import type { Contact } from '../core/contracts/registry.js'
import type { EscalationTier, Warning, WarningEvent, WarningEventType } from '../core/contracts/warning.js'
import { ESCALATION_TIERS } from '../core/contracts/warning.js'
import { iso } from '../core/contracts/time.js'
import type { RegistryIndex } from '../core/registry/registry-index.js'
import type { Clock, TimerHandle } from '../core/runtime/clock.js'
import { appendEvents, DEFAULT_ACK_TIMEOUT_MS } from './lifecycle.js'

export const DEFAULT_RENOTIFY_MS: Readonly<Record<WarningLevel, number>> = { 1: 60_000, 2: 5 * 60_000, 3: 15 * 60_000, 4: 30 * 60_000 }

export interface EscalationPolicy {
  ackTimeoutMs: Readonly<Record<WarningLevel, number>>
  renotifyMs: Readonly<Record<WarningLevel, number>>
  /** Time to acknowledge once escalated to a tier; default the level's ack timeout. */
  tierTimeoutMs: Readonly<Partial<Record<EscalationTier, number>>>
  maxEvents: number
}

export const DEFAULT_ESCALATION_POLICY: EscalationPolicy = {
  ackTimeoutMs: DEFAULT_ACK_TIMEOUT_MS,
  renotifyMs: DEFAULT_RENOTIFY_MS,
  tierTimeoutMs: {},
  maxEvents: 1000,
}

/** ackDeadline of a warning raised at `raisedAtMs` with `level`. */
export function ackDeadline(raisedAtMs: number, level: WarningLevel, policy: Pick<EscalationPolicy, 'ackTimeoutMs'> = DEFAULT_ESCALATION_POLICY): string {
  return iso(raisedAtMs + policy.ackTimeoutMs[level])
}

/** The region chain of a warning: its enterprise's region and ancestors (nearest first). */
function chain(reg: RegistryIndex, w: Pick<Warning, 'enterpriseId' | 'regionId'>) {
  return reg.ancestors(reg.enterprises.get(w.enterpriseId)?.regionId ?? w.regionId)
}

/** The next tier above the warning's that has a region in its chain, or undefined at the top. */
export function nextTier(reg: RegistryIndex, w: Pick<Warning, 'enterpriseId' | 'regionId' | 'escalationTier'>): EscalationTier | undefined {
  const levels = new Set(chain(reg, w).map((r) => r.level))
  for (let i = ESCALATION_TIERS.indexOf(w.escalationTier) + 1; i < ESCALATION_TIERS.length; i++) {
    const t = ESCALATION_TIERS[i]!
    if (levels.has(t as never)) return t
  }
  return undefined
}

/** Who to tell at a tier: the enterprise's contacts, or those of the region of that level in the chain. */
export function contactsFor(reg: RegistryIndex, w: Pick<Warning, 'enterpriseId' | 'regionId'>, tier: EscalationTier): Contact[] {
  if (tier === 'enterprise') return [...(reg.enterprises.get(w.enterpriseId)?.contacts ?? [])]
  return [...(chain(reg, w).find((r) => r.level === tier)?.contacts ?? [])]
}

const NOTIFYING: ReadonlySet<WarningEventType> = new Set(['raised', 'reactivated', 'escalated_level', 'renotified', 'escalated_tier'])

/** When someone was last told about this warning (the newest notifying event). */
export function lastNotifiedAt(w: Pick<Warning, 'events' | 'raisedAt'>): number {
  for (let i = w.events.length - 1; i >= 0; i--) {
    const e = w.events[i]!
    if (NOTIFYING.has(e.type)) return Date.parse(e.at)
  }
  return Date.parse(w.raisedAt)
}

export interface EscalationStep {
  warning: Warning
  event: WarningEvent
  /** The tier notified by this step. */
  tier: EscalationTier
}

/** What the timer does to one warning now: nothing (undefined), a tier escalation, or a re-notification. */
export function escalationStep(w: Warning, now: number, reg: RegistryIndex, policy: EscalationPolicy = DEFAULT_ESCALATION_POLICY): EscalationStep | undefined {
  if (w.status !== 'open') return undefined
  if (now >= Date.parse(w.ackDeadline)) {
    const tier = nextTier(reg, w)
    if (tier) {
      const at = iso(now)
      const event: WarningEvent = { type: 'escalated_tier', at, tier, level: w.level }
      const warning: Warning = {
        ...w, escalationTier: tier, ackDeadline: iso(now + (policy.tierTimeoutMs[tier] ?? policy.ackTimeoutMs[w.level])),
        updatedAt: at, version: w.version + 1, events: appendEvents(w.events, [event], policy.maxEvents),
      }
      return { warning, event, tier }
    }
  }
  if (now >= lastNotifiedAt(w) + policy.renotifyMs[w.level]) {
    const at = iso(now)
    const event: WarningEvent = { type: 'renotified', at, tier: w.escalationTier, level: w.level }
    const warning: Warning = {
      ...w, notifications: w.notifications + 1, updatedAt: at, version: w.version + 1,
      events: appendEvents(w.events, [event], policy.maxEvents),
    }
    return { warning, event, tier: w.escalationTier }
  }
  return undefined
}

export interface Escalator {
  start(): void
  stop(): void
  /** One check of every open warning (the interval calls this). */
  tick(): void
}

/** The first time escalationStep(w, t, reg, policy) has a step (Infinity: never while `w` is as it is):
 *  the ack deadline when there is a tier above, else or earlier the next re-notification. */
export function escalationDueAt(w: Warning, reg: RegistryIndex, policy: EscalationPolicy = DEFAULT_ESCALATION_POLICY): number {
  if (w.status !== 'open') return Infinity
  const deadline = Date.parse(w.ackDeadline)
  const tierDue = Number.isNaN(deadline) || !nextTier(reg, w) ? Infinity : deadline
  const renotify = lastNotifiedAt(w) + policy.renotifyMs[w.level]
  return Math.min(tierDue, Number.isNaN(renotify) ? Infinity : renotify)
}

/** Runs `due(warning)` for every open warning that has an escalation step now, every `intervalMs`.
 * The callback re-evaluates under its own lock, so a step in flight is never applied twice. Each
 * warning's due time is worked out once per warning object (a change makes a new object) and registry:
 * the check of every open warning every second parsed two dates and formatted one per warning, 5–9 ms
 * of the event loop with a few thousand open warnings. */
export function createEscalator(deps: {
  clock: Clock
  registry: () => RegistryIndex
  policy: EscalationPolicy
  warnings: () => Iterable<Warning>
  due: (w: Warning) => void
  intervalMs?: number
}): Escalator {
  let timer: TimerHandle | undefined
  let dueAt = new WeakMap<Warning, number>()
  let dueReg: RegistryIndex | undefined
  const tick = (): void => {
    const now = deps.clock.now()
    const reg = deps.registry()
    if (reg !== dueReg) { dueAt = new WeakMap(); dueReg = reg }
    for (const w of deps.warnings()) {
      let t = dueAt.get(w)
      if (t === undefined) dueAt.set(w, (t = escalationDueAt(w, reg, deps.policy)))
      if (now >= t) deps.due(w)
    }
  }
  return {
    start() { if (!timer) timer = deps.clock.setInterval(tick, deps.intervalMs ?? 1000) },
    stop() { if (timer) { deps.clock.clear(timer); timer = undefined } },
    tick,
  }
}
