// The WarningStore contract suite: every adapter (memory, SQLite, PostgreSQL) runs these same tests.
// `make` returns a fresh, empty store; `reopen` (optional) closes it and opens the same data again.
import { afterEach, describe, expect, it } from 'vitest'
import type { Warning } from '../contracts/warning.js'
import { COLOR_OF_LEVEL } from '../contracts/levels.js'
import type { WarningStore } from './ports.js'

const T0 = Date.parse('2026-11-28T00:00:00.000Z')
const iso = (ms: number): string => new Date(ms).toISOString()

/** A complete, valid warning; `n` shifts its times by n minutes. */
export function warningFixture(over: Partial<Warning> & { id: string }, n = 0): Warning {
  const level = over.level ?? 2
  const at = iso(T0 + n * 60_000)
  return {
    level, color: COLOR_OF_LEVEL[level], status: 'open', active: true, currentLevel: level,
    ackDeadline: iso(T0 + n * 60_000 + 900_000), escalationTier: 'enterprise', kind: 'threshold',
    ruleId: 'ch4.high', dedupKey: `${over.sensorId ?? 'E1001-CH4-01'}|ch4.high`, enterpriseId: 'E1001',
    sensorId: 'E1001-CH4-01', regionId: 'R5101-G07', title: '甲烷浓度超限', value: 1.2, threshold: 1.0, peakValue: 1.2,
    occurrences: 1, raisedAt: at, updatedAt: at, notifications: 0, version: 1,
    events: [{ type: 'raised', at, level }],
    ...over,
  }
}

export interface StoreContractOptions<S> {
  /** Close this store and open a new one on the same data (durable adapters). */
  reopen?: (s: S) => Promise<S>
}

