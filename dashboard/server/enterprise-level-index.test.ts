// The enterprise level index: its counts equal a full recount (every enterprise's level from its risk
// state, else its profile and active warnings) after any sequence of warnings, risk states and registry
// changes, for unrestricted, region- and enterprise-scoped jurisdictions; and it recounts only what
// changed.
import { expect, test } from 'vitest'
import { createMemoryBus } from '../../core/bus/memory-bus.js'
import { COLORS, type Color, type WarningLevel } from '../../core/contracts/levels.js'
import type { LevelCounts } from '../../core/contracts/api.js'
import type { Enterprise, RegistryDoc } from '../../core/contracts/registry.js'
import { topics } from '../../core/contracts/topics.js'
import type { Warning } from '../../core/contracts/warning.js'
import { createRegistryHolder } from '../../core/registry/registry-holder.js'
import { indexRegistry, type RegistryIndex } from '../../core/registry/registry-index.js'
import { fakeClock } from '../../core/runtime/clock.js'
import { createLogger } from '../../core/runtime/logger.js'
import { createMemoryStores } from '../../core/store/memory-stores.js'
import { createEnterpriseLevelIndex } from './enterprise-level-index.js'
import { jurisdictionOf, type Jurisdiction } from './jurisdiction.js'
import { createLiveView, type LiveView } from './live-view.js'
import { fixtureDoc, makeWarning } from './testing/fixture.js'
import { enterpriseRiskLevel } from './views.js'

const COUNTIES = ['R5101-C01', 'R5101-C02', 'R5102-C01']

function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function docWith(enterprises: Enterprise[]): RegistryDoc {
  const d = fixtureDoc()
  return { ...d, enterprises: [...d.enterprises, ...enterprises] }
}

function recount(idx: RegistryIndex, live: LiveView, j: Jurisdiction): LevelCounts {
  const open = new Map<string, Warning[]>()
  for (const w of live.warnings()) open.set(w.enterpriseId, [...(open.get(w.enterpriseId) ?? []), w])
  const n: LevelCounts = { red: 0, orange: 0, yellow: 0, blue: 0 }
  for (const e of idx.enterprises.values()) if (j.seesEnterprise(e.id)) n[enterpriseRiskLevel(live, e, open.get(e.id))]++
  return n
}

async function setup(doc: RegistryDoc, preload: Warning[] = []) {
  const bus = createMemoryBus()
  const stores = createMemoryStores()
  for (const w of preload) await stores.warnings.upsert(w)
  const registry = createRegistryHolder(indexRegistry(doc))
  const live = createLiveView({ bus, stores, clock: fakeClock(), registry, logger: createLogger({ level: 'silent' }), instanceId: 'a' })
  await live.start()
  return { bus, registry, live }
}

