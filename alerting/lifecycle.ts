// Pure warning lifecycle (ThingsBoard shape): apply(warning | undefined, input, now) → {warning,
// changed, events}. One warning per dedup key while not closed, updated in place; `level` never drops
// while open; ids are deterministic from (dedupKey, episode) and every change bumps `version`.
import type { WarningLevel } from '../core/contracts/levels.js'
import { COLOR_OF_LEVEL } from '../core/contracts/levels.js'
import type { Finding } from '../core/contracts/finding.js'
import type { WarningCommand } from '../core/contracts/command.js'
import type { Outcome, Warning, WarningEvent, WarningEventType } from '../core/contracts/warning.js'
import { iso } from '../core/contracts/time.js'

export const DEFAULT_ACK_TIMEOUT_MS: Readonly<Record<WarningLevel, number>> = { 1: 5 * 60_000, 2: 15 * 60_000, 3: 30 * 60_000, 4: 60 * 60_000 }
export const DEFAULT_MAINTENANCE_MUTE_MS = 2 * 3600_000

export interface LifecyclePolicy {
  /** Time to acknowledge, by level: ackDeadline = raisedAt + this. */
  ackTimeoutMs: Readonly<Record<WarningLevel, number>>
  /** After a close with outcome `maintenance`, active findings of that key are ignored this long. */
  maintenanceMuteMs: number
  /** Bound on `events`; beyond it the oldest repeatable events (renotified, cleared, reactivated,
   * occurred) are dropped. The counters `occurrences` and `notifications` keep the totals. */
  maxEvents: number
}

export const DEFAULT_LIFECYCLE_POLICY: LifecyclePolicy = {
  ackTimeoutMs: DEFAULT_ACK_TIMEOUT_MS,
  maintenanceMuteMs: DEFAULT_MAINTENANCE_MUTE_MS,
  maxEvents: 1000,
}

/** What is known about the last episode of a key when no warning is open for it. */
export interface PreviousEpisode {
  /** Number of the last episode (0 when the key never had a warning). */
  episode: number
  /** When it was closed, epoch ms. */
  closedAtMs?: number
  outcome?: Outcome
}

export type LifecycleInput =
  | { type: 'finding'; finding: Finding; previous?: PreviousEpisode }
  | { type: 'command'; command: WarningCommand }

export interface LifecycleError { code: 'NOT_FOUND' | 'CONFLICT' | 'BAD_REQUEST'; status: 404 | 409 | 400; message: string }

export interface LifecycleResult {
  /** The warning after the input (the input warning itself when nothing changed). */
  warning: Warning | undefined
  changed: boolean
  /** Events added by this step (also appended to warning.events). */
  events: WarningEvent[]
  error?: LifecycleError
  /** Set when an active finding was ignored because its key is muted after a maintenance close. */
  muted?: boolean
}

// ---- ids ------------------------------------------------------------------------------------------

function fnv1a(s: string, seed: number): string {
  let h = seed >>> 0
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619)
  return (h >>> 0).toString(16).padStart(8, '0')
}

/** Deterministic warning id: a readable slug of the key, a 64-bit hash of it, and the episode. */
export function warningId(dedupKey: string, episode: number): string {
  const slug = dedupKey.replace(/[^A-Za-z0-9_.:-]+/g, '.').replace(/^[^A-Za-z0-9]+/, '').slice(0, 80)
  return `${slug || 'w'}-${fnv1a(dedupKey, 2166136261)}${fnv1a(dedupKey, 0x811c9dc5 ^ 0x5bd1e995)}-${episode}`
}

/** The episode number in a warning id made by warningId (0 if it has none). */
export function episodeOf(id: string): number {
  const m = /-(\d+)$/.exec(id)
  return m ? Number(m[1]) : 0
}

// ---- helpers --------------------------------------------------------------------------------------

const TRIMMABLE: ReadonlySet<WarningEventType> = new Set(['renotified', 'cleared', 'reactivated', 'occurred'])

