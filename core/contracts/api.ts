// HTTP API shapes shared by the server routes and the web client (contracts.md §4).
import Type, { type Static } from 'typebox'
import { Color } from './levels.js'
import { RegionLevel } from './registry.js'

export const ApiError = Type.Object({ error: Type.Object({ code: Type.String(), message: Type.String() }) })
export type ApiError = Static<typeof ApiError>

export const LoginRequest = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 64 }),
  password: Type.String({ minLength: 1, maxLength: 256 }),
}, { additionalProperties: false })
export type LoginRequest = Static<typeof LoginRequest>

export const LevelCounts = Type.Object({ red: Type.Integer(), orange: Type.Integer(), yellow: Type.Integer(), blue: Type.Integer() })
export type LevelCounts = Static<typeof LevelCounts>

export const RegionSummary = Type.Object({
  id: Type.String(),
  name: Type.String(),
  level: RegionLevel,
  parentId: Type.Union([Type.String(), Type.Null()]),
  riskLevel: Color,
  score: Type.Number(),
  counts: LevelCounts,
  openWarnings: Type.Integer(),
})
export type RegionSummary = Static<typeof RegionSummary>

export const NoteBody = Type.Object({ note: Type.Optional(Type.String({ maxLength: 4000 })) }, { additionalProperties: false })
export const CloseBody = Type.Object({
  outcome: Type.Union([Type.Literal('resolved'), Type.Literal('false_alarm'), Type.Literal('maintenance')]),
  note: Type.Optional(Type.String({ maxLength: 4000 })),
}, { additionalProperties: false })
