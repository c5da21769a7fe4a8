import { describe, expect, it } from 'vitest'
import type { Region, Sensor, Thresholds } from '../core/contracts/registry.js'
import { indexRegistry } from '../core/registry/registry-index.js'
import { compileRegistry, compileSensor, compileThresholds, type CompiledSensor } from './compile.js'
import { fixtureDoc, fixtureRegistry } from './test-registry.js'

function compiled(id: string, reg = fixtureRegistry()): CompiledSensor {
  const c = compileRegistry(reg).sensors.get(id)
  if (!c) throw new Error(`no ${id}`)
  return c
}

describe('compile: precedence of threshold sources', () => {
  const sensor: Sensor = { id: 'S1', enterpriseId: 'E1001', type: 'ch4', role: 'working_face' }
  const cases: { name: string; sensor?: Thresholds; ent?: Record<string, Thresholds>; grid?: Record<string, Thresholds>; prov?: Record<string, Thresholds>; source: string; red: number }[] = [
    { name: 'catalogue type+role', source: 'catalogue:ch4:working_face', red: 1.5 },
    { name: 'province region beats catalogue', prov: { ch4: { red: 1.4 } }, source: 'region:R51:ch4', red: 1.4 },
    { name: 'nearest region beats farther region', prov: { 'ch4:working_face': { red: 1.4 } }, grid: { ch4: { red: 1.3 } }, source: 'region:R5101-G07:ch4', red: 1.3 },
    { name: 'region type:role beats region type', grid: { ch4: { red: 1.3 }, 'ch4:working_face': { red: 1.25 } }, source: 'region:R5101-G07:ch4:working_face', red: 1.25 },
    { name: 'enterprise type beats region', grid: { 'ch4:working_face': { red: 1.3 } }, ent: { ch4: { red: 1.2 } }, source: 'enterprise:E1001:ch4', red: 1.2 },
    { name: 'enterprise type:role beats enterprise type', ent: { ch4: { red: 1.2 }, 'ch4:working_face': { red: 1.1 } }, source: 'enterprise:E1001:ch4:working_face', red: 1.1 },
    { name: 'sensor beats all', ent: { 'ch4:working_face': { red: 1.1 } }, sensor: { red: 1.05 }, source: 'sensor', red: 1.05 },
  ]
  it.each(cases)('$name', (tc) => {
    const doc = fixtureDoc([{ ...sensor, ...(tc.sensor ? { thresholds: tc.sensor } : {}) }])
    doc.regions = doc.regions.map((r): Region => (r.id === 'R51' && tc.prov ? { ...r, thresholds: tc.prov } : r.id === 'R5101-G07' && tc.grid ? { ...r, thresholds: tc.grid } : r))
    doc.enterprises = doc.enterprises.map((e) => (e.id === 'E1001' && tc.ent ? { ...e, thresholds: tc.ent } : e))
    const c = compileSensor(indexRegistry(doc), doc.sensors.at(-1)!)
    if (typeof c === 'string') throw new Error(c)
    expect(c.thresholdSource).toBe(tc.source)
    expect(c.conditions[0]!.levels.find((l) => l.level === 1)?.value).toBe(tc.red)
  })
})