/** Append events, keeping at most `max` by dropping the oldest repeatable ones. */
export function appendEvents(events: readonly WarningEvent[], added: readonly WarningEvent[], max: number): WarningEvent[] {
  const all = [...events, ...added]
  let excess = all.length - max
  if (excess <= 0) return all
  const out: WarningEvent[] = []
  for (const e of all) {
    if (excess > 0 && TRIMMABLE.has(e.type)) { excess--; continue }
    out.push(e)
  }
  return out
}

/** Direction of a crossing: below its threshold means a low limit (oxygen, a pressure drop, a
 * negative rate), anything else (or no threshold) a high one. */
export function isLowCrossing(value: number, threshold: number | undefined): boolean {
  return threshold !== undefined && value < threshold
}

/** A new peak: the value is beyond the warning's peak in the direction of the crossing
 * (max for high limits, min for low ones). */
export function isNewPeak(w: Pick<Warning, 'peakValue'>, f: Pick<Finding, 'value' | 'threshold'>): boolean {
  if (f.value === undefined) return false
  if (w.peakValue === undefined) return true
  return isLowCrossing(f.value, f.threshold) ? f.value < w.peakValue : f.value > w.peakValue
}

function changedWarning(w: Warning, patch: Partial<Warning>, added: WarningEvent[], now: number, policy: LifecyclePolicy): LifecycleResult {
  const next: Warning = { ...w, ...patch, updatedAt: iso(now), version: w.version + 1 }
  if (added.length) next.events = appendEvents(w.events, added, policy.maxEvents)
  return { warning: next, changed: true, events: added }
}

const unchanged = (w: Warning | undefined, extra: Partial<LifecycleResult> = {}): LifecycleResult => ({ warning: w, changed: false, events: [], ...extra })

function fail(w: Warning | undefined, code: LifecycleError['code'], message: string): LifecycleResult {
  const status = code === 'NOT_FOUND' ? 404 : code === 'CONFLICT' ? 409 : 400
  return { warning: w, changed: false, events: [], error: { code, status, message } }
}

// ---- findings -------------------------------------------------------------------------------------

function raise(f: Finding, level: WarningLevel, episode: number, now: number, policy: LifecyclePolicy): LifecycleResult {
  const at = iso(now)
  const ev: WarningEvent = { type: 'raised', at, level }
  const w: Warning = {
    id: warningId(f.key, episode),
    level,
    color: COLOR_OF_LEVEL[level],
    status: 'open',
    active: true,
    currentLevel: level,
    ackDeadline: iso(now + policy.ackTimeoutMs[level]),
    escalationTier: 'enterprise',
    kind: f.kind,
    ruleId: f.ruleId,
    dedupKey: f.key,
    enterpriseId: f.enterpriseId,
    regionId: f.regionId,
    title: f.title,
    occurrences: 1,
    raisedAt: at,
    updatedAt: at,
    notifications: 0,
    version: 1,
    events: [ev],
  }
  if (f.sensorId !== undefined) w.sensorId = f.sensorId
  if (f.gatewayId !== undefined) w.gatewayId = f.gatewayId
  if (f.value !== undefined) { w.value = f.value; w.peakValue = f.value }
  if (f.threshold !== undefined) w.threshold = f.threshold
  return { warning: w, changed: true, events: [ev] }
}

