// In-memory stores for tests: the same semantics as the durable adapters (shared query rules), nothing
// survives the process. Invariant: stored and returned objects are copies, so callers cannot mutate state.
import type { ReadingBatch, Rejection } from '../contracts/reading.js'
import type { Warning } from '../contracts/warning.js'
import type { RegistryDoc } from '../contracts/registry.js'
import type { RiskState } from '../contracts/risk.js'
import { AppError } from '../runtime/errors.js'
import { systemClock, type Clock } from '../runtime/clock.js'
import type {
  AuditEntry, KeyValueStore, ReadingPoint, RegistryStore, RejectionQuery, RejectionStore, RiskStore, Stores,
  TelemetryStore, WarningQuery, WarningStore,
} from './ports.js'
import {
  AUDIT_LIMIT, REJECTION_LIMIT, TELEMETRY_LIMIT, WARNING_LIMIT, clampLimit, closedMs, compareWarnings,
  matchesRejection, matchesWarning, minuteOf,
} from './query-rules.js'

export interface MemoryStoreOptions {
  clock?: Clock
  /** Rejections kept (oldest pruned); default 100,000. */
  rejectionsMax?: number
}

const clone = <T>(v: T): T => structuredClone(v)

function guard(closed: () => boolean, what: string): void {
  if (closed()) throw new AppError('STORE_UNAVAILABLE', `${what} store is closed`)
}

export function createMemoryWarningStore(): WarningStore {
  const byId = new Map<string, Warning>()
  let closed = false
  const check = (w: Warning): void => {
    if (!w || typeof w.id !== 'string' || !w.id || typeof w.dedupKey !== 'string') throw new AppError('BAD_REQUEST', 'warning without id or dedupKey')
  }
  return {
    async upsert(w) { guard(() => closed, 'warning'); check(w); byId.set(w.id, clone(w)) },
    async upsertMany(ws) {
      guard(() => closed, 'warning')
      for (const w of ws) check(w)
      for (const w of ws) byId.set(w.id, clone(w))
    },
    async get(id) { guard(() => closed, 'warning'); const w = byId.get(id); return w && clone(w) },
    async list(q: WarningQuery) {
      guard(() => closed, 'warning')
      const out = [...byId.values()].filter((w) => matchesWarning(w, q)).sort(compareWarnings)
      return out.slice(0, clampLimit(q.limit, WARNING_LIMIT)).map(clone)
    },
    async notClosed() { guard(() => closed, 'warning'); return [...byId.values()].filter((w) => w.status !== 'closed').sort(compareWarnings).map(clone) },
    async episodes(dedupKey) { guard(() => closed, 'warning'); let n = 0; for (const w of byId.values()) if (w.dedupKey === dedupKey) n++; return n },
    async lastClosed(dedupKey) {
      guard(() => closed, 'warning')
      let best: Warning | undefined
      for (const w of byId.values()) {
        if (w.dedupKey !== dedupKey || w.status !== 'closed') continue
        if (!best || closedMs(w) > closedMs(best) || (closedMs(w) === closedMs(best) && w.raisedAt > best.raisedAt)) best = w
      }
      return best && clone(best)
    },
    async close() { closed = true },
  }
}

interface Agg { sum: number; count: number; min: number; max: number }

export function createMemoryTelemetryStore(): TelemetryStore {
  const raw = new Map<string, Map<number, ReadingPoint>>()
  const agg = new Map<string, Map<number, Agg>>()
  let boundary = -Infinity
  let written = 0
  let dropped = 0
  let closed = false
  return {
    write(batch: ReadingBatch) {
      const items = Array.isArray(batch?.items) ? batch.items : []
      if (closed) { dropped += items.length; return }
      for (const it of items) {
        if (!it || typeof it.sensorId !== 'string' || !Number.isFinite(it.ts) || !Number.isFinite(it.value)) { dropped++; continue }
        let m = raw.get(it.sensorId)
        if (!m) { m = new Map(); raw.set(it.sensorId, m) }
        written++
        const ts = Math.trunc(it.ts)
        if (m.has(ts)) continue
        m.set(ts, { ts, value: it.value, quality: it.quality ?? 'ok' })
        if ((it.quality ?? 'ok') !== 'ok') continue
        let a = agg.get(it.sensorId)
        if (!a) { a = new Map(); agg.set(it.sensorId, a) }
        const minute = minuteOf(ts)
        const cur = a.get(minute)
        if (cur) { cur.sum += it.value; cur.count++; cur.min = Math.min(cur.min, it.value); cur.max = Math.max(cur.max, it.value) }
        else a.set(minute, { sum: it.value, count: 1, min: it.value, max: it.value })
      }
    },
    async query(sensorId, from, to, limit) {
      guard(() => closed, 'telemetry')
      const out: ReadingPoint[] = []
      for (const [minute, a] of agg.get(sensorId) ?? []) {
        if (minute >= from && minute <= to && minute < boundary) out.push({ ts: minute, value: a.sum / a.count, quality: 'ok' })
      }
      for (const p of raw.get(sensorId)?.values() ?? []) if (p.ts >= from && p.ts <= to && p.ts >= boundary) out.push({ ...p })
      return out.sort((a, b) => a.ts - b.ts).slice(0, clampLimit(limit, TELEMETRY_LIMIT))
    },
    async flush() { /* writes apply at once */ },
    async prune(rawBefore, aggBefore) {
      guard(() => closed, 'telemetry')
      let r = 0
      let g = 0
      for (const m of raw.values()) for (const ts of m.keys()) if (ts < rawBefore) { m.delete(ts); r++ }
      for (const m of agg.values()) for (const minute of m.keys()) if (minute < aggBefore) { m.delete(minute); g++ }
      if (rawBefore > boundary) boundary = rawBefore
      return { raw: r, agg: g }
    },
    stats: () => ({ buffered: 0, written, dropped }),
    async close() { closed = true },
  }
}

