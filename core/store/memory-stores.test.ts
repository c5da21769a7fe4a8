// Runs every store contract against the memory adapters.
import { describe, expect, it } from 'vitest'
import { fakeClock } from '../runtime/clock.js'
import { createMemoryStores } from './memory-stores.js'
import { warningStoreContract } from './warning-store.contract.js'
import { telemetryStoreContract } from './telemetry-store.contract.js'
import { rejectionStoreContract } from './rejection-store.contract.js'
import { registryStoreContract, registryFixture } from './registry-store.contract.js'
import { riskStoreContract } from './risk-store.contract.js'
import { kvStoreContract } from './kv-store.contract.js'

warningStoreContract('memory', async () => createMemoryStores().warnings)
telemetryStoreContract('memory', async () => createMemoryStores().telemetry)
rejectionStoreContract('memory', async (o) => createMemoryStores(o?.max === undefined ? {} : { rejectionsMax: o.max }).rejections)
registryStoreContract('memory', async () => createMemoryStores().registry)
riskStoreContract('memory', async () => createMemoryStores().risk)
kvStoreContract('memory', async () => createMemoryStores().kv)

describe('memory stores', () => {
  it('stamp audit entries with the injected clock and report health until closed', async () => {
    const clock = fakeClock(Date.parse('2026-11-28T08:00:00.000Z'))
    const s = createMemoryStores({ clock })
    await s.registry.save(registryFixture(), { by: 'system', action: 'registry.upsert', target: 'demo' })
    expect((await s.registry.audit())[0]!.at).toBe(Date.parse('2026-11-28T08:00:00.000Z'))
    expect(s.health().ok).toBe(true)
    await s.close()
    expect(s.health().ok).toBe(false)
    await expect(s.kv.get('x')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' })
  })
})
