// Times in query strings: epoch milliseconds or ISO-8601 with an offset (a time without an offset is
// ambiguous and rejected, as in ingest). Bad input is a 400, never a crash.
import { badRequest } from './http-errors.js'

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i

export function parseTimeParam(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined
  if (/^-?\d{1,16}$/.test(value)) return Number(value)
  if (!ISO_WITH_OFFSET.test(value)) {
    throw badRequest(`${name}: expected epoch milliseconds or an ISO-8601 time with offset (e.g. 2026-11-28T08:00:00.000+08:00), got "${value.slice(0, 64)}"`)
  }
  const ms = Date.parse(value)
  if (!Number.isFinite(ms)) throw badRequest(`${name}: invalid time "${value.slice(0, 64)}"`)
  return ms
}

/** Comma-separated list parameter ("a,b" or repeated). */
export function listParam(value: string | undefined): string[] {
  if (value === undefined) return []
  return value.split(',').map((s) => s.trim()).filter((s) => s.length > 0)
}
