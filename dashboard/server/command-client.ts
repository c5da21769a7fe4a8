// Sends warning commands (ack / dispose / close) to alerting over the bus and waits for the
// CommandResult with the same commandId. The dashboard never changes a warning itself.
import { randomUUID } from 'node:crypto'
import type { Bus, Subscription } from '../../core/bus/bus.js'
import { topics } from '../../core/contracts/topics.js'
import type { CommandResult, WarningCommand } from '../../core/contracts/command.js'
import type { Clock, TimerHandle } from '../../core/runtime/clock.js'
import { AppError } from '../../core/runtime/errors.js'

export interface CommandClient {
  start(): Promise<void>
  stop(): Promise<void>
  /** Publishes the command and resolves with alerting's answer; TIMEOUT AppError after `timeoutMs`. */
  send(cmd: Omit<WarningCommand, 'commandId' | 'at'>): Promise<CommandResult>
  pending(): number
}

export function createCommandClient(deps: { bus: Bus; clock: Clock; instanceId: string; timeoutMs?: number; newId?: () => string }): CommandClient {
  const { bus, clock } = deps
  const timeoutMs = deps.timeoutMs ?? 10_000
  const newId = deps.newId ?? randomUUID
  const waiting = new Map<string, { resolve: (r: CommandResult) => void; reject: (e: Error) => void; timer: TimerHandle }>()
  let sub: Subscription | undefined

  return {
    async start() {
      sub ??= await bus.subscribe(topics.commandResults, { group: `dashboard-${deps.instanceId}` }, (msg) => {
        const w = msg && typeof msg.commandId === 'string' ? waiting.get(msg.commandId) : undefined
        if (!w) return // another instance's command, or already timed out
        waiting.delete(msg.commandId)
        clock.clear(w.timer)
        w.resolve(msg)
      })
    },
    async stop() {
      await sub?.unsubscribe()
      sub = undefined
      for (const [id, w] of waiting) { clock.clear(w.timer); w.reject(new AppError('BUS_UNAVAILABLE', 'dashboard is shutting down')); waiting.delete(id) }
    },
    async send(cmd) {
      if (!sub) throw new AppError('BUS_UNAVAILABLE', 'command channel not started')
      const command: WarningCommand = { ...cmd, commandId: newId(), at: clock.now() }
      const result = new Promise<CommandResult>((resolve, reject) => {
        const timer = clock.setTimeout(() => {
          waiting.delete(command.commandId)
          reject(new AppError('TIMEOUT', `alerting did not answer within ${Math.round(timeoutMs / 1000)} s; the command may still be applied`, { retriable: true }))
        }, timeoutMs)
        waiting.set(command.commandId, { resolve, reject, timer })
      })
      try {
        await bus.publish(topics.commands, command)
      } catch (err) {
        const w = waiting.get(command.commandId)
        if (w) { clock.clear(w.timer); waiting.delete(command.commandId) }
        throw new AppError('BUS_UNAVAILABLE', 'could not publish the command', { cause: err, retriable: true })
      }
      return result
    },
    pending: () => waiting.size,
  }
}