test('counts equal a full recount through random warnings, risk states and registry changes, in every kind of jurisdiction', async () => {
  const rand = rng(20261129)
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)]!
  let extra: Enterprise[] = Array.from({ length: 40 }, (_, i) => ({
    id: `X${i}`, name: `企业${i}`, industry: 'hazardous_chemical', regionId: pick(COUNTIES), location: [104.2, 30.2] as [number, number],
    ...(rand() < 0.6 ? { profile: { staticRiskLevel: pick(COLORS) } } : {}),
  }))
  const { bus, registry, live } = await setup(docWith(extra), [makeWarning({ id: 'P1', enterpriseId: 'X3', level: 1, currentLevel: 1 })])
  const levels = createEnterpriseLevelIndex(live, registry)
  const scopes = [{}, { regionIds: ['R5101'] }, { regionIds: ['R5102-C01', 'R5101-C02'] }, { enterpriseIds: ['E3', 'X7', 'X8', 'nope'] }]
  const warnings = new Map<string, Warning>()
  let at = 1
  let checked = 0
  const check = async (): Promise<void> => {
    await bus.drain()
    const idx = registry.current()
    for (const s of scopes) {
      const j = jurisdictionOf(s, idx)
      expect(levels.counts(j)).toEqual(recount(idx, live, j))
      checked++
    }
  }
  await check() // the warning loaded from the store at start counts (X3 red, no risk state)
  expect(levels.counts(jurisdictionOf({ enterpriseIds: ['X3'] }, registry.current())).red).toBe(1)

  for (let step = 0; step < 600; step++) {
    const ids = [...registry.current().enterprises.keys()]
    const r = rand()
    if (r < 0.3) {
      await bus.publish(topics.risk, { kind: 'enterprise', id: pick(ids), riskLevel: pick(COLORS), score: Math.round(rand() * 100), factors: [], openWarnings: 0, at: at++ })
    } else if (r < 0.35) {
      await bus.publish(topics.risk, { kind: 'region', id: pick(COUNTIES), riskLevel: pick(COLORS), score: 1, factors: [], openWarnings: 0, at: at++ })
    } else if (r < 0.85) {
      const existing = warnings.size && rand() < 0.5 ? pick([...warnings.values()]) : undefined
      let w: Warning
      if (existing) {
        const next = rand()
        w = { ...existing, version: (existing.version ?? 1) + 1,
          ...(next < 0.3 ? { status: 'closed' as const, active: false } : next < 0.6 ? { active: !existing.active } : { currentLevel: (1 + Math.floor(rand() * 4)) as WarningLevel }) }
      } else {
        const level = (1 + Math.floor(rand() * 4)) as WarningLevel
        w = makeWarning({ id: `W${step}`, enterpriseId: pick(ids), level, currentLevel: level, version: 1, active: rand() < 0.8 })
      }
      if (w.status === 'closed') warnings.delete(w.id)
      else warnings.set(w.id, w)
      await bus.publish(topics.warnings, w)
    } else if (r < 0.9) {
      // Registry change: an enterprise's static level changes, one leaves, one arrives.
      extra = extra.map((e, i) => (i === step % extra.length ? { ...e, profile: { staticRiskLevel: pick(COLORS) as Color } } : e))
      if (rand() < 0.5) extra = extra.filter((_, i) => i !== (step * 7) % extra.length)
      extra.push({ id: `N${step}`, name: `新企业${step}`, industry: 'gas_network', regionId: pick(COUNTIES), location: [105.1, 30.1] })
      registry.set(indexRegistry(docWith(extra), step + 2))
    }
    if (step % 3 === 0) await check()
  }
  await check()
  expect(checked).toBeGreaterThan(800)
  levels.stop()
  await live.stop()
})

test('after one enterprise changes, a count looks up that enterprise only', async () => {
  const extra: Enterprise[] = Array.from({ length: 500 }, (_, i) => ({ id: `X${i}`, name: `企业${i}`, industry: 'gas_network', regionId: COUNTIES[i % 3]!, location: [105.1, 30.1] as [number, number] }))
  const { bus, registry, live } = await setup(docWith(extra))
  let lookups = 0
  const counted: LiveView = { ...live, risk: (kind, id) => { lookups++; return live.risk(kind, id) } }
  const levels = createEnterpriseLevelIndex(counted, registry)
  const all = jurisdictionOf({}, registry.current())
  expect(levels.counts(all)).toEqual({ red: 0, orange: 1, yellow: 1, blue: 501 })
  expect(lookups).toBe(503) // the first count colours every enterprise

  lookups = 0
  await bus.publish(topics.risk, { kind: 'enterprise', id: 'X42', riskLevel: 'red', score: 90, factors: [], openWarnings: 1, at: 1 })
  await bus.publish(topics.warnings, makeWarning({ id: 'W1', enterpriseId: 'X7', level: 2, currentLevel: 2 }))
  await bus.drain()
  expect(levels.counts(all)).toEqual({ red: 1, orange: 2, yellow: 1, blue: 499 })
  expect(levels.counts(jurisdictionOf({ regionIds: ['R5101'] }, registry.current()))).toEqual(recount(registry.current(), live, jurisdictionOf({ regionIds: ['R5101'] }, registry.current())))
  expect(lookups).toBe(2)
  levels.stop()
  await live.stop()
})