export function createMemoryRejectionStore(opts: { max?: number } = {}): RejectionStore {
  const max = Math.max(1, opts.max ?? 100_000)
  const byId = new Map<string, Rejection>()
  const counts: Record<string, number> = {}
  let closed = false
  return {
    add(r) {
      if (closed || !r || typeof r.id !== 'string') return
      const reason = typeof r.reason === 'string' ? r.reason : 'unknown'
      counts[reason] = (counts[reason] ?? 0) + 1
      if (byId.has(r.id)) return
      byId.set(r.id, clone(r))
      while (byId.size > max) byId.delete(byId.keys().next().value as string)
    },
    async list(q: RejectionQuery) {
      guard(() => closed, 'rejection')
      const all = [...byId.values()].reverse().filter((r) => matchesRejection(r, q))
      all.sort((a, b) => b.at - a.at)
      return all.slice(0, clampLimit(q.limit, REJECTION_LIMIT)).map(clone)
    },
    counts: () => ({ ...counts }),
    async flush() { /* adds apply at once */ },
    async close() { closed = true },
  }
}

export function createMemoryRegistryStore(opts: { clock?: Clock } = {}): RegistryStore {
  const clock = opts.clock ?? systemClock()
  let latest: { doc: RegistryDoc; version: number } | undefined
  const audit: AuditEntry[] = []
  let closed = false
  return {
    async load() { guard(() => closed, 'registry'); return latest && { doc: clone(latest.doc), version: latest.version } },
    async save(doc, entry) {
      guard(() => closed, 'registry')
      const version = (latest?.version ?? 0) + 1
      latest = { doc: clone(doc), version }
      const a: AuditEntry = { at: entry.at ?? clock.now(), by: entry.by, action: entry.action, target: entry.target }
      if (entry.detail !== undefined) a.detail = entry.detail
      audit.push(a)
      return version
    },
    async audit(limit) { guard(() => closed, 'registry'); return audit.slice().reverse().slice(0, clampLimit(limit, AUDIT_LIMIT)).map(clone) },
    async close() { closed = true },
  }
}

export function createMemoryRiskStore(): RiskStore {
  const states = new Map<string, RiskState>()
  let closed = false
  return {
    async putMany(ss) { guard(() => closed, 'risk'); for (const s of ss) states.set(`${s.kind}\u0000${s.id}`, clone(s)) },
    async all() { guard(() => closed, 'risk'); return [...states.values()].map(clone) },
    async close() { closed = true },
  }
}

export function createMemoryKeyValueStore(): KeyValueStore {
  const kv = new Map<string, string>()
  let closed = false
  return {
    async get(key) { guard(() => closed, 'kv'); return kv.get(key) },
    async set(key, value) { guard(() => closed, 'kv'); kv.set(key, String(value)) },
    async close() { closed = true },
  }
}

export function createMemoryStores(opts: MemoryStoreOptions = {}): Stores {
  let closed = false
  const stores = {
    warnings: createMemoryWarningStore(),
    telemetry: createMemoryTelemetryStore(),
    rejections: createMemoryRejectionStore(opts.rejectionsMax === undefined ? {} : { max: opts.rejectionsMax }),
    registry: createMemoryRegistryStore(opts.clock ? { clock: opts.clock } : {}),
    risk: createMemoryRiskStore(),
    kv: createMemoryKeyValueStore(),
  }
  return {
    ...stores,
    health: () => (closed ? { ok: false, detail: 'closed' } : { ok: true, detail: 'memory' }),
    async close() {
      closed = true
      for (const s of Object.values(stores)) await s.close()
    },
  }
}
