// The small SQLite stores sharing yujing.db: registry versions with their audit trail, latest risk
// state per (kind, id), and key/value settings. Each write is one committed transaction.
import type { RegistryDoc } from '../contracts/registry.js'
import type { RiskState } from '../contracts/risk.js'
import type { Logger } from '../runtime/logger.js'
import { systemClock, type Clock } from '../runtime/clock.js'
import type { AuditEntry, KeyValueStore, RegistryStore, RiskStore } from './ports.js'
import { AUDIT_LIMIT, clampLimit } from './query-rules.js'
import { parseRow, storeHandle, type SharedDb } from './sqlite-db.js'

/** Registry versions kept (older ones are deleted; the audit trail is kept whole). */
export const REGISTRY_VERSIONS_KEPT = 100

export function createSqliteRegistryStore(shared: SharedDb, opts: { clock?: Clock; logger?: Logger } = {}): RegistryStore {
  shared.db.exec(`
    CREATE TABLE IF NOT EXISTS registry_versions (version INTEGER PRIMARY KEY, doc TEXT NOT NULL, saved_at INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, by TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL, detail TEXT);
  `)
  const h = storeHandle(shared, 'registry')
  const clock = opts.clock ?? systemClock()
  const save = shared.db.transaction((doc: RegistryDoc, a: AuditEntry): number => {
    const cur = (shared.stmt('SELECT coalesce(max(version), 0) AS v FROM registry_versions').get() as { v: number }).v
    const version = cur + 1
    shared.stmt('INSERT INTO registry_versions (version, doc, saved_at) VALUES (?, ?, ?)').run(version, JSON.stringify(doc), clock.now())
    shared.stmt('INSERT INTO audit (at, by, action, target, detail) VALUES (?, ?, ?, ?, ?)').run(a.at, a.by, a.action, a.target, a.detail ?? null)
    shared.stmt('DELETE FROM registry_versions WHERE version <= ?').run(version - REGISTRY_VERSIONS_KEPT)
    return version
  })
  return {
    async load() {
      h.check()
      const r = shared.stmt('SELECT version, doc FROM registry_versions ORDER BY version DESC LIMIT 1').get() as { version: number; doc: string } | undefined
      if (!r) return undefined
      const doc = parseRow<RegistryDoc>(r.doc, opts.logger, 'registry')
      return doc && { doc, version: r.version }
    },
    async save(doc, entry) {
      h.check()
      const at = entry.at !== undefined && Number.isFinite(entry.at) ? entry.at : clock.now()
      const a: AuditEntry = { at, by: String(entry.by), action: String(entry.action), target: String(entry.target) }
      if (entry.detail !== undefined) a.detail = String(entry.detail)
      return save(doc, a)
    },
    async audit(limit) {
      h.check()
      const rows = shared.stmt('SELECT at, by, action, target, detail FROM audit ORDER BY seq DESC LIMIT ?').all(clampLimit(limit, AUDIT_LIMIT)) as
        { at: number; by: string; action: string; target: string; detail: string | null }[]
      return rows.map((r) => {
        const e: AuditEntry = { at: r.at, by: r.by, action: r.action, target: r.target }
        if (r.detail !== null) e.detail = r.detail
        return e
      })
    },
    async close() { h.close() },
  }
}

export function createSqliteRiskStore(shared: SharedDb, opts: { logger?: Logger } = {}): RiskStore {
  shared.db.exec('CREATE TABLE IF NOT EXISTS risk (kind TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (kind, id)) WITHOUT ROWID')
  const h = storeHandle(shared, 'risk')
  const put = shared.db.transaction((states: readonly RiskState[]) => {
    const st = shared.stmt('INSERT INTO risk (kind, id, doc) VALUES (?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET doc = excluded.doc')
    for (const s of states) st.run(String(s.kind), String(s.id), JSON.stringify(s))
  })
  return {
    async putMany(states) { h.check(); if (states.length) put(states) },
    async all() {
      h.check()
      const out: RiskState[] = []
      for (const r of shared.stmt('SELECT doc FROM risk').all() as { doc: string }[]) { const s = parseRow<RiskState>(r.doc, opts.logger, 'risk'); if (s) out.push(s) }
      return out
    },
    async close() { h.close() },
  }
}

export function createSqliteKeyValueStore(shared: SharedDb): KeyValueStore {
  shared.db.exec('CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID')
  const h = storeHandle(shared, 'kv')
  return {
    async get(key) {
      h.check()
      return (shared.stmt('SELECT value FROM kv WHERE key = ?').get(String(key)) as { value: string } | undefined)?.value
    },
    async set(key, value) {
      h.check()
      shared.stmt('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(String(key), String(value))
    },
    async close() { h.close() },
  }
}
