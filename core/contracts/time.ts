// Times on the wire: ISO-8601 UTC with milliseconds. Internally epoch milliseconds.
export function iso(ms: number): string {
  return new Date(ms).toISOString()
}
