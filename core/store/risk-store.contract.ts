// The RiskStore contract suite: the latest state per (kind, id) survives, nothing else.
import { afterEach, describe, expect, it } from 'vitest'
import type { RiskState } from '../contracts/risk.js'
import type { RiskStore } from './ports.js'
import type { StoreContractOptions } from './warning-store.contract.js'

export function riskFixture(kind: RiskState['kind'], id: string, over: Partial<RiskState> = {}): RiskState {
  return {
    kind, id, riskLevel: 'yellow', score: 42.5, staticLevel: 'yellow', dynamicLevel: null,
    factors: [{ kind: 'static_profile', level: 'yellow', detail: '静态风险等级 一般' }],
    openWarnings: 0, at: 1_764_288_000_000,
    ...(kind === 'region' ? { counts: { red: 0, orange: 1, yellow: 2, blue: 3 } } : {}),
    ...over,
  }
}

export function riskStoreContract(name: string, make: () => Promise<RiskStore>, opts: StoreContractOptions<RiskStore> = {}): void {
  describe(`RiskStore contract: ${name}`, () => {
    let open: RiskStore[] = []
    const fresh = async (): Promise<RiskStore> => { const s = await make(); open.push(s); return s }
    afterEach(async () => { for (const s of open) await s.close(); open = [] })
    const byKey = (xs: RiskState[]): RiskState[] => xs.slice().sort((a, b) => `${a.kind}/${a.id}`.localeCompare(`${b.kind}/${b.id}`))

    it('starts empty and returns what was put', async () => {
      const s = await fresh()
      expect(await s.all()).toEqual([])
      const states = [riskFixture('enterprise', 'E1001'), riskFixture('region', 'R5101')]
      await s.putMany(states)
      expect(byKey(await s.all())).toEqual(byKey(states))
    })

    it('replaces the state of the same (kind, id) and keeps kinds apart', async () => {
      const s = await fresh()
      await s.putMany([riskFixture('enterprise', 'X1'), riskFixture('region', 'X1'), riskFixture('enterprise', 'E2')])
      const red = riskFixture('enterprise', 'X1', { riskLevel: 'red', score: 97, dynamicLevel: 'red', openWarnings: 3 })
      await s.putMany([red])
      await s.putMany([])
      const all = byKey(await s.all())
      expect(all).toHaveLength(3)
      expect(all).toEqual(byKey([red, riskFixture('region', 'X1'), riskFixture('enterprise', 'E2')]))
    })

    if (opts.reopen) {
      const reopen = opts.reopen
      it('keeps states across a reopen', async () => {
        const s = await fresh()
        await s.putMany([riskFixture('region', 'R51', { riskLevel: 'orange' })])
        const s2 = await reopen(s)
        open.push(s2)
        expect(await s2.all()).toEqual([riskFixture('region', 'R51', { riskLevel: 'orange' })])
      })
    }
  })
}
