import { describe, expect, it } from 'vitest'
import type { Finding } from '../core/contracts/finding.js'
import type { RiskState } from '../core/contracts/risk.js'
import { topics } from '../core/contracts/topics.js'
import type { Warning } from '../core/contracts/warning.js'
import { createMemoryBus } from '../core/bus/memory-bus.js'
import { createRegistryHolder } from '../core/registry/registry-holder.js'
import { indexRegistry } from '../core/registry/registry-index.js'
import { fakeClock } from '../core/runtime/clock.js'
import { createLogger } from '../core/runtime/logger.js'
import { apply } from './lifecycle.js'
import { createRiskTracker } from './risk-tracker.js'
import { memoryRiskStore } from './testing/memory-stores.js'
import { testRegistry, testRegistryDoc } from './testing/fixtures.js'

const T0 = Date.parse('2026-11-28T00:00:00.000Z')
const sorted = (xs: string[]): string[] => [...xs].sort()

function warning(enterpriseId: string, level: 1 | 2 | 3 | 4, key = `${enterpriseId}|r`, p: Partial<Finding> = {}): Warning {
  const f: Finding = { key, kind: 'threshold', ruleId: 'r', enterpriseId, regionId: 'x', active: true, level, title: 't', at: T0, ...p }
  return apply(undefined, { type: 'finding', finding: f }, T0).warning!
}

async function setup(opts: { coalesceMs?: number } = {}) {
  const clock = fakeClock(T0)
  const bus = createMemoryBus()
  const registry = createRegistryHolder(testRegistry())
  const store = memoryRiskStore()
  const seen: RiskState[][] = []
  let batch: RiskState[] = []
  await bus.subscribe(topics.risk, { group: 't' }, (s) => { batch.push(s) })
  const take = async (): Promise<string[]> => {
    await bus.drain()
    seen.push(batch)
    const ids = batch.map((s) => `${s.id}:${s.riskLevel}`).sort()
    batch = []
    return ids
  }
  const tracker = createRiskTracker({ bus, registry, store, clock, logger: createLogger({ level: 'silent' }), options: opts })
  return { clock, bus, registry, store, tracker, take }
}

/** Let timer-started flushes finish. */
const tick = async (): Promise<void> => { for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r)) }

describe('risk tracker', () => {
  it('at start computes, persists and publishes everything', async () => {
    const { tracker, take, store } = await setup()
    await tracker.start([warning('E2', 2)])
    expect(await take()).toEqual(sorted([
      'E1:yellow', 'E2:orange', 'E3:blue', 'G1:orange', 'R51:orange', 'R5101:orange', 'R510101:orange', 'R5102:blue', 'R5103:blue',
    ]))
    expect(store.get('region', 'R5103')).toMatchObject({ riskLevel: 'blue', score: 0 })
    expect(store.get('region', 'R51')).toMatchObject({ counts: { red: 0, orange: 1, yellow: 1, blue: 1 }, openWarnings: 1 })
    await tracker.stop()
  })

  it('recomputes only the changed enterprise and its ancestors, coalesced every 500 ms', async () => {
    const { tracker, take, clock, store } = await setup()
    await tracker.start([])
    await take()
    const w = warning('E3', 3)
    tracker.update(w)
    tracker.update(apply(w, { type: 'finding', finding: { key: w.dedupKey, kind: 'threshold', ruleId: 'r', enterpriseId: 'E3', regionId: 'x', active: true, level: 1, title: 't', at: T0 } }, T0 + 100).warning!)
    expect(await take()).toEqual([]) // nothing before the interval
    clock.advance(500)
    await tick()
    // E3 went red (one publish, not two); its city and the province follow; E1, E2, G1 … are untouched
    expect(await take()).toEqual(sorted(['E3:red', 'R51:red', 'R5102:red']))
    expect(store.get('enterprise', 'E3')).toMatchObject({ riskLevel: 'red', openWarnings: 1 })
    // three updates in one interval: only the final state is published
    tracker.update(w)
    tracker.update({ ...w, version: 9, status: 'closed' })
    tracker.update(w)
    clock.advance(500)
    await tick()
    expect(await take()).toEqual(sorted(['E3:yellow', 'R51:yellow', 'R5102:yellow']))
    // an update that alters no state publishes nothing
    tracker.update({ ...w, version: 10, peakValue: 3 })
    clock.advance(500)
    await tick()
    expect(await take()).toEqual([])
    await tracker.stop()
  })

  it('closing the last warning brings the enterprise back to its static level', async () => {
    const { tracker, take } = await setup()
    const w = warning('E1', 1)
    await tracker.start([w])
    expect((await take()).filter((s) => s.startsWith('E1') || s.startsWith('R51:'))).toEqual(sorted(['E1:red', 'R51:red']))
    tracker.update({ ...w, status: 'closed', version: 2 })
    await tracker.flush()
    expect(await take()).toEqual(sorted(['E1:yellow', 'G1:yellow', 'R51:yellow', 'R5101:yellow', 'R510101:yellow']))
    await tracker.stop()
  })

  it('an alarm burst ages out of its 24 h window', async () => {
    const { tracker, take, clock } = await setup()
    // three red warnings on E3 raised at T0 and already closed: burst → E3 one level above its blue
    const closed = [1, 2, 3].map((i) => ({ ...warning('E3', 1, `E3-${i}|r`), status: 'closed' as const }))
    await tracker.start([warning('E3', 4, 'E3-x|r')], closed)
    expect((await take()).filter((s) => s.startsWith('E3'))).toEqual(['E3:yellow'])
    clock.advance(24 * 3600_000 - 1000)
    await tick()
    expect(await take()).toEqual([])
    clock.advance(1000)
    await tick()
    expect(await take()).toEqual(sorted(['E3:blue', 'R5102:blue', 'R51:yellow']))
    await tracker.stop()
  })

  it('a registry change recomputes everything', async () => {
    const { tracker, take, registry, clock } = await setup()
    await tracker.start([])
    await take()
    const doc = testRegistryDoc()
    doc.enterprises[2] = { ...doc.enterprises[2]!, profile: { majorHazardLevel: 1 } }
    registry.set(indexRegistry(doc, 2))
    clock.advance(500)
    await tick()
    expect(await take()).toEqual(sorted(['E3:red', 'R51:red', 'R5102:red']))
    await tracker.stop()
  })

  it('a failed persist is retried and nothing is published before it succeeds', async () => {
    const { tracker, take, store } = await setup()
    await tracker.start([])
    await take()
    const putMany = store.putMany.bind(store)
    let fail = true
    store.putMany = async (s) => { if (fail) throw new Error('disk full'); return putMany(s) }
    tracker.update(warning('E2', 1))
    await tracker.flush()
    expect(await take()).toEqual([])
    fail = false
    await tracker.flush()
    expect(await take()).toEqual(sorted(['E2:red', 'G1:red', 'R51:red', 'R5101:red', 'R510101:red']))
    await tracker.stop()
  })
})
