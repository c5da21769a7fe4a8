// Runs every store contract against the SQLite adapters (each test in its own temporary data
// directory), plus durability across close/reopen and a 100,000-reading telemetry burst.
import { mkdtempSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { Stores } from './ports.js'
import { openSqliteStores, type SqliteStoreOptions } from './sqlite-stores.js'
import { openSharedDb } from './sqlite-db.js'
import { createSqliteWarningStore } from './sqlite-warning-store.js'
import { warningFixture, warningStoreContract } from './warning-store.contract.js'
import { readingBatch, telemetryStoreContract } from './telemetry-store.contract.js'
import { rejectionFixture, rejectionStoreContract } from './rejection-store.contract.js'
import { registryFixture, registryStoreContract } from './registry-store.contract.js'
import { riskFixture, riskStoreContract } from './risk-store.contract.js'
import { kvStoreContract } from './kv-store.contract.js'

const dirs: string[] = []
const owners = new WeakMap<object, { stores: Stores; opts: SqliteStoreOptions }>()
const opened: Stores[] = []
afterAll(async () => {
  for (const s of opened) await s.close()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'yujing-sqlite-'))
  dirs.push(d)
  return d
}

/** Opens fresh SQLite stores and returns one of them; the rest close when that one's owner is reopened. */
function factory<K extends keyof Omit<Stores, 'health' | 'close'>>(key: K, extra: Partial<SqliteStoreOptions> = {}) {
  const open = async (opts: SqliteStoreOptions): Promise<Stores[K]> => {
    const stores = await openSqliteStores(opts)
    opened.push(stores)
    owners.set(stores[key], { stores, opts })
    // The test closes only the store it uses; release the others so the files close too.
    for (const k of ['warnings', 'telemetry', 'rejections', 'registry', 'risk', 'kv'] as const) if (k !== key) await stores[k].close()
    return stores[key]
  }
  return {
    make: (more: Partial<SqliteStoreOptions> = {}) => open({ dataDir: tmp(), telemetryFlushMs: 20, ...extra, ...more }),
    reopen: async (s: Stores[K]): Promise<Stores[K]> => {
      const o = owners.get(s)!
      await o.stores.close()
      return open(o.opts)
    },
  }
}

const w = factory('warnings')
warningStoreContract('sqlite', () => w.make(), { reopen: w.reopen })
const t = factory('telemetry', { telemetryBatchMax: 700 })
telemetryStoreContract('sqlite', () => t.make(), { reopen: t.reopen })
const tw = factory('telemetry', { telemetryBatchMax: 700, telemetryWorker: true })
telemetryStoreContract('sqlite in a worker thread', () => tw.make(), { reopen: tw.reopen })
const r = factory('rejections')
rejectionStoreContract('sqlite', (o) => r.make(o?.max === undefined ? {} : { rejectionsMax: o.max }), { reopen: r.reopen })
const g = factory('registry')
registryStoreContract('sqlite', () => g.make(), { reopen: g.reopen })
const k = factory('risk')
riskStoreContract('sqlite', () => k.make(), { reopen: k.reopen })
const v = factory('kv')
kvStoreContract('sqlite', () => v.make(), { reopen: v.reopen })

