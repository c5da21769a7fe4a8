// Bounded per-sensor memory of recently accepted readings, for de-duplication (contracts.md §3).
// Invariant: memory is O(sensors × capacity); a reading is a duplicate only if its seq (or, without
// seq, its ts) is among the sensor's last `capacity` accepted readings.

export interface Deduplicator {
  /** True if this reading was already seen (drop it); otherwise remembers it and returns false. */
  isDuplicate(sensorId: string, seq: number | undefined, ts: number): boolean
  /** Un-remember one accepted reading whose message was then not acknowledged (it could not be put on
   *  the bus): the gateway's redelivery must be taken again, not dropped as a duplicate. */
  unmark(sensorId: string, seq: number | undefined, ts: number): void
  /** Forget a sensor (e.g. removed from the registry). */
  forget(sensorId: string): void
  /** Sensors remembered. */
  size(): number
}

interface Ring { keys: Float64Array; n: number; pos: number }
interface SensorMemory { seqs: Ring | null; tss: Ring | null; maxTs: number }

function ring(capacity: number): Ring {
  return { keys: new Float64Array(capacity), n: 0, pos: 0 }
}

function has(r: Ring, key: number): boolean {
  const k = r.keys
  for (let i = 0; i < r.n; i++) if (k[i] === key) return true
  return false
}

function remove(r: Ring, key: number): void {
  const k = r.keys
  for (let i = 0; i < r.n; i++) if (k[i] === key) k[i] = Number.NaN // NaN equals nothing: the slot is free
}

function add(r: Ring, key: number): void {
  r.keys[r.pos] = key
  r.pos = (r.pos + 1) % r.keys.length
  if (r.n < r.keys.length) r.n++
}

/**
 * With `seq`: a duplicate is a seq among the last `capacity` seen for the sensor whose ts is not newer
 * than the newest reading seen — a re-delivery. A known seq with a newer ts means the gateway's counter
 * restarted (gateway reboot), so the seq memory is reset and the reading is kept: data is never dropped
 * because a counter wrapped. Without `seq`: a duplicate is a (sensorId, ts) among the last `capacity`.
 */
export function createDeduplicator(opts: { capacity?: number } = {}): Deduplicator {
  const capacity = Math.max(1, opts.capacity ?? 64)
  const mem = new Map<string, SensorMemory>()
  return {
    isDuplicate(sensorId, seq, ts) {
      let m = mem.get(sensorId)
      if (!m) { m = { seqs: null, tss: null, maxTs: -Infinity }; mem.set(sensorId, m) }
      if (seq !== undefined) {
        if (!m.seqs) m.seqs = ring(capacity)
        if (has(m.seqs, seq)) {
          if (ts <= m.maxTs) return true
          m.seqs.n = 0
          m.seqs.pos = 0
        }
        add(m.seqs, seq)
      } else {
        if (!m.tss) m.tss = ring(capacity)
        if (has(m.tss, ts)) return true
        add(m.tss, ts)
      }
      if (ts > m.maxTs) m.maxTs = ts
      return false
    },
    unmark(sensorId, seq, ts) {
      const m = mem.get(sensorId)
      if (!m) return
      if (seq !== undefined) { if (m.seqs) remove(m.seqs, seq) } else if (m.tss) remove(m.tss, ts)
    },
    forget(sensorId) { mem.delete(sensorId) },
    size: () => mem.size,
  }
}