export function warningStoreContract(name: string, make: () => Promise<WarningStore>, opts: StoreContractOptions<WarningStore> = {}): void {
  describe(`WarningStore contract: ${name}`, () => {
    let open: WarningStore[] = []
    const fresh = async (): Promise<WarningStore> => { const s = await make(); open.push(s); return s }
    afterEach(async () => { for (const s of open) await s.close(); open = [] })
    const ids = (ws: Warning[]): string[] => ws.map((w) => w.id)

    it('returns what was upserted, events included, and undefined for an unknown id', async () => {
      const s = await fresh()
      const w = warningFixture({ id: 'w1', acknowledgedBy: 'duty1', clearedAt: iso(T0 + 5000) })
      await s.upsert(w)
      expect(await s.get('w1')).toEqual(w)
      expect(await s.get('nope')).toBeUndefined()
    })

    it('replaces a warning by id with its whole history', async () => {
      const s = await fresh()
      await s.upsert(warningFixture({ id: 'w1' }))
      const next = warningFixture({
        id: 'w1', status: 'acknowledged', level: 1, version: 2, acknowledgedAt: iso(T0 + 60_000), acknowledgedBy: 'duty1',
        updatedAt: iso(T0 + 60_000),
        events: [{ type: 'raised', at: iso(T0), level: 2 }, { type: 'escalated_level', at: iso(T0 + 30_000), level: 1 }, { type: 'acknowledged', at: iso(T0 + 60_000), by: 'duty1', note: '已到场' }],
      })
      await s.upsert(next)
      expect(await s.get('w1')).toEqual(next)
      expect(ids(await s.list({}))).toEqual(['w1'])
      expect(await s.episodes(next.dedupKey)).toBe(1)
    })

    it('hands out copies: mutating a returned or given warning does not change the store', async () => {
      const s = await fresh()
      const w = warningFixture({ id: 'w1' })
      await s.upsert(w)
      w.title = 'changed by caller'
      const got = (await s.get('w1'))!
      got.events.push({ type: 'occurred', at: iso(T0) })
      const again = (await s.get('w1'))!
      expect(again.title).toBe('甲烷浓度超限')
      expect(again.events).toHaveLength(1)
    })

    it('lists most severe first, then newest raisedAt', async () => {
      const s = await fresh()
      await s.upsertMany([
        warningFixture({ id: 'y-old', level: 3 }, 1),
        warningFixture({ id: 'r-old', level: 1 }, 2),
        warningFixture({ id: 'o-new', level: 2 }, 9),
        warningFixture({ id: 'r-new', level: 1 }, 5),
        warningFixture({ id: 'b', level: 4 }, 20),
        warningFixture({ id: 'o-old', level: 2 }, 3),
      ])
      expect(ids(await s.list({}))).toEqual(['r-new', 'r-old', 'o-new', 'o-old', 'y-old', 'b'])
    })

    it('excludes closed warnings by default; status selects exactly the statuses given', async () => {
      const s = await fresh()
      await s.upsertMany([
        warningFixture({ id: 'open' }, 1),
        warningFixture({ id: 'ack', status: 'acknowledged' }, 2),
        warningFixture({ id: 'disp', status: 'disposing' }, 3),
        warningFixture({ id: 'closed', status: 'closed', closedAt: iso(T0 + 600_000), outcome: 'resolved' }, 4),
      ])
      expect(ids(await s.list({}))).toEqual(['disp', 'ack', 'open'])
      expect(ids(await s.list({ status: ['closed'] }))).toEqual(['closed'])
      expect(ids(await s.list({ status: ['open', 'closed'] }))).toEqual(['closed', 'open'])
      expect(ids(await s.list({ status: [] }))).toEqual([])
      expect(ids(await s.notClosed()).sort()).toEqual(['ack', 'disp', 'open'])
    })

    it('filters by regionIds, enterpriseIds, level, sensorId and since (updatedAt at or after)', async () => {
      const s = await fresh()
      await s.upsertMany([
        warningFixture({ id: 'a', regionId: 'R1', enterpriseId: 'E1', sensorId: 'S1', level: 1 }, 1),
        warningFixture({ id: 'b', regionId: 'R1', enterpriseId: 'E2', sensorId: 'S2', level: 2 }, 2),
        warningFixture({ id: 'c', regionId: 'R2', enterpriseId: 'E3', sensorId: 'S3', level: 3 }, 3),
        warningFixture({ id: 'd', regionId: 'R3', enterpriseId: 'E3', level: 2, kind: 'enterprise_risk', sensorId: undefined as never }, 4),
      ])
      const d = (await s.get('d'))!
      expect(d.sensorId).toBeUndefined()
      expect(ids(await s.list({ regionIds: ['R1'] }))).toEqual(['a', 'b'])
      expect(ids(await s.list({ regionIds: ['R2', 'R3'] }))).toEqual(['d', 'c'])
      expect(ids(await s.list({ regionIds: [] }))).toEqual([])
      expect(ids(await s.list({ enterpriseIds: ['E3'] }))).toEqual(['d', 'c'])
      expect(ids(await s.list({ enterpriseIds: ['E2', 'E9'] }))).toEqual(['b'])
      expect(ids(await s.list({ level: [2] }))).toEqual(['d', 'b'])
      expect(ids(await s.list({ level: [1, 3] }))).toEqual(['a', 'c'])
      expect(ids(await s.list({ sensorId: 'S2' }))).toEqual(['b'])
      expect(ids(await s.list({ since: T0 + 3 * 60_000 }))).toEqual(['d', 'c'])
      expect(ids(await s.list({ since: T0 + 3 * 60_000 + 1 }))).toEqual(['d'])
      expect(ids(await s.list({ regionIds: ['R1', 'R2'], level: [2, 3], since: T0 }))).toEqual(['b', 'c'])
    })

    it('limits to 100 by default and 1,000 at most, keeping the most severe', async () => {
      const s = await fresh()
      const many: Warning[] = []
      for (let i = 0; i < 1100; i++) many.push(warningFixture({ id: `w${String(i).padStart(4, '0')}`, level: i < 50 ? 1 : 3 }, i))
      many.push(warningFixture({ id: 'closed', status: 'closed', level: 1 }, 5000))
      await s.upsertMany(many)
      const def = await s.list({})
      expect(def).toHaveLength(100)
      expect(ids(def.slice(0, 3))).toEqual(['w0049', 'w0048', 'w0047'])
      expect(def[50]!.id).toBe('w1099')
      expect(await s.list({ limit: 5000 })).toHaveLength(1000)
      expect(ids(await s.list({ limit: 2 }))).toEqual(['w0049', 'w0048'])
      expect(await s.notClosed()).toHaveLength(1100)
    })

    it('counts episodes per dedup key and finds the newest closed one', async () => {
      const s = await fresh()
      const key = 'S1|ch4.high'
      expect(await s.episodes(key)).toBe(0)
      expect(await s.lastClosed(key)).toBeUndefined()
      await s.upsertMany([
        warningFixture({ id: 'e1', dedupKey: key, status: 'closed', closedAt: iso(T0 + 10 * 60_000), outcome: 'resolved' }, 0),
        warningFixture({ id: 'e2', dedupKey: key, status: 'closed', closedAt: iso(T0 + 30 * 60_000), outcome: 'maintenance' }, 20),
        warningFixture({ id: 'e3', dedupKey: key, status: 'open' }, 40),
        warningFixture({ id: 'other', dedupKey: 'S2|ch4.high', status: 'closed', closedAt: iso(T0 + 99 * 60_000) }, 50),
      ])
      expect(await s.episodes(key)).toBe(3)
      expect(await s.episodes('S2|ch4.high')).toBe(1)
      const last = await s.lastClosed(key)
      expect(last?.id).toBe('e2')
      expect(last?.outcome).toBe('maintenance')
      expect(await s.lastClosed('S3|none')).toBeUndefined()
      await s.upsert(warningFixture({ id: 'e3', dedupKey: key, status: 'closed', closedAt: iso(T0 + 50 * 60_000), outcome: 'false_alarm' }, 40))
      expect((await s.lastClosed(key))?.id).toBe('e3')
      expect(await s.episodes(key)).toBe(3)
    })

    it('accepts an empty upsertMany and a repeated close', async () => {
      const s = await fresh()
      await s.upsertMany([])
      expect(await s.list({})).toEqual([])
      await s.close()
      await s.close()
    })

    if (opts.reopen) {
      const reopen = opts.reopen
      it('keeps every resolved write across a reopen', async () => {
        const s = await fresh()
        await s.upsert(warningFixture({ id: 'w1', level: 1 }, 1))
        await s.upsertMany([warningFixture({ id: 'w2', status: 'closed', closedAt: iso(T0 + 9e5) }, 2), warningFixture({ id: 'w3' }, 3)])
        const s2 = await reopen(s)
        open.push(s2)
        expect((await s2.get('w2'))?.status).toBe('closed')
        expect(ids(await s2.list({}))).toEqual(['w1', 'w3'])
        expect(await s2.episodes(warningFixture({ id: 'x' }).dedupKey)).toBe(3)
      })
    }
  })
}
