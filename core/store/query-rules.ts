// The query semantics every store adapter shares (list limits, warning order and filters), written once
// so the memory adapter and the SQL adapters cannot drift. Invariant: limits are always within [1, max].
import type { Warning } from '../contracts/warning.js'
import type { Rejection } from '../contracts/reading.js'
import type { RejectionQuery, WarningQuery } from './ports.js'

export const WARNING_LIMIT = { default: 100, max: 1000 } as const
export const REJECTION_LIMIT = { default: 100, max: 1000 } as const
export const TELEMETRY_LIMIT = { default: 10_000, max: 100_000 } as const
export const AUDIT_LIMIT = { default: 100, max: 1000 } as const

/** A usable limit: the default when absent or not a number, else clamped to [1, max]. */
export function clampLimit(limit: number | undefined, rule: { default: number; max: number }): number {
  if (limit === undefined || !Number.isFinite(limit)) return rule.default
  return Math.min(rule.max, Math.max(1, Math.floor(limit)))
}

/** Epoch ms of an ISO time; 0 when it does not parse (so a bad row sorts last, never throws). */
export function isoMs(s: string | undefined): number {
  if (s === undefined) return 0
  const t = Date.parse(s)
  return Number.isFinite(t) ? t : 0
}

/** Most severe first (level 1), then newest raisedAt, then id (a stable tie-break). */
export function compareWarnings(a: Warning, b: Warning): number {
  return a.level - b.level || isoMs(b.raisedAt) - isoMs(a.raisedAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}

/** Whether a warning passes a query's filters (an empty list filter matches nothing). */
export function matchesWarning(w: Warning, q: WarningQuery): boolean {
  if (q.status ? !q.status.includes(w.status) : w.status === 'closed') return false
  if (q.level && !q.level.includes(w.level)) return false
  if (q.regionIds && !q.regionIds.includes(w.regionId)) return false
  if (q.enterpriseIds && !q.enterpriseIds.includes(w.enterpriseId)) return false
  if (q.sensorId !== undefined && w.sensorId !== q.sensorId) return false
  if (q.since !== undefined && Number.isFinite(q.since) && isoMs(w.updatedAt) < q.since) return false
  return true
}

/** When a closed warning closed (its closedAt, else its updatedAt), for `lastClosed`. */
export function closedMs(w: Warning): number {
  return isoMs(w.closedAt ?? w.updatedAt)
}

export function matchesRejection(r: Rejection, q: RejectionQuery): boolean {
  if (q.gatewayId !== undefined && r.gatewayId !== q.gatewayId) return false
  if (q.enterpriseIds && (r.enterpriseId === undefined || !q.enterpriseIds.includes(r.enterpriseId))) return false
  if (q.reason !== undefined && r.reason !== q.reason) return false
  if (q.since !== undefined && Number.isFinite(q.since) && r.at < q.since) return false
  return true
}

export const MINUTE_MS = 60_000
export function minuteOf(ts: number): number {
  return Math.floor(ts / MINUTE_MS) * MINUTE_MS
}
