// The warning object (contracts.md §4): a levelled, judged entity with a deadline and a closed-loop
// life open → acknowledged → disposing → closed. Times are ISO-8601 UTC with milliseconds.
import Type, { type Static } from 'typebox'
import { Color, WarningLevel } from './levels.js'
import { WarningKind } from './finding.js'

export const WARNING_STATUSES = ['open', 'acknowledged', 'disposing', 'closed'] as const
export const WarningStatus = Type.Enum(WARNING_STATUSES)
export type WarningStatus = (typeof WARNING_STATUSES)[number]

export const OUTCOMES = ['resolved', 'false_alarm', 'maintenance'] as const
export const Outcome = Type.Enum(OUTCOMES)
export type Outcome = (typeof OUTCOMES)[number]

export const ESCALATION_TIERS = ['enterprise', 'county', 'city', 'province'] as const
export const EscalationTier = Type.Enum(ESCALATION_TIERS)
export type EscalationTier = (typeof ESCALATION_TIERS)[number]

export const WARNING_EVENT_TYPES = [
  'raised', 'escalated_level', 'occurred', 'cleared', 'reactivated', 'acknowledged', 'disposing', 'closed',
  'renotified', 'escalated_tier',
] as const
export const WarningEventType = Type.Enum(WARNING_EVENT_TYPES)
export type WarningEventType = (typeof WARNING_EVENT_TYPES)[number]

export const WarningEvent = Type.Object({
  type: WarningEventType,
  at: Type.String(),
  by: Type.Optional(Type.String()),
  note: Type.Optional(Type.String()),
  level: Type.Optional(WarningLevel),
  tier: Type.Optional(EscalationTier),
  outcome: Type.Optional(Outcome),
})
export type WarningEvent = Static<typeof WarningEvent>

export const Warning = Type.Object({
  id: Type.String(),
  level: WarningLevel,
  color: Color,
  status: WarningStatus,
  active: Type.Boolean(),
  currentLevel: Type.Union([WarningLevel, Type.Null()]),
  clearedAt: Type.Optional(Type.String()),
  ackDeadline: Type.String(),
  escalationTier: EscalationTier,
  kind: WarningKind,
  ruleId: Type.String(),
  dedupKey: Type.String(),
  enterpriseId: Type.String(),
  sensorId: Type.Optional(Type.String()),
  gatewayId: Type.Optional(Type.String()),
  regionId: Type.String(),
  title: Type.String(),
  value: Type.Optional(Type.Number()),
  threshold: Type.Optional(Type.Number()),
  peakValue: Type.Optional(Type.Number()),
  occurrences: Type.Integer({ minimum: 1 }),
  raisedAt: Type.String(),
  updatedAt: Type.String(),
  acknowledgedAt: Type.Optional(Type.String()),
  acknowledgedBy: Type.Optional(Type.String()),
  closedAt: Type.Optional(Type.String()),
  closedBy: Type.Optional(Type.String()),
  outcome: Type.Optional(Outcome),
  /** Times this warning was re-notified while unacknowledged. */
  notifications: Type.Integer({ minimum: 0 }),
  /** Monotonic version, bumped on every change (clients drop stale updates). */
  version: Type.Integer({ minimum: 1 }),
  events: Type.Array(WarningEvent),
})
export type Warning = Static<typeof Warning>
