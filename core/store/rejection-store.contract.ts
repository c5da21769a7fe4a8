// The RejectionStore contract suite: newest first, filters, a bounded size, totals by reason.
// `make({ max })` returns a fresh, empty store keeping at most `max` rejections (default its own).
import { afterEach, describe, expect, it } from 'vitest'
import type { Rejection, RejectionReason } from '../contracts/reading.js'
import type { RejectionStore } from './ports.js'
import type { StoreContractOptions } from './warning-store.contract.js'

const T0 = Date.parse('2026-11-28T00:00:00.000Z')

export function rejectionFixture(n: number, over: Partial<Rejection> = {}): Rejection {
  return {
    id: `rej-${n}`, at: T0 + n * 1000, reason: 'unknown_sensor', message: `sensor X${n} is not registered`,
    topic: 'sensors/E1001/X', gatewayId: 'gw-E1001', enterpriseId: 'E1001', sensorId: `X${n}`, raw: `{"ts":${n},"value":1}`,
    ...over,
  }
}

export function rejectionStoreContract(name: string, make: (opts?: { max?: number }) => Promise<RejectionStore>, opts: StoreContractOptions<RejectionStore> = {}): void {
  describe(`RejectionStore contract: ${name}`, () => {
    let open: RejectionStore[] = []
    const fresh = async (o?: { max?: number }): Promise<RejectionStore> => { const s = await make(o); open.push(s); return s }
    afterEach(async () => { for (const s of open) await s.close(); open = [] })
    const ids = (rs: Rejection[]): string[] => rs.map((r) => r.id)

    it('lists newest first with every field kept', async () => {
      const s = await fresh()
      s.add(rejectionFixture(2))
      s.add(rejectionFixture(1, { index: 4, reason: 'bad_json', sensorId: undefined as never }))
      s.add(rejectionFixture(3))
      await s.flush()
      const got = await s.list({})
      expect(ids(got)).toEqual(['rej-3', 'rej-2', 'rej-1'])
      expect(got[2]).toEqual(rejectionFixture(1, { index: 4, reason: 'bad_json', sensorId: undefined as never }))
    })

    it('filters by gatewayId, enterpriseIds, reason and since, and limits to 100 by default, 1,000 at most', async () => {
      const s = await fresh()
      const reasons: RejectionReason[] = ['bad_json', 'unknown_sensor', 'timestamp_too_old']
      for (let i = 0; i < 1200; i++) {
        s.add(rejectionFixture(i, { reason: reasons[i % 3]!, gatewayId: `gw-${i % 4}`, enterpriseId: `E${i % 5}` }))
      }
      await s.flush()
      const def = await s.list({})
      expect(def).toHaveLength(100)
      expect(def[0]!.id).toBe('rej-1199')
      expect(await s.list({ limit: 5000 })).toHaveLength(1000)
      expect(ids(await s.list({ gatewayId: 'gw-1', limit: 3 }))).toEqual(['rej-1197', 'rej-1193', 'rej-1189'])
      expect(ids(await s.list({ enterpriseIds: ['E0', 'E2'], limit: 4 }))).toEqual(['rej-1197', 'rej-1195', 'rej-1192', 'rej-1190'])
      expect(await s.list({ enterpriseIds: [] })).toEqual([])
      expect(ids(await s.list({ reason: 'bad_json', limit: 2 }))).toEqual(['rej-1197', 'rej-1194'])
      expect(ids(await s.list({ since: T0 + 1197 * 1000 }))).toEqual(['rej-1199', 'rej-1198', 'rej-1197'])
      expect(ids(await s.list({ reason: 'timestamp_too_old', gatewayId: 'gw-0', since: T0 + 1100 * 1000, limit: 3 }))).toEqual(['rej-1196', 'rej-1184', 'rej-1172'])
    })

    it('keeps only the newest max rejections but counts every one by reason', async () => {
      const s = await fresh({ max: 10 })
      for (let i = 1; i <= 25; i++) s.add(rejectionFixture(i, { reason: i % 5 === 0 ? 'bad_json' : 'unknown_sensor' }))
      await s.flush()
      for (let i = 26; i <= 30; i++) s.add(rejectionFixture(i, { reason: 'duplicate' }))
      await s.flush()
      expect(ids(await s.list({ limit: 1000 }))).toEqual(Array.from({ length: 10 }, (_, k) => `rej-${30 - k}`))
      expect(s.counts()).toEqual({ bad_json: 5, unknown_sensor: 20, duplicate: 5 })
    })

    it('never throws on odd input', async () => {
      const s = await fresh()
      expect(() => s.add(undefined as unknown as Rejection)).not.toThrow()
      expect(() => s.add(rejectionFixture(1, { raw: '\u0000'.repeat(10) + '毒' }))).not.toThrow()
      await s.flush()
      expect((await s.list({}))[0]?.raw).toBe('\u0000'.repeat(10) + '毒')
    })

    if (opts.reopen) {
      const reopen = opts.reopen
      it('keeps rejections and totals across a reopen (close flushes)', async () => {
        const s = await fresh()
        s.add(rejectionFixture(1))
        await s.flush()
        s.add(rejectionFixture(2, { reason: 'bad_json' }))
        const s2 = await reopen(s)
        open.push(s2)
        expect(ids(await s2.list({}))).toEqual(['rej-2', 'rej-1'])
        expect(s2.counts()).toEqual({ unknown_sensor: 1, bad_json: 1 })
      })
    }
  })
}
