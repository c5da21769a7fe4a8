// Commands from people to alerting (ack / dispose / close), carried on the bus so a split
// deployment behaves like the monolith; alerting answers each with a CommandResult.
import Type, { type Static } from 'typebox'
import { Outcome, Warning } from './warning.js'

export const COMMAND_ACTIONS = ['ack', 'dispose', 'close'] as const
export const CommandAction = Type.Enum(COMMAND_ACTIONS)
export type CommandAction = (typeof COMMAND_ACTIONS)[number]

export const WarningCommand = Type.Object({
  /** Unique per request; a replayed command with the same id changes nothing. */
  commandId: Type.String({ minLength: 1, maxLength: 128 }),
  action: CommandAction,
  warningId: Type.String({ minLength: 1, maxLength: 128 }),
  by: Type.String(),
  note: Type.Optional(Type.String({ maxLength: 4000 })),
  outcome: Type.Optional(Outcome),
  at: Type.Number({ description: 'epoch ms' }),
})
export type WarningCommand = Static<typeof WarningCommand>

export const CommandResult = Type.Object({
  commandId: Type.String(),
  ok: Type.Boolean(),
  warning: Type.Optional(Warning),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String(), status: Type.Integer() })),
})
export type CommandResult = Static<typeof CommandResult>