describe('sqlite stores', () => {
  const T0 = Date.parse('2026-11-28T00:00:00.000Z')

  it('keep warnings, readings, rejections, registry, risk and settings across close and reopen', async () => {
    const dataDir = tmp()
    const a = await openSqliteStores({ dataDir })
    expect(existsSync(join(dataDir, 'yujing.db'))).toBe(true)
    expect(existsSync(join(dataDir, 'telemetry.db'))).toBe(true)
    expect(a.health()).toEqual({ ok: true, detail: 'sqlite' })
    await a.warnings.upsertMany([warningFixture({ id: 'w1', level: 1 }, 1), warningFixture({ id: 'w2', status: 'closed' }, 2)])
    a.telemetry.write(readingBatch(Array.from({ length: 300 }, (_, i) => ({ ts: T0 + i * 1000, value: i / 10 }))))
    a.rejections.add(rejectionFixture(1))
    const version = await a.registry.save(registryFixture(2), { by: 'system', action: 'registry.upsert', target: 'demo' })
    await a.risk.putMany([riskFixture('enterprise', 'E1001', { riskLevel: 'red' })])
    await a.kv.set('auth.tokenSecret', 's3cret')
    await a.close() // flushes the buffered readings and rejections
    expect(a.health().ok).toBe(false)
    await expect(a.warnings.get('w1')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' })

    const b = await openSqliteStores({ dataDir })
    try {
      expect(await b.warnings.get('w1')).toEqual(warningFixture({ id: 'w1', level: 1 }, 1))
      expect((await b.warnings.notClosed()).map((x) => x.id)).toEqual(['w1'])
      expect(await b.warnings.episodes(warningFixture({ id: 'x' }).dedupKey)).toBe(2)
      const pts = await b.telemetry.query('S1', T0, T0 + 3_600_000)
      expect(pts).toHaveLength(300)
      expect(pts[299]).toEqual({ ts: T0 + 299_000, value: 29.9, quality: 'ok' })
      expect((await b.rejections.list({})).map((x) => x.id)).toEqual(['rej-1'])
      expect(b.rejections.counts()).toEqual({ unknown_sensor: 1 })
      expect(await b.registry.load()).toEqual({ doc: registryFixture(2), version })
      expect((await b.risk.all())[0]?.riskLevel).toBe('red')
      expect(await b.kv.get('auth.tokenSecret')).toBe('s3cret')
    } finally { await b.close() }
  })

  it('group-commits the warning upserts of one event-loop turn: one transaction, each promise resolved after it, reads see them at once', async () => {
    const shared = openSharedDb(join(tmp(), 'w.db'))
    const store = createSqliteWarningStore(shared)
    try {
      const ids = Array.from({ length: 40 }, (_, i) => `w${i}`)
      const done = ids.map((id, i) => store.upsert(warningFixture({ id, sensorId: `S${i}` }, i)))
      // the second version of w0 replaces the first in the same transaction
      done.push(store.upsert(warningFixture({ id: 'w0', sensorId: 'S0', level: 1, version: 2 }, 0)))
      expect(store.transactions()).toBe(0)
      // a read of a key nothing queued belongs to leaves the group waiting…
      expect(await store.episodes('E9-OTHER|ch4.high')).toBe(0)
      expect(await store.get('nope')).toBeUndefined()
      expect(store.transactions()).toBe(0)
      // …one that a queued row could change commits the group first: it sees every upsert made before it
      expect(await store.episodes('S7|ch4.high')).toBe(1)
      expect((await store.get('w39'))?.id).toBe('w39')
      expect(store.transactions()).toBe(1)
      await Promise.all(done)
      expect(store.transactions()).toBe(1)
      expect((await store.get('w0'))?.version).toBe(2)
      expect((await store.notClosed()).length).toBe(40)
      // upserts in separate turns, awaited one by one: one transaction each
      for (const id of ['x1', 'x2', 'x3']) await store.upsert(warningFixture({ id, sensorId: id }))
      expect(store.transactions()).toBe(4)
    } finally {
      await store.close()
    }
  })

  it('rejects every upsert of a group whose transaction failed, and the next group commits', async () => {
    const shared = openSharedDb(join(tmp(), 'w.db'))
    const store = createSqliteWarningStore(shared)
    try {
      // a trigger that fails the transaction when a warning of level 4 arrives
      shared.db.exec(`CREATE TRIGGER no_blue BEFORE INSERT ON warnings WHEN NEW.level = 4 BEGIN SELECT RAISE(ABORT, 'no blue'); END`)
      const a = store.upsert(warningFixture({ id: 'a', sensorId: 'A' }))
      const b = store.upsert(warningFixture({ id: 'b', sensorId: 'B', level: 4 }))
      await expect(a).rejects.toThrow(/no blue/)
      await expect(b).rejects.toThrow(/no blue/)
      expect(await store.get('a')).toBeUndefined() // all or nothing
      await store.upsert(warningFixture({ id: 'a', sensorId: 'A' }))
      expect((await store.get('a'))?.id).toBe('a')
    } finally {
      await store.close()
    }
  })

  it('takes 100,000 readings without blocking the caller and writes them all on flush', async () => {
    const dropped: number[] = []
    const s = await openSqliteStores({ dataDir: tmp(), telemetryFlushMs: 50, onTelemetryDropped: (n) => dropped.push(n) })
    try {
      for (let b = 0; b < 100; b++) {
        s.telemetry.write(readingBatch(Array.from({ length: 1000 }, (_, i) => ({ sensorId: `S${i % 100}`, ts: T0 + b * 1000 + i, value: b }))))
      }
      // write() returned for every batch before any flush ran: the readings are still buffered.
      expect(s.telemetry.stats().buffered + s.telemetry.stats().written).toBe(100_000)
      expect(s.telemetry.stats().buffered).toBeGreaterThan(0)
      await s.telemetry.flush()
      expect(s.telemetry.stats()).toEqual({ buffered: 0, written: 100_000, dropped: 0 })
      expect(dropped).toEqual([])
      const s42 = await s.telemetry.query('S42', T0, T0 + 200_000, 100_000)
      expect(s42).toHaveLength(1000)
      expect(s42.map((p) => p.value)).toEqual(Array.from({ length: 100 }, (_, b) => Array(10).fill(b)).flat())
    } finally { await s.close() }
  })

  it('drops the oldest readings beyond the buffer bound and reports how many', async () => {
    const dropped: number[] = []
    const s = await openSqliteStores({ dataDir: tmp(), telemetryFlushMs: 10_000, telemetryBufferMax: 1000, telemetryBatchMax: 5000, onTelemetryDropped: (n) => dropped.push(n) })
    try {
      s.telemetry.write(readingBatch(Array.from({ length: 800 }, (_, i) => ({ ts: T0 + i, value: i }))))
      s.telemetry.write(readingBatch(Array.from({ length: 500 }, (_, i) => ({ ts: T0 + 800 + i, value: 800 + i }))))
      expect(dropped).toEqual([300])
      expect(s.telemetry.stats()).toMatchObject({ buffered: 1000, dropped: 300 })
      await s.telemetry.flush()
      const pts = await s.telemetry.query('S1', T0, T0 + 10_000)
      expect(pts).toHaveLength(1000)
      expect(pts[0]!.value).toBe(300)
    } finally { await s.close() }
  })

  it('prunes in chunks larger than one statement and keeps serving queries', async () => {
    const s = await openSqliteStores({ dataDir: tmp() })
    try {
      s.telemetry.write(readingBatch(Array.from({ length: 25_000 }, (_, i) => ({ ts: T0 + i * 100, value: 1 }))))
      const pending = s.telemetry.prune(T0 + 2_400_000, T0) // flushes, then deletes 24,000 raw rows in 3 chunks
      const during = await s.telemetry.query('S1', T0 + 2_499_000, T0 + 2_500_000)
      expect(await pending).toEqual({ raw: 24_000, agg: 0 })
      expect(during.length).toBeLessThanOrEqual(10)
      const after = await s.telemetry.query('S1', T0, T0 + 2_500_000, 100_000)
      expect(after.filter((p) => p.ts < T0 + 2_400_000)).toHaveLength(40) // one mean per minute
      expect(after.filter((p) => p.ts >= T0 + 2_400_000)).toHaveLength(1000)
    } finally { await s.close() }
  })

  it('folds pruned points into exact 1-minute means, also where a prune chunk ends inside a minute', async () => {
    const s = await openSqliteStores({ dataDir: tmp() })
    try {
      // 600 points a minute, value = index: minute m holds 600m … 600m + 599, mean 600m + 299.5; the
      // 10,000-point prune chunks end inside minutes 16 and 33.
      s.telemetry.write(readingBatch(Array.from({ length: 25_000 }, (_, i) => ({ ts: T0 + i * 100, value: i, ...(i === 7 ? { quality: 'fault' as const } : {}) }))))
      expect(await s.telemetry.prune(T0 + 2_400_000, T0)).toEqual({ raw: 24_000, agg: 0 })
      const means = (await s.telemetry.query('S1', T0, T0 + 2_399_999, 100_000)).map((p) => p.value)
      expect(means).toHaveLength(40)
      expect(means[0]).toBeCloseTo((599 * 600 / 2 - 7) / 599, 9) // the fault point is not in the mean
      for (let m = 1; m < 40; m++) expect(means[m]).toBe(600 * m + 299.5)
      // A late point below the boundary does not change the mean served for its minute.
      s.telemetry.write(readingBatch([{ ts: T0 + 3 * 60_000, value: 1_000_000 }]))
      await s.telemetry.flush()
      expect((await s.telemetry.query('S1', T0 + 3 * 60_000, T0 + 3 * 60_000))[0]!.value).toBe(600 * 3 + 299.5)
    } finally { await s.close() }
  })

  it('moves a telemetry.db of the earlier text-keyed layout to the integer-key layout at open', async () => {
    const dataDir = tmp()
    const { default: Database } = await import('better-sqlite3')
    const old = new Database(join(dataDir, 'telemetry.db'))
    old.exec(`CREATE TABLE readings (sensor_id TEXT NOT NULL, ts INTEGER NOT NULL, value REAL NOT NULL, quality INTEGER NOT NULL, PRIMARY KEY (sensor_id, ts)) WITHOUT ROWID;
      CREATE TABLE readings_1m (sensor_id TEXT NOT NULL, minute INTEGER NOT NULL, vsum REAL NOT NULL, n INTEGER NOT NULL, vmin REAL NOT NULL, vmax REAL NOT NULL, PRIMARY KEY (sensor_id, minute)) WITHOUT ROWID;
      CREATE TABLE sensors (sensor_id TEXT PRIMARY KEY) WITHOUT ROWID;
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;`)
    old.prepare(`INSERT INTO meta VALUES ('raw_boundary', ?)`).run(String(T0 + 120_000))
    for (const id of ['S1', 'S2']) old.prepare('INSERT INTO sensors VALUES (?)').run(id)
    old.prepare('INSERT INTO readings_1m VALUES (?, ?, ?, ?, ?, ?)').run('S1', T0, 30, 3, 5, 15) // pruned minute, mean 10
    old.prepare('INSERT INTO readings_1m VALUES (?, ?, ?, ?, ?, ?)').run('S1', T0 + 120_000, 4, 1, 4, 4) // also still raw
    old.prepare('INSERT INTO readings VALUES (?, ?, ?, ?)').run('S1', T0 + 120_000, 4, 0)
    old.prepare('INSERT INTO readings VALUES (?, ?, ?, ?)').run('S2', T0 + 130_000, 7.5, 1)
    old.close()
    const s = await openSqliteStores({ dataDir })
    try {
      expect(await s.telemetry.query('S1', T0, T0 + 600_000)).toEqual([
        { ts: T0, value: 10, quality: 'ok' },
        { ts: T0 + 120_000, value: 4, quality: 'ok' },
      ])
      expect(await s.telemetry.query('S2', T0, T0 + 600_000)).toEqual([{ ts: T0 + 130_000, value: 7.5, quality: 'fault' }])
      s.telemetry.write(readingBatch([{ sensorId: 'S3', ts: T0 + 200_000, value: 1 }, { sensorId: 'S1', ts: T0 + 200_000, value: 2 }]))
      await s.telemetry.flush()
      expect((await s.telemetry.query('S3', T0, T0 + 600_000)).map((p) => p.value)).toEqual([1])
      // The raw minute that the old layout had also aggregated is folded once, when it is pruned.
      await s.telemetry.prune(T0 + 180_000, T0 - 1)
      expect((await s.telemetry.query('S1', T0, T0 + 600_000)).map((p) => p.value)).toEqual([10, 4, 2])
    } finally { await s.close() }
  })

  it('refuses a missing data directory option with a clear error', async () => {
    await expect(openSqliteStores({ dataDir: '' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' })
  })
})
