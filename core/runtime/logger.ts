// Structured logs (pino) with the stage named on every line.
import { pino, type Logger } from 'pino'
export type { Logger }

export function createLogger(opts: { level?: string; name?: string } = {}): Logger {
  return pino({ name: opts.name ?? 'yujing', level: opts.level ?? 'info', base: { pid: process.pid } })
}

export function stageLogger(root: Logger, stage: string): Logger {
  return root.child({ stage })
}
