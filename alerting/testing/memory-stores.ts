// Small in-memory WarningStore / RiskStore / KeyValueStore for alerting's tests (not for production:
// the embedded adapters live in core/store). Values are deep-copied so tests see what was persisted.
import { LEVEL_OF_COLOR } from '../../core/contracts/levels.js'
import type { RiskState } from '../../core/contracts/risk.js'
import type { Warning } from '../../core/contracts/warning.js'
import type { KeyValueStore, RiskStore, WarningQuery, WarningStore } from '../../core/store/ports.js'

const copy = <T>(x: T): T => structuredClone(x)

export interface MemoryWarningStore extends WarningStore {
  readonly writes: number
  /** Make the next `n` writes fail. */
  failNext(n: number): void
}

export function memoryWarningStore(initial: readonly Warning[] = []): MemoryWarningStore {
  const rows = new Map<string, Warning>(initial.map((w) => [w.id, copy(w)]))
  let writes = 0
  let failures = 0
  const put = (w: Warning): void => {
    if (failures > 0) { failures--; throw new Error('store unavailable (test)') }
    writes++
    rows.set(w.id, copy(w))
  }
  const order = (a: Warning, b: Warning): number => a.level - b.level || Date.parse(b.raisedAt) - Date.parse(a.raisedAt)
  return {
    get writes() { return writes },
    failNext(n) { failures = n },
    async upsert(w) { put(w) },
    async upsertMany(ws) { for (const w of ws) put(w) },
    async get(id) { const w = rows.get(id); return w ? copy(w) : undefined },
    async list(q: WarningQuery) {
      const statuses = q.status ?? ['open', 'acknowledged', 'disposing']
      return [...rows.values()]
        .filter((w) => statuses.includes(w.status))
        .filter((w) => !q.level || q.level.includes(w.level))
        .filter((w) => !q.regionIds || q.regionIds.includes(w.regionId))
        .filter((w) => !q.enterpriseIds || q.enterpriseIds.includes(w.enterpriseId))
        .filter((w) => !q.sensorId || w.sensorId === q.sensorId)
        .filter((w) => q.since === undefined || Date.parse(w.updatedAt) >= q.since)
        .sort(order).slice(0, Math.min(q.limit ?? 100, 1000)).map(copy)
    },
    async notClosed() { return [...rows.values()].filter((w) => w.status !== 'closed').map(copy) },
    async episodes(key) { return [...rows.values()].filter((w) => w.dedupKey === key).length },
    async lastClosed(key) {
      const closed = [...rows.values()].filter((w) => w.dedupKey === key && w.status === 'closed')
      closed.sort((a, b) => Date.parse(b.closedAt ?? '') - Date.parse(a.closedAt ?? ''))
      return closed[0] ? copy(closed[0]) : undefined
    },
    async close() {},
  }
}

export function memoryRiskStore(): RiskStore & { get(kind: RiskState['kind'], id: string): RiskState | undefined; writes: number } {
  const rows = new Map<string, RiskState>()
  const store = {
    writes: 0,
    async putMany(states: readonly RiskState[]) { store.writes++; for (const s of states) rows.set(`${s.kind}:${s.id}`, copy(s)) },
    async all() { return [...rows.values()].sort((a, b) => LEVEL_OF_COLOR[a.riskLevel] - LEVEL_OF_COLOR[b.riskLevel]).map(copy) },
    get: (kind: RiskState['kind'], id: string) => rows.get(`${kind}:${id}`),
    async close() {},
  }
  return store
}

export function memoryKv(): KeyValueStore & { entries: Map<string, string> } {
  const entries = new Map<string, string>()
  return {
    entries,
    async get(k) { return entries.get(k) },
    async set(k, v) { entries.set(k, v) },
    async close() {},
  }
}
