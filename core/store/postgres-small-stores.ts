// The small PostgreSQL stores: registry versions with their audit trail (saves serialized by a table
// lock, so version numbers never collide across processes), latest risk per (kind, id), key/value settings.
import type { RegistryDoc } from '../contracts/registry.js'
import type { RiskState } from '../contracts/risk.js'
import type { Logger } from '../runtime/logger.js'
import { systemClock, type Clock } from '../runtime/clock.js'
import type { AuditEntry, KeyValueStore, RegistryStore, RiskStore } from './ports.js'
import { AUDIT_LIMIT, clampLimit } from './query-rules.js'
import { col, pgError, pgHandle, type PgDb } from './postgres-db.js'

/** Registry versions kept (older ones are deleted; the audit trail is kept whole), as in SQLite. */
export const PG_REGISTRY_VERSIONS_KEPT = 100

export function createPgRegistryStore(db: PgDb, opts: { clock?: Clock; logger?: Logger } = {}): RegistryStore {
  const h = pgHandle(db, 'registry')
  const clock = opts.clock ?? systemClock()
  return {
    async load() {
      h.check()
      try {
        const r = (await db.query<{ version: number; doc: RegistryDoc }>('SELECT version, doc FROM registry_versions ORDER BY version DESC LIMIT 1')).rows[0]
        return r && { doc: r.doc, version: r.version }
      } catch (err) { throw pgError(err, 'registry load failed') }
    },
    async save(doc, entry) {
      h.check()
      const at = entry.at !== undefined && Number.isFinite(entry.at) ? Math.trunc(entry.at) : clock.now()
      try {
        return await db.tx(async (c) => {
          await c.query('LOCK TABLE registry_versions IN EXCLUSIVE MODE')
          const cur = Number((await c.query<{ v: number }>('SELECT coalesce(max(version), 0) AS v FROM registry_versions')).rows[0]?.v ?? 0)
          const version = cur + 1
          await c.query('INSERT INTO registry_versions (version, doc, saved_at) VALUES ($1, $2::jsonb, $3)', [version, JSON.stringify(doc), clock.now()])
          await c.query('INSERT INTO audit (at, "by", action, target, detail) VALUES ($1, $2, $3, $4, $5)',
            [at, col(String(entry.by)), col(String(entry.action)), col(String(entry.target)), entry.detail === undefined ? null : col(String(entry.detail))])
          await c.query('DELETE FROM registry_versions WHERE version <= $1', [version - PG_REGISTRY_VERSIONS_KEPT])
          return version
        })
      } catch (err) { throw pgError(err, 'registry save failed') }
    },
    async audit(limit) {
      h.check()
      try {
        const rows = (await db.query<{ at: string; by: string; action: string; target: string; detail: string | null }>(
          'SELECT at, "by", action, target, detail FROM audit ORDER BY seq DESC LIMIT $1', [clampLimit(limit, AUDIT_LIMIT)])).rows
        return rows.map((r) => {
          const e: AuditEntry = { at: Number(r.at), by: r.by, action: r.action, target: r.target }
          if (r.detail !== null) e.detail = r.detail
          return e
        })
      } catch (err) { throw pgError(err, 'audit query failed') }
    },
    async close() { h.close() },
  }
}

export function createPgRiskStore(db: PgDb): RiskStore {
  const h = pgHandle(db, 'risk')
  return {
    async putMany(states) {
      h.check()
      if (!states.length) return
      // One row per (kind, id), the last given wins (ON CONFLICT cannot touch a row twice).
      const last = new Map<string, RiskState>()
      for (const s of states) { const k = `${s.kind}\u0000${s.id}`; last.delete(k); last.set(k, s) }
      const kinds: (string | null)[] = []
      const ids: (string | null)[] = []
      const docs: string[] = []
      for (const s of last.values()) { kinds.push(col(String(s.kind))); ids.push(col(String(s.id))); docs.push(JSON.stringify(s)) }
      try {
        await db.query(`INSERT INTO risk (kind, id, doc) SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[])
          ON CONFLICT (kind, id) DO UPDATE SET doc = excluded.doc`, [kinds, ids, docs])
      } catch (err) { throw pgError(err, 'risk write failed') }
    },
    async all() {
      h.check()
      try { return (await db.query<{ doc: RiskState }>('SELECT doc FROM risk ORDER BY kind, id')).rows.map((r) => r.doc) } catch (err) { throw pgError(err, 'risk query failed') }
    },
    async close() { h.close() },
  }
}

/** Values are text (NUL cannot be stored in PostgreSQL text: such a value is refused as BAD_REQUEST). */
export function createPgKeyValueStore(db: PgDb): KeyValueStore {
  const h = pgHandle(db, 'kv')
  return {
    async get(key) {
      h.check()
      try { return (await db.query<{ value: string }>('SELECT value FROM kv WHERE key = $1', [col(String(key))])).rows[0]?.value } catch (err) { throw pgError(err, 'kv get failed') }
    },
    async set(key, value) {
      h.check()
      try {
        await db.query('INSERT INTO kv (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [col(String(key)), String(value)])
      } catch (err) { throw pgError(err, 'kv set failed') }
    },
    async close() { h.close() },
  }
}
