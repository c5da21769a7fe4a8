// Errors carry a code, whether a retry can help, and a cause. Programmer errors are never retried.
export type ErrorCode =
  | 'CONFIG_INVALID' | 'REGISTRY_INVALID' | 'MESSAGE_INVALID' | 'BUS_UNAVAILABLE' | 'STORE_UNAVAILABLE'
  | 'NOT_FOUND' | 'TRANSITION_INVALID' | 'UNAUTHORIZED' | 'FORBIDDEN' | 'BAD_REQUEST' | 'CONFLICT'
  | 'PORT_IN_USE' | 'TIMEOUT' | 'RATE_LIMITED' | 'INTERNAL'

export class AppError extends Error {
  readonly code: ErrorCode
  readonly retriable: boolean
  readonly details?: unknown
  constructor(code: ErrorCode, message: string, opts: { retriable?: boolean; cause?: unknown; details?: unknown } = {}) {
    super(message, { cause: opts.cause })
    this.name = 'AppError'
    this.code = code
    this.retriable = opts.retriable ?? false
    this.details = opts.details
  }
}

const PROGRAMMER_ERRORS = [TypeError, RangeError, SyntaxError, ReferenceError]

export function isRetriable(err: unknown): boolean {
  if (err instanceof AppError) return err.retriable
  if (PROGRAMMER_ERRORS.some((E) => err instanceof E)) return false
  return true
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
