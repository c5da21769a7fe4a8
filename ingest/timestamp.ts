// Parses a reading's `ts` (contracts.md §3): ISO-8601 with an offset (or Z), or epoch milliseconds.
// Hand-written, allocation-free parser for the hot path. An ISO time without an offset is rejected.

/** Returned when the ISO text is valid but has no offset/Z. */
export const TS_NO_OFFSET = -Infinity

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

function digits(s: string, i: number, n: number): number {
  let v = 0
  for (let k = 0; k < n; k++) {
    const d = s.charCodeAt(i + k) - 48 // NaN past the end
    if (!(d >= 0 && d <= 9)) return -1
    v = v * 10 + d
  }
  return v
}

/**
 * `YYYY-MM-DD(T| )HH:MM[:SS[.fraction]](Z|±HH[:MM]|±HHMM)` → epoch ms; NaN when not a valid time;
 * TS_NO_OFFSET when valid but without an offset.
 */
export function parseIsoTimestamp(s: string): number {
  const len = s.length
  if (len < 16 || len > 40) return NaN
  const y = digits(s, 0, 4)
  if (y < 0 || s.charCodeAt(4) !== 45) return NaN
  const mo = digits(s, 5, 2)
  if (mo < 1 || mo > 12 || s.charCodeAt(7) !== 45) return NaN
  const d = digits(s, 8, 2)
  const leap = mo === 2 && ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0) ? 1 : 0
  if (d < 1 || d > DAYS[mo - 1]! + leap) return NaN
  const sep = s.charCodeAt(10)
  if (sep !== 84 && sep !== 116 && sep !== 32) return NaN // T, t, space
  const h = digits(s, 11, 2)
  if (h < 0 || h > 23 || s.charCodeAt(13) !== 58) return NaN
  const mi = digits(s, 14, 2)
  if (mi < 0 || mi > 59) return NaN
  let i = 16
  let sec = 0
  let ms = 0
  if (i < len && s.charCodeAt(i) === 58) {
    sec = digits(s, i + 1, 2)
    if (sec < 0 || sec > 59) return NaN
    i += 3
    const c = s.charCodeAt(i)
    if (i < len && (c === 46 || c === 44)) { // . or ,
      i++
      const start = i
      let scale = 100
      while (i < len) {
        const dd = s.charCodeAt(i) - 48
        if (!(dd >= 0 && dd <= 9)) break
        if (scale >= 1) { ms += dd * scale; scale /= 10 }
        i++
      }
      if (i === start || i - start > 9) return NaN
    }
  }
  const local = Date.UTC(y, mo - 1, d, h, mi, sec, ms)
  if (i === len) return TS_NO_OFFSET
  const z = s.charCodeAt(i)
  if (z === 90 || z === 122) return i + 1 === len ? local : NaN // Z
  if (z !== 43 && z !== 45) return NaN // + -
  const sign = z === 43 ? 1 : -1
  const oh = digits(s, i + 1, 2)
  if (oh < 0 || oh > 23) return NaN
  i += 3
  let om = 0
  if (i < len) {
    if (s.charCodeAt(i) === 58) i++
    om = digits(s, i, 2)
    if (om < 0 || om > 59) return NaN
    i += 2
  }
  if (i !== len) return NaN
  return local - sign * (oh * 60 + om) * 60_000
}
