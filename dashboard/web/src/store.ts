// Pure client state: the live warning table (keyed by id, stale versions dropped, ordered most severe
// then newest), the header counters, and the enterprise risk table. No DOM; every change bumps a
// version so views and map layers rebuild only what changed.
import type { Color } from '../../../core/contracts/levels.js'
import type { StatsPush } from '../../../core/contracts/socket-events.js'
import type { Warning, WarningStatus } from '../../../core/contracts/warning.js'
import type { RiskEvent } from '../../../core/contracts/risk.js'

/** Most severe first (level 1 = red), then newest raisedAt, then id (stable). */
export function compareWarnings(a: Warning, b: Warning): number {
  if (a.level !== b.level) return a.level - b.level
  if (a.raisedAt !== b.raisedAt) return a.raisedAt < b.raisedAt ? 1 : -1
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

export type UpsertResult = 'added' | 'updated' | 'stale'

export interface WarningFilter {
  levels?: ReadonlySet<Color> | undefined
  /** Status to show; undefined = every status except closed. */
  status?: WarningStatus | undefined
  /** Enterprise ids allowed (from the map's region/industry filter); undefined = all. */
  enterpriseIds?: ReadonlySet<string> | undefined
  /** Case-insensitive text over title, enterprise name and ids. */
  text?: string | undefined
}

export class WarningStore {
  private readonly byId = new Map<string, Warning>()
  private sortedCache: Warning[] | null = null
  /** Bumped on every accepted change. */
  version = 0

  get size(): number { return this.byId.size }
  get(id: string): Warning | undefined { return this.byId.get(id) }

  /** Apply one warning (from the socket or an action response). Older or equal versions are dropped. */
  upsert(w: Warning): UpsertResult {
    const prev = this.byId.get(w.id)
    if (prev && prev.version >= w.version) return 'stale'
    this.byId.set(w.id, w)
    this.sortedCache = null
    this.version++
    return prev ? 'updated' : 'added'
  }

  /** A fresh snapshot (GET /api/warnings): replaces what is known, except entries we hold in a newer
   * version; warnings absent from the snapshot and not closed are removed (they were closed or left
   * the jurisdiction while we were away). Closed ones we saw live are kept for the closed filter. */
  replaceAll(list: readonly Warning[]): void {
    const incoming = new Map(list.map((w) => [w.id, w]))
    for (const [id, w] of this.byId) if (!incoming.has(id) && w.status !== 'closed') this.byId.delete(id)
    for (const w of list) {
      const prev = this.byId.get(w.id)
      if (!prev || prev.version < w.version) this.byId.set(w.id, w)
    }
    this.sortedCache = null
    this.version++
  }

  /** Forget closed warnings beyond the newest `keep` (memory bound for a long shift). */
  pruneClosed(keep = 500): void {
    const closed = [...this.byId.values()].filter((w) => w.status === 'closed').sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : -1))
    if (closed.length <= keep) return
    for (const w of closed.slice(keep)) this.byId.delete(w.id)
    this.sortedCache = null
    this.version++
  }

  /** Every known warning, ordered. The array is cached until the next change. */
  all(): readonly Warning[] {
    if (!this.sortedCache) this.sortedCache = [...this.byId.values()].sort(compareWarnings)
    return this.sortedCache
  }

  list(filter: WarningFilter = {}, enterpriseName: (id: string) => string = () => ''): Warning[] {
    const text = filter.text?.trim().toLowerCase() ?? ''
    return this.all().filter((w) => {
      if (filter.status ? w.status !== filter.status : w.status === 'closed') return false
      if (filter.levels && filter.levels.size > 0 && !filter.levels.has(w.color)) return false
      if (filter.enterpriseIds && !filter.enterpriseIds.has(w.enterpriseId)) return false
      if (text) {
        const hay = `${w.title} ${enterpriseName(w.enterpriseId)} ${w.enterpriseId} ${w.sensorId ?? ''} ${w.id}`.toLowerCase()
        if (!hay.includes(text)) return false
      }
      return true
    })
  }

  /** Not-closed warnings (for the map's pulses). */
  open(): Warning[] { return this.all().filter((w) => w.status !== 'closed') }
}

/** Does this change deserve a sound and a flash? A red or orange warning that is new, or that escalated
 * into red/orange, while it is not closed. */
export function isAlarming(prev: Warning | undefined, next: Warning): boolean {
  if (next.status === 'closed' || next.level > 2) return false
  if (!prev) return true
  return next.level < prev.level
}

export function isOverdue(w: Warning, nowMs: number): boolean {
  return w.status === 'open' && Date.parse(w.ackDeadline) < nowMs
}

export const ZERO_STATS: StatsPush = {
  readingsPerSecond: 0, sensorsOffline: 0, overdue: 0,
  openWarnings: { red: 0, orange: 0, yellow: 0, blue: 0 },
  enterprises: { red: 0, orange: 0, yellow: 0, blue: 0 },
}

/** Accept a stats push if it is well-formed; otherwise keep the previous one. */
export function acceptStats(prev: StatsPush, next: unknown): StatsPush {
  if (!next || typeof next !== 'object') return prev
  const n = next as Partial<StatsPush>
  const counts = (c: unknown) => !!c && typeof c === 'object' && ['red', 'orange', 'yellow', 'blue'].every((k) => typeof (c as Record<string, unknown>)[k] === 'number')
  if (typeof n.readingsPerSecond !== 'number' || typeof n.sensorsOffline !== 'number' || typeof n.overdue !== 'number') return prev
  if (!counts(n.openWarnings) || !counts(n.enterprises)) return prev
  return n as StatsPush
}

export function total(c: Record<Color, number>): number { return c.red + c.orange + c.yellow + c.blue }

/** An enterprise as the map and lists hold it (GET /api/enterprises item, mutated by `risk` events). */
export interface EnterpriseItem {
  id: string
  name: string
  industry: string
  regionId: string
  location: [number, number]
  riskLevel: Color
  score: number
  openWarnings: number
}

/** Enterprises: the array identity changes only on a reload (`dataVersion`); risk events mutate
 * items in place and bump `colorVersion` (layers use it as an updateTrigger). */
export class EnterpriseTable {
  items: EnterpriseItem[] = []
  private byId = new Map<string, EnterpriseItem>()
  dataVersion = 0
  colorVersion = 0

  load(list: readonly EnterpriseItem[]): void {
    this.items = list.filter((e) => Array.isArray(e.location) && e.location.length >= 2).map((e) => ({ ...e }))
    this.byId = new Map(this.items.map((e) => [e.id, e]))
    this.dataVersion++
    this.colorVersion++
  }

  get(id: string): EnterpriseItem | undefined { return this.byId.get(id) }
  name(id: string): string { return this.byId.get(id)?.name ?? id }

  /** Apply `risk` events for enterprises; returns whether anything visible changed. */
  applyRisk(events: readonly RiskEvent[]): boolean {
    let changed = false
    for (const r of events) {
      if (r.kind !== 'enterprise') continue
      const e = this.byId.get(r.id)
      if (!e) continue
      if (e.riskLevel !== r.riskLevel || e.score !== r.score || (r.openWarnings !== undefined && r.openWarnings !== e.openWarnings)) {
        e.riskLevel = r.riskLevel
        e.score = r.score
        if (r.openWarnings !== undefined) e.openWarnings = r.openWarnings
        changed = true
      }
    }
    if (changed) this.colorVersion++
    return changed
  }
}
