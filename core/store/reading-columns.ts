// Readings handed to the history worker thread as columns: the sensor ids, a Float64Array of
// (ts, value) pairs and a Uint8Array of quality codes, the two typed arrays transferred rather than
// cloned. Structured clone of the reading objects themselves cost about 1 µs a reading on the main
// thread (property names and an object per reading); the columns about a fifth of that.
import type { Quality, ReadingBatch } from '../contracts/reading.js'

/** Index = the code stored in the history database. */
export const QUALITY_CODES: readonly Quality[] = ['ok', 'fault', 'maintenance', 'calibrating']
/** Quality code of an item the store must drop as invalid (an unknown quality). */
export const INVALID_QUALITY = 255

export interface ReadingColumns {
  n: number
  /** Sensor ids ('' where the item had none: invalid). */
  ids: string[]
  /** ts and value of reading i at 2i and 2i + 1 (NaN where not a number: invalid). */
  num: Float64Array<ArrayBuffer>
  q: Uint8Array<ArrayBuffer>
}

export function qualityCode(q: unknown): number {
  if (q === undefined || q === 'ok') return 0
  const c = QUALITY_CODES.indexOf(q as Quality)
  return c < 0 ? INVALID_QUALITY : c
}

/** The items of `batches`, in order, as columns (validation is left to the store). */
export function toColumns(batches: readonly ReadingBatch[]): ReadingColumns {
  let n = 0
  for (const b of batches) n += b.items.length
  const ids: string[] = new Array<string>(n)
  const num = new Float64Array(2 * n)
  const q = new Uint8Array(n)
  let i = 0
  for (const b of batches) {
    for (const it of b.items) {
      const s = it?.sensorId
      ids[i] = typeof s === 'string' ? s : ''
      const ts = it?.ts
      const v = it?.value
      num[2 * i] = typeof ts === 'number' ? ts : Number.NaN
      num[2 * i + 1] = typeof v === 'number' ? v : Number.NaN
      q[i] = qualityCode(it?.quality)
      i++
    }
  }
  return { n, ids, num, q }
}
