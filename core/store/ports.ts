// Storage ports. Each has an embedded adapter (SQLite in the data directory, durable), a memory
// adapter for tests, scale-out adapters (PostgreSQL, InfluxDB), and one contract suite all must pass.
import type { Quality, ReadingBatch, Rejection } from '../contracts/reading.js'
import type { Warning, WarningStatus } from '../contracts/warning.js'
import type { WarningLevel } from '../contracts/levels.js'
import type { RegistryDoc } from '../contracts/registry.js'
import type { RiskState } from '../contracts/risk.js'

export interface WarningQuery {
  /** Statuses to include; default every status but closed. An empty list filter matches nothing. */
  status?: readonly WarningStatus[]
  level?: readonly WarningLevel[]
  /** Only warnings whose regionId is one of these (the caller expands subtrees). */
  regionIds?: readonly string[]
  enterpriseIds?: readonly string[]
  sensorId?: string
  /** Only warnings updated at or after this time, epoch ms. */
  since?: number
  /** Default 100, at most 1000. Order: most severe first, then newest raisedAt. */
  limit?: number
}

/** Warnings with their whole history. Writes are durable when the promise resolves. */
export interface WarningStore {
  /** Insert or replace a warning (by id), events included. */
  upsert(w: Warning): Promise<void>
  upsertMany(ws: readonly Warning[]): Promise<void>
  get(id: string): Promise<Warning | undefined>
  list(q: WarningQuery): Promise<Warning[]>
  /** Every warning that is not closed (alerting's working set at start). */
  notClosed(): Promise<Warning[]>
  /** How many warnings ever had this dedup key (to number the next episode). */
  episodes(dedupKey: string): Promise<number>
  /** The newest closed warning with this dedup key, if any (maintenance mutes). */
  lastClosed(dedupKey: string): Promise<Warning | undefined>
  close(): Promise<void>
}

export interface ReadingPoint { ts: number; value: number; quality: Quality }

/** Readings history. `write` never blocks the pipeline: it buffers and flushes in batches. */
export interface TelemetryStore {
  write(batch: ReadingBatch): void
  /** Readings of one sensor in [from, to], oldest first (the oldest `limit`, default 10,000, at most
   * 100,000); from the raw table, or 1-minute aggregates (mean per minute of the `ok` readings, `ts` =
   * start of the minute, quality `ok`) before the raw retention boundary (the latest `prune`'s `rawBefore`).
   * A repeated (sensorId, ts) is stored once. */
  query(sensorId: string, from: number, to: number, limit?: number): Promise<ReadingPoint[]>
  /** Make everything written so far durable. */
  flush(): Promise<void>
  /** Delete raw readings older than `rawBefore` and aggregates older than `aggBefore` (flushing first),
   * in chunks so the pipeline does not stall; returns the numbers of rows deleted. */
  prune(rawBefore: number, aggBefore: number): Promise<{ raw: number; agg: number }>
  stats(): { buffered: number; written: number; dropped: number }
  close(): Promise<void>
}

/** Newest first; `limit` default 100, at most 1,000; an empty `enterpriseIds` matches nothing. */
export interface RejectionQuery { limit?: number; gatewayId?: string; enterpriseIds?: readonly string[]; reason?: string; since?: number }

/** Rejected readings with reason and raw payload; bounded (oldest pruned). */
export interface RejectionStore {
  add(r: Rejection): void
  list(q: RejectionQuery): Promise<Rejection[]>
  /** Total ever added, by reason (pruned ones included). */
  counts(): Record<string, number>
  flush(): Promise<void>
  close(): Promise<void>
}

export interface AuditEntry { at: number; by: string; action: string; target: string; detail?: string }

/** The registry after start: the file is upserted at start, then the store is the source of truth. */
export interface RegistryStore {
  load(): Promise<{ doc: RegistryDoc; version: number } | undefined>
  /** Save a new version; returns its number. */
  save(doc: RegistryDoc, audit: Omit<AuditEntry, 'at'> & { at?: number }): Promise<number>
  /** Newest first; `limit` default 100, at most 1,000. */
  audit(limit?: number): Promise<AuditEntry[]>
  close(): Promise<void>
}

/** Latest risk state per enterprise and region, so a restarted dashboard starts from the truth. */
export interface RiskStore {
  /** Replace the state of each (kind, id). */
  putMany(states: readonly RiskState[]): Promise<void>
  all(): Promise<RiskState[]>
  close(): Promise<void>
}

/** Small durable settings (the token-signing secret, mutes, …). */
export interface KeyValueStore {
  get(key: string): Promise<string | undefined>
  set(key: string, value: string): Promise<void>
  close(): Promise<void>
}

export interface Stores {
  warnings: WarningStore
  telemetry: TelemetryStore
  rejections: RejectionStore
  registry: RegistryStore
  risk: RiskStore
  kv: KeyValueStore
  health(): { ok: boolean; detail?: string }
  close(): Promise<void>
}