function applyFinding(w: Warning | undefined, f: Finding, previous: PreviousEpisode | undefined, now: number, policy: LifecyclePolicy): LifecycleResult {
  if (f.active && f.level === null) return unchanged(w)
  if (!w || w.status === 'closed') {
    if (!f.active || f.level === null) return unchanged(w)
    const prev: PreviousEpisode = w
      ? { episode: Math.max(episodeOf(w.id), previous?.episode ?? 0), ...(w.closedAt ? { closedAtMs: Date.parse(w.closedAt) } : {}), ...(w.outcome ? { outcome: w.outcome } : {}) }
      : previous ?? { episode: 0 }
    if (prev.closedAtMs !== undefined) {
      if (prev.outcome === 'maintenance' && now < prev.closedAtMs + policy.maintenanceMuteMs) return unchanged(w, { muted: true })
      // a reading that reached ingest before the close belongs to the closed episode (in flight or replayed)
      if (f.receivedAt !== undefined && f.receivedAt < prev.closedAtMs) return unchanged(w)
    }
    return raise(f, f.level, prev.episode + 1, now, policy)
  }

  if (!f.active) {
    if (!w.active) return unchanged(w)
    const ev: WarningEvent = { type: 'cleared', at: iso(now) }
    return changedWarning(w, { active: false, currentLevel: null, clearedAt: ev.at }, [ev], now, policy)
  }

  const level = f.level as WarningLevel
  const peak = isNewPeak(w, f)
  // hot path: the condition still holds at the same level with no new peak — nothing to do
  if (w.active && level === w.currentLevel && !peak) return unchanged(w)

  const at = iso(now)
  const added: WarningEvent[] = []
  const patch: Partial<Warning> = { currentLevel: level }
  if (!w.active) {
    patch.active = true
    patch.occurrences = w.occurrences + 1
    added.push({ type: 'reactivated', at, level })
  }
  if (level < w.level) {
    patch.level = level
    patch.color = COLOR_OF_LEVEL[level]
    patch.title = f.title
    added.push({ type: 'escalated_level', at, level })
    if (w.status === 'open') {
      // a more severe level never gets more time to acknowledge than it would have had on its own
      const sooner = now + policy.ackTimeoutMs[level]
      if (sooner < Date.parse(w.ackDeadline)) patch.ackDeadline = iso(sooner)
    }
  }
  if (f.value !== undefined) patch.value = f.value
  if (f.threshold !== undefined) patch.threshold = f.threshold
  if (peak) patch.peakValue = f.value
  const r = changedWarning(w, patch, added, now, policy)
  if (!w.active && r.warning) delete r.warning.clearedAt
  return r
}

// ---- commands -------------------------------------------------------------------------------------

function applyCommand(w: Warning | undefined, c: WarningCommand, now: number, policy: LifecyclePolicy): LifecycleResult {
  if (!w) return fail(w, 'NOT_FOUND', `warning ${c.warningId} not found`)
  const at = iso(now)
  const ev = (type: WarningEventType, extra: Partial<WarningEvent> = {}): WarningEvent => {
    const e: WarningEvent = { type, at, by: c.by, ...extra }
    if (c.note !== undefined) e.note = c.note
    return e
  }
  switch (c.action) {
    case 'ack':
      if (w.status !== 'open') return fail(w, 'CONFLICT', `cannot acknowledge a warning that is ${w.status}`)
      return changedWarning(w, { status: 'acknowledged', acknowledgedAt: at, acknowledgedBy: c.by }, [ev('acknowledged')], now, policy)
    case 'dispose': {
      if (w.status !== 'open' && w.status !== 'acknowledged') return fail(w, 'CONFLICT', `cannot dispose a warning that is ${w.status}`)
      const patch: Partial<Warning> = { status: 'disposing' }
      if (!w.acknowledgedAt) { patch.acknowledgedAt = at; patch.acknowledgedBy = c.by }
      return changedWarning(w, patch, [ev('disposing')], now, policy)
    }
    case 'close':
      if (w.status === 'closed') return fail(w, 'CONFLICT', 'the warning is already closed')
      if (!c.outcome) return fail(w, 'BAD_REQUEST', 'closing needs an outcome: resolved, false_alarm or maintenance')
      return changedWarning(w, { status: 'closed', closedAt: at, closedBy: c.by, outcome: c.outcome }, [ev('closed', { outcome: c.outcome })], now, policy)
    default:
      return fail(w, 'BAD_REQUEST', `unknown action ${String((c as { action: unknown }).action)}`)
  }
}

/** One step of the lifecycle. Pure: the input warning is never mutated. */
export function apply(w: Warning | undefined, input: LifecycleInput, now: number, policy: LifecyclePolicy = DEFAULT_LIFECYCLE_POLICY): LifecycleResult {
  return input.type === 'finding' ? applyFinding(w, input.finding, input.previous, now, policy) : applyCommand(w, input.command, now, policy)
}
