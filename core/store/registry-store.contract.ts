// The RegistryStore contract suite: versions increase, load returns the newest, every save is audited.
import { afterEach, describe, expect, it } from 'vitest'
import type { RegistryDoc } from '../contracts/registry.js'
import type { RegistryStore } from './ports.js'
import type { StoreContractOptions } from './warning-store.contract.js'

export function registryFixture(sensors = 1): RegistryDoc {
  return {
    regions: [{ id: 'R51', name: '示例省', level: 'province' }, { id: 'R5101', name: '甲市', level: 'city', parentId: 'R51' }],
    enterprises: [{ id: 'E1001', name: '某煤矿', industry: 'coal_mine', regionId: 'R5101', location: [104.06, 30.61], profile: { staticRiskLevel: 'yellow', majorHazardLevel: null, employees: 420 } }],
    sensors: Array.from({ length: sensors }, (_, i) => ({ id: `E1001-CH4-0${i + 1}`, enterpriseId: 'E1001', type: 'ch4' as const, role: 'working_face', thresholds: { orange: 1.0, red: 1.5, clear: 1.0 } })),
    gateways: [{ id: 'gw-E1001', enterpriseId: 'E1001', token: 'sha256:00ff' }],
    users: [{ username: 'duty1', password: '$2b$10$abcdefghijklmnopqrstuv', role: 'duty', regionIds: ['R5101'] }],
  }
}

export function registryStoreContract(name: string, make: () => Promise<RegistryStore>, opts: StoreContractOptions<RegistryStore> = {}): void {
  describe(`RegistryStore contract: ${name}`, () => {
    let open: RegistryStore[] = []
    const fresh = async (): Promise<RegistryStore> => { const s = await make(); open.push(s); return s }
    afterEach(async () => { for (const s of open) await s.close(); open = [] })

    it('loads nothing from an empty store', async () => {
      const s = await fresh()
      expect(await s.load()).toBeUndefined()
      expect(await s.audit()).toEqual([])
    })

    it('saves increasing versions and loads the newest', async () => {
      const s = await fresh()
      const v1 = await s.save(registryFixture(1), { by: 'system', action: 'registry.upsert', target: 'demo' })
      const v2 = await s.save(registryFixture(2), { by: 'admin', action: 'sensor.add', target: 'E1001-CH4-02' })
      const v3 = await s.save(registryFixture(3), { by: 'admin', action: 'sensor.add', target: 'E1001-CH4-03' })
      expect(Number.isInteger(v1) && v1 >= 1).toBe(true)
      expect(v2).toBeGreaterThan(v1)
      expect(v3).toBeGreaterThan(v2)
      expect(await s.load()).toEqual({ doc: registryFixture(3), version: v3 })
    })

    it('audits every save, newest first, with the given or a current time', async () => {
      const s = await fresh()
      await s.save(registryFixture(), { at: 1_700_000_000_000, by: 'system', action: 'registry.upsert', target: 'file:a.yaml' })
      await s.save(registryFixture(2), { at: 1_700_000_100_000, by: 'admin', action: 'sensor.update', target: 'E1001-CH4-02', detail: '阈值 1.0 → 0.8' })
      await s.save(registryFixture(2), { by: 'admin2', action: 'user.add', target: 'viewer9' })
      const all = await s.audit()
      expect(all).toHaveLength(3)
      expect(all[0]).toMatchObject({ by: 'admin2', action: 'user.add', target: 'viewer9' })
      expect(Number.isFinite(all[0]!.at)).toBe(true)
      expect(all[0]!.detail).toBeUndefined()
      expect(all[1]).toEqual({ at: 1_700_000_100_000, by: 'admin', action: 'sensor.update', target: 'E1001-CH4-02', detail: '阈值 1.0 → 0.8' })
      expect(all[2]).toEqual({ at: 1_700_000_000_000, by: 'system', action: 'registry.upsert', target: 'file:a.yaml' })
      expect((await s.audit(2)).map((a) => a.by)).toEqual(['admin2', 'admin'])
    })

    if (opts.reopen) {
      const reopen = opts.reopen
      it('keeps versions and audit across a reopen, and keeps numbering up', async () => {
        const s = await fresh()
        const v1 = await s.save(registryFixture(1), { by: 'system', action: 'registry.upsert', target: 'demo' })
        const s2 = await reopen(s)
        open.push(s2)
        expect(await s2.load()).toEqual({ doc: registryFixture(1), version: v1 })
        const v2 = await s2.save(registryFixture(2), { by: 'admin', action: 'sensor.add', target: 'x' })
        expect(v2).toBeGreaterThan(v1)
        expect((await s2.audit()).map((a) => a.target)).toEqual(['x', 'demo'])
      })
    }
  })
}
