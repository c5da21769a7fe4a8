// The KeyValueStore contract suite: set then get returns the value exactly; unknown keys are undefined.
import { afterEach, describe, expect, it } from 'vitest'
import type { KeyValueStore } from './ports.js'
import type { StoreContractOptions } from './warning-store.contract.js'

export function kvStoreContract(name: string, make: () => Promise<KeyValueStore>, opts: StoreContractOptions<KeyValueStore> = {}): void {
  describe(`KeyValueStore contract: ${name}`, () => {
    let open: KeyValueStore[] = []
    const fresh = async (): Promise<KeyValueStore> => { const s = await make(); open.push(s); return s }
    afterEach(async () => { for (const s of open) await s.close(); open = [] })

    it('gets undefined for an unknown key and exactly what was set otherwise', async () => {
      const s = await fresh()
      expect(await s.get('auth.tokenSecret')).toBeUndefined()
      await s.set('auth.tokenSecret', 'c2VjcmV0')
      await s.set('empty', '')
      await s.set('zh', '维护静音 2h ✓\n{"json":true}')
      expect(await s.get('auth.tokenSecret')).toBe('c2VjcmV0')
      expect(await s.get('empty')).toBe('')
      expect(await s.get('zh')).toBe('维护静音 2h ✓\n{"json":true}')
    })

    it('overwrites a key', async () => {
      const s = await fresh()
      await s.set('mute:S1|ch4.high', '1')
      await s.set('mute:S1|ch4.high', '2')
      expect(await s.get('mute:S1|ch4.high')).toBe('2')
      expect(await s.get('mute:S2|ch4.high')).toBeUndefined()
    })

    if (opts.reopen) {
      const reopen = opts.reopen
      it('keeps values across a reopen', async () => {
        const s = await fresh()
        await s.set('k', 'v')
        const s2 = await reopen(s)
        open.push(s2)
        expect(await s2.get('k')).toBe('v')
      })
    }
  })
}
