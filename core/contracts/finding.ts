// Findings: what the rules engine concludes (an alarm, in domain.md's terms) and sends to alerting.
// `active: true` is sent for every reading that meets the rule (and on every offline tick), so a
// danger that persists after a warning is closed raises a new one; `active: false` once on clear.
import Type, { type Static } from 'typebox'
import { WarningLevel } from './levels.js'

export const WARNING_KINDS = ['threshold', 'rate', 'offline', 'fault', 'composite', 'enterprise_risk', 'platform'] as const
export const WarningKind = Type.Enum(WARNING_KINDS)
export type WarningKind = (typeof WARNING_KINDS)[number]

export const Finding = Type.Object({
  /** The de-duplication key: "<sensorId or enterpriseId or gatewayId>|<ruleId>". */
  key: Type.String(),
  kind: WarningKind,
  ruleId: Type.String(),
  enterpriseId: Type.String(),
  sensorId: Type.Optional(Type.String()),
  gatewayId: Type.Optional(Type.String()),
  regionId: Type.String(),
  active: Type.Boolean(),
  /** Level of this reading; null when the condition cleared. */
  level: Type.Union([WarningLevel, Type.Null()]),
  value: Type.Optional(Type.Number()),
  threshold: Type.Optional(Type.Number()),
  title: Type.String(),
  /** Reading time (or timer time for offline), epoch ms. */
  at: Type.Number(),
  /** When ingest received the reading that caused this, epoch ms (latency metric). */
  receivedAt: Type.Optional(Type.Number()),
})
export type Finding = Static<typeof Finding>
