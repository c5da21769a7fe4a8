// The PostgreSQL stores against a real server (DATABASE_URL): the shared contract suites, then what only
// PostgreSQL has — migrations (idempotent, concurrent starts), schema isolation, health, hostile input.
// Each run works in its own schema yujing_test_<random> and drops it afterwards.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import { warningStoreContract, warningFixture } from './warning-store.contract.js'
import { rejectionStoreContract, rejectionFixture } from './rejection-store.contract.js'
import { registryStoreContract, registryFixture } from './registry-store.contract.js'
import { riskStoreContract } from './risk-store.contract.js'
import { kvStoreContract } from './kv-store.contract.js'
import { createMemoryTelemetryStore } from './memory-stores.js'
import { createPgDb, type PgDb } from './postgres-db.js'
import { loadMigrations, migrate } from './postgres-migrate.js'
import { createPgWarningStore } from './postgres-warning-store.js'
import { createPgRejectionStore } from './postgres-rejection-store.js'
import { createPgKeyValueStore, createPgRegistryStore, createPgRiskStore } from './postgres-small-stores.js'
import { openPostgresStores } from './postgres-stores.js'

const URL = process.env.DATABASE_URL
const REQUIRED = process.env.CI === 'true' || process.env.YUJING_REQUIRE_SERVICES === '1'

