// Rejections waiting to be written, shared by the SQLite and PostgreSQL rejection stores: a bounded
// buffer (newest `max` kept) plus the per-reason totals, both all-time and not yet written.
import type { Rejection } from '../contracts/reading.js'

export interface PendingRejections { items: Rejection[]; counts: Record<string, number> }

export interface RejectionBuffer {
  /** Buffer a rejection; false when it is not one (no string id). */
  add(r: Rejection): boolean
  /** Everything pending, handed over for writing (the buffer is empty afterwards); null when nothing is. */
  take(): PendingRejections | null
  /** Give back what a failed write took, ahead of anything added since, still bounded. */
  putBack(p: PendingRejections): void
  /** All-time totals by reason (loaded ones plus every add). */
  readonly totals: Record<string, number>
  isEmpty(): boolean
}

export function createRejectionBuffer(max: number, loadedTotals: Record<string, number> = {}): RejectionBuffer {
  const totals: Record<string, number> = { ...loadedTotals }
  let items: Rejection[] = []
  let counts: Record<string, number> = {}
  const bound = (): void => { if (items.length > max) items = items.slice(items.length - max) }
  return {
    totals,
    add(r) {
      if (!r || typeof r.id !== 'string') return false
      const reason = typeof r.reason === 'string' ? r.reason : 'unknown'
      totals[reason] = (totals[reason] ?? 0) + 1
      counts[reason] = (counts[reason] ?? 0) + 1
      items.push(r)
      bound()
      return true
    },
    take() {
      if (!items.length && !Object.keys(counts).length) return null
      const p = { items, counts }
      items = []
      counts = {}
      return p
    },
    putBack(p) {
      items = p.items.concat(items)
      bound()
      for (const [k, n] of Object.entries(p.counts)) counts[k] = (counts[k] ?? 0) + n
    },
    isEmpty: () => !items.length && !Object.keys(counts).length,
  }
}
