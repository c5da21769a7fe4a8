// Risk of an enterprise or region on the four-colour scale, with the factors that explain it.
import Type, { type Static } from 'typebox'
import { Color } from './levels.js'

export const RiskFactor = Type.Object({
  /** e.g. static_profile, major_hazard, assessment, lec, warning, offline_key_sensor, alarm_burst, overdue_hidden_danger, member */
  kind: Type.String(),
  level: Type.Union([Color, Type.Null()]),
  detail: Type.String(),
  ref: Type.Optional(Type.String()),
})
export type RiskFactor = Static<typeof RiskFactor>

const RiskKind = Type.Union([Type.Literal('region'), Type.Literal('enterprise')])
const LevelCounts = Type.Object({ red: Type.Integer(), orange: Type.Integer(), yellow: Type.Integer(), blue: Type.Integer() })

export const RiskState = Type.Object({
  kind: RiskKind,
  id: Type.String(),
  riskLevel: Color,
  score: Type.Number(),
  staticLevel: Type.Optional(Color),
  dynamicLevel: Type.Optional(Type.Union([Color, Type.Null()])),
  factors: Type.Array(RiskFactor),
  /** Regions: enterprises in the subtree by risk level. */
  counts: Type.Optional(LevelCounts),
  /** Warnings not closed (enterprise: its own; region: its subtree). */
  openWarnings: Type.Integer({ minimum: 0 }),
  at: Type.Number({ description: 'epoch ms' }),
})
export type RiskState = Static<typeof RiskState>

/** What is pushed on the socket.io `risk` event. */
export const RiskEvent = Type.Object({
  kind: RiskKind,
  id: Type.String(),
  riskLevel: Color,
  score: Type.Number(),
  openWarnings: Type.Optional(Type.Integer()),
  counts: Type.Optional(LevelCounts),
})
export type RiskEvent = Static<typeof RiskEvent>