if (!URL) {
  if (REQUIRED) {
    describe('PostgreSQL stores', () => { it('needs DATABASE_URL (required under CI / YUJING_REQUIRE_SERVICES)', () => { expect.fail('DATABASE_URL is not set') }) })
  } else {
    describe.skip('PostgreSQL stores: skipped, DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)', () => { it('needs DATABASE_URL', () => {}) })
  }
} else {
  const url = URL
  const schemas: string[] = []
  const newSchema = (): string => { const s = `yujing_test_${randomBytes(5).toString('hex')}`; schemas.push(s); return s }
  let db: PgDb
  const TABLES = 'warnings, registry_versions, audit, rejections, rejection_counts, risk, kv'
  const empty = async (): Promise<void> => { await db.query(`TRUNCATE ${TABLES} RESTART IDENTITY`) }

  beforeAll(async () => {
    db = createPgDb({ url, schema: newSchema(), healthIntervalMs: 0 })
    await migrate(db, loadMigrations())
  })
  afterAll(async () => {
    await db?.close()
    const admin = new pg.Client({ connectionString: url })
    await admin.connect()
    try { for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`) } finally { await admin.end() }
  })

  // Each `make` empties the tables and returns a new store on the shared pool; `reopen` closes the store
  // and makes a new one, so what it reads back can only come from PostgreSQL.
  warningStoreContract('postgres', async () => { await empty(); return createPgWarningStore(db) },
    { reopen: async (s) => { await s.close(); return createPgWarningStore(db) } })
  rejectionStoreContract('postgres', async (o) => { await empty(); return createPgRejectionStore(db, { ...(o?.max ? { max: o.max } : {}) }) },
    { reopen: async (s) => { await s.close(); return createPgRejectionStore(db) } })
  registryStoreContract('postgres', async () => { await empty(); return createPgRegistryStore(db) },
    { reopen: async (s) => { await s.close(); return createPgRegistryStore(db) } })
  riskStoreContract('postgres', async () => { await empty(); return createPgRiskStore(db) },
    { reopen: async (s) => { await s.close(); return createPgRiskStore(db) } })
  kvStoreContract('postgres', async () => { await empty(); return createPgKeyValueStore(db) },
    { reopen: async (s) => { await s.close(); return createPgKeyValueStore(db) } })

  describe('openPostgresStores', () => {
    it('migrates a new schema once: a second start applies nothing and keeps the data', async () => {
      const schema = newSchema()
      const a = await openPostgresStores({ url, schema, telemetry: createMemoryTelemetryStore(), healthIntervalMs: 0 })
      await a.kv.set('k', 'v1')
      await a.close()
      const d = createPgDb({ url, schema, healthIntervalMs: 0 })
      try {
        expect(await migrate(d, loadMigrations())).toEqual([])
        const rows = (await d.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version')).rows
        expect(rows).toEqual(loadMigrations().map((m) => ({ version: m.version, name: m.name })))
      } finally { await d.close() }
      const b = await openPostgresStores({ url, schema, telemetry: createMemoryTelemetryStore(), healthIntervalMs: 0 })
      expect(await b.kv.get('k')).toBe('v1')
      await b.close()
    })

    it('is safe when four processes start at once on a new schema (advisory lock)', async () => {
      const schema = newSchema()
      const opened = await Promise.all([1, 2, 3, 4].map(() => openPostgresStores({ url, schema, telemetry: createMemoryTelemetryStore(), healthIntervalMs: 0 })))
      const d = createPgDb({ url, schema, healthIntervalMs: 0 })
      try {
        const n = (await d.query<{ n: string }>('SELECT count(*) AS n FROM schema_migrations')).rows[0]!.n
        expect(Number(n)).toBe(loadMigrations().length)
      } finally { await d.close() }
      // Concurrent registry saves from the four get distinct, consecutive versions.
      const versions = await Promise.all(opened.map((s, i) => s.registry.save(registryFixture(i + 1), { by: `p${i}`, action: 'registry.upsert', target: 't' })))
      expect(versions.slice().sort()).toEqual([1, 2, 3, 4])
      for (const s of opened) await s.close()
    })

    it('runs a failing migration in a transaction: nothing of it remains and the start fails clearly', async () => {
      const { mkdtempSync, writeFileSync, copyFileSync } = await import('node:fs')
      const { tmpdir } = await import('node:os')
      const { join } = await import('node:path')
      const dir = mkdtempSync(join(tmpdir(), 'yj-mig-'))
      const { defaultMigrationsDir } = await import('./postgres-migrate.js')
      for (const m of loadMigrations()) copyFileSync(join(defaultMigrationsDir(), `${String(m.version).padStart(3, '0')}_${m.name}.sql`), join(dir, `${String(m.version).padStart(3, '0')}_${m.name}.sql`))
      writeFileSync(join(dir, '900_broken.sql'), 'CREATE TABLE half_done (x int);\nSELECT no_such_function();\n')
      const schema = newSchema()
      await expect(openPostgresStores({ url, schema, telemetry: createMemoryTelemetryStore(), migrationsDir: dir, healthIntervalMs: 0 }))
        .rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', message: expect.stringContaining('900_broken') })
      const d = createPgDb({ url, schema, healthIntervalMs: 0 })
      try {
        expect((await d.query('SELECT version FROM schema_migrations')).rows.map((r) => r.version)).toEqual([1])
        expect((await d.query(`SELECT to_regclass('${schema}.half_done') AS t`)).rows[0]!.t).toBeNull()
      } finally { await d.close() }
    })

    it('keeps SQL-looking ids and values as plain data', async () => {
      const s = await openPostgresStores({ url, schema: newSchema(), telemetry: createMemoryTelemetryStore(), healthIntervalMs: 0 })
      try {
        const evil = "x'); DROP TABLE warnings; --"
        await s.warnings.upsert(warningFixture({ id: evil, regionId: "R' OR '1'='1", dedupKey: "k'; DELETE FROM warnings; --" }))
        await s.warnings.upsert(warningFixture({ id: 'plain' }))
        expect((await s.warnings.get(evil))?.regionId).toBe("R' OR '1'='1")
        expect((await s.warnings.list({ regionIds: ["R' OR '1'='1"] })).map((w) => w.id)).toEqual([evil])
        expect(await s.warnings.list({ sensorId: "' OR 1=1 --" })).toEqual([])
        expect(await s.warnings.episodes("k'; DELETE FROM warnings; --")).toBe(1)
        await s.kv.set('$1; DROP SCHEMA public', "'; --")
        expect(await s.kv.get('$1; DROP SCHEMA public')).toBe("'; --")
        s.rejections.add(rejectionFixture(1, { gatewayId: "gw'); TRUNCATE rejections; --" }))
        expect((await s.rejections.list({ gatewayId: "gw'); TRUNCATE rejections; --" })).map((r) => r.id)).toEqual(['rej-1'])
        expect((await s.warnings.list({})).length).toBe(2)
      } finally { await s.close() }
    })

    it('refuses a schema name that is not a plain identifier, before connecting', async () => {
      await expect(openPostgresStores({ url, schema: 'x; DROP SCHEMA public', telemetry: createMemoryTelemetryStore() })).rejects.toMatchObject({ code: 'CONFIG_INVALID' })
    })

    it('reports health ok while queries work and closed after close; a closed store refuses use clearly', async () => {
      const s = await openPostgresStores({ url, schema: newSchema(), telemetry: createMemoryTelemetryStore(), healthIntervalMs: 0 })
      expect(s.health().ok).toBe(true)
      await s.kv.set('a', 'b')
      expect(s.health()).toMatchObject({ ok: true })
      await s.close()
      expect(s.health()).toEqual({ ok: false, detail: 'closed' })
      await expect(s.kv.get('a')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' })
      s.rejections.add(rejectionFixture(9))
      await s.close()
    })

    it('fails to open with STORE_UNAVAILABLE when nothing listens at the url', async () => {
      const dead = 'postgres://postgres@127.0.0.1:1/test'
      await expect(openPostgresStores({ url: dead, schema: newSchema(), telemetry: createMemoryTelemetryStore(), healthIntervalMs: 0 }))
        .rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', retriable: true })
    })

    it('health follows the server: down when its connection is cut, up again (by the background ping) when it is back', async () => {
      // A TCP relay we control stands between the pool and PostgreSQL, so "the server goes away" is real.
      const net = await import('node:net')
      const target = new globalThis.URL(url)
      const sockets = new Set<import('node:net').Socket>()
      let relay = net.createServer((c) => {
        const up = net.connect(Number(target.port || 5432), target.hostname)
        sockets.add(c); sockets.add(up)
        c.pipe(up).pipe(c)
        const drop = (): void => { c.destroy(); up.destroy() }
        c.on('error', drop); up.on('error', drop); c.on('close', drop); up.on('close', drop)
      })
      await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r))
      const port = (relay.address() as import('node:net').AddressInfo).port
      const viaRelay = new globalThis.URL(url); viaRelay.port = String(port)
      const s = await openPostgresStores({ url: viaRelay.toString(), schema: newSchema(), telemetry: createMemoryTelemetryStore(), healthIntervalMs: 100 })
      try {
        await s.kv.set('x', '1')
        expect(s.health().ok).toBe(true)
        await new Promise<void>((r) => { relay.close(() => r()); for (const k of sockets) k.destroy() })
        await expect(s.kv.get('x')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', retriable: true })
        expect(s.health().ok).toBe(false)
        expect(s.health().detail).toMatch(/^postgres: /)
        relay = net.createServer((c) => { const up = net.connect(Number(target.port || 5432), target.hostname); c.pipe(up).pipe(c); c.on('error', () => up.destroy()); up.on('error', () => c.destroy()) })
        await new Promise<void>((r) => relay.listen(port, '127.0.0.1', r))
        const t0 = Date.now()
        while (!s.health().ok && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 50))
        expect(s.health().ok).toBe(true)
        expect(await s.kv.get('x')).toBe('1')
      } finally { await s.close(); relay.close() }
    })

    it('writes rejections in batches and keeps at most rejectionsMax across flushes', async () => {
      const s = await openPostgresStores({ url, schema: newSchema(), telemetry: createMemoryTelemetryStore(), rejectionsMax: 500, healthIntervalMs: 0 })
      for (let i = 0; i < 3000; i++) s.rejections.add(rejectionFixture(i))
      await s.rejections.flush()
      const got = await s.rejections.list({ limit: 1000 })
      expect(got).toHaveLength(500)
      expect(got[0]!.id).toBe('rej-2999')
      expect(got.at(-1)!.id).toBe('rej-2500')
      expect(s.rejections.counts()).toEqual({ unknown_sensor: 3000 })
      await s.close()
    })
  })
}