describe('compile: conditions', () => {
  it('working-face methane: orange 1.0 / red 1.5 with CH4 labels, clear 1.0, catalogue confidence', () => {
    const c = compiled('E1001-CH4-01')
    expect(c.conditions).toHaveLength(1)
    const k = c.conditions[0]!
    expect(k.ruleId).toBe('threshold')
    expect(k.direction).toBe('high')
    expect(k.levels.map((l) => [l.level, l.value, l.label])).toEqual([[1, 1.5, '断电值'], [2, 1.0, '报警值']])
    expect(k.clear).toBe(1.0)
    expect(k.lowest.value).toBe(1.0)
    expect(c.confidence).toBe('C')
    expect(c.unit).toBe('%CH4')
    expect(c.maxSilenceMs).toBe(30_000)
    expect(c.gatewayId).toBe('gw-E1001')
    expect(c.regionId).toBe('R5101-G07')
    expect(Object.isFrozen(c)).toBe(true)
    expect(Object.isFrozen(c.conditions)).toBe(true)
  })

  it('two-sided oxygen compiles into threshold_low and threshold_high', () => {
    const c = compiled('E2001-O2-01')
    expect(c.conditions.map((k) => [k.ruleId, k.direction, k.lowest.value, k.clear])).toEqual([
      ['threshold_low', 'low', 19.5, 19.5], ['threshold_high', 'high', 23.5, 23.5],
    ])
  })

  it('types without a national number and without registered thresholds get no conditions', () => {
    const c = compiled('E2001-TK-01')
    expect(c.conditions).toEqual([])
    expect(c.rate).toBeUndefined()
    expect(c.thresholdSource).toBe('none')
  })

  it('a rate-only side compiles to a drop rule with a 60 s window', () => {
    const c = compiled('E3001-P-01')
    expect(c.conditions.map((k) => k.ruleId)).toEqual(['threshold_low'])
    expect(c.rate).toMatchObject({ ruleId: 'rate', direction: 'low', windowMs: 60_000, clear: -0.05 })
    expect(c.rate!.levels.map((l) => [l.level, l.value])).toEqual([[1, -0.2], [2, -0.05]])
  })

  it.each([
    // thresholds, expected [direction, clear, forMs, forCount, lowest level]
    [{ orange: 25, red: 50, clear: 20 }, ['high', 20, 0, 1, 2]],
    [{ orange: 25, red: 50, clear: 30 }, ['high', 25, 0, 1, 2]], // clear beyond the lowest threshold is clamped
    [{ orange: 25, red: 50, forSeconds: 10, forCount: 3 }, ['high', 25, 10_000, 3, 2]],
    [{ red: 1.0, orange: 1.0 }, ['high', 1.0, 0, 1, 1]], // equal values: the most severe wins the tie
    [{ orange: 19.5, red: 18, direction: 'low' }, ['low', 19.5, 0, 1, 2]],
    [{ orange: 19.5, red: 18, direction: 'low', clear: 20 }, ['low', 20, 0, 1, 2]],
  ] as const)('flat %j', (t, [direction, clear, forMs, forCount, lowestLevel]) => {
    const k = compileThresholds(t).conditions[0]!
    expect([k.direction, k.clear, k.forMs, k.forCount, k.lowest.level]).toEqual([direction, clear, forMs, forCount, lowestLevel])
  })

  it('rate: positive thresholds are a rise; a custom window; colours of the other sign are dropped', () => {
    const { rate } = compileThresholds({ ratePerMinute: { orange: 0.01, red: 0.05, yellow: -1, windowSeconds: 120 } })
    expect(rate).toMatchObject({ direction: 'high', windowMs: 120_000, minSpanMs: 30_000 })
    expect(rate!.levels.map((l) => l.value)).toEqual([0.05, 0.01])
  })

  it('maxSilence: sensor > gateway > configurable default', () => {
    const doc = fixtureDoc([
      { id: 'S-own', enterpriseId: 'E2001', type: 'flow', maxSilenceSeconds: 90 },
      { id: 'S-gw', enterpriseId: 'E1001', type: 'flow' },
    ])
    doc.gateways = doc.gateways!.map((g) => (g.id === 'gw-E1001' ? { ...g, maxSilenceSeconds: 45 } : g))
    const rules = compileRegistry(indexRegistry(doc), { defaultMaxSilenceSeconds: 60 })
    expect(rules.sensors.get('S-own')!.maxSilenceMs).toBe(90_000)
    expect(rules.sensors.get('S-gw')!.maxSilenceMs).toBe(45_000)
    expect(rules.sensors.get('E2001-TK-01')!.maxSilenceMs).toBe(60_000)
    expect(rules.platformRegionId).toBe('R51')
  })

  it('a sensor of an unknown enterprise becomes a problem, not a crash', () => {
    const reg = fixtureRegistry()
    const res = compileSensor(reg, { id: 'X', enterpriseId: 'NOPE', type: 'ch4' })
    expect(res).toMatch(/unknown enterprise/)
  })
})
