import { describe, expect, it } from 'vitest'
import type { RiskState } from '../contracts/risk.js'
import { indexRegistry } from '../registry/registry-index.js'
import { rollUpRegion } from './region-rollup.js'
import { computeRegistryRisk, regionsBottomUp } from './registry-risk.js'
import type { ScoredWarning } from './enterprise-risk.js'

const e = (id: string, riskLevel: RiskState['riskLevel'], score: number, openWarnings = 0): RiskState =>
  ({ kind: 'enterprise', id, riskLevel, score, factors: [], openWarnings, at: 0 })

describe('rollUpRegion', () => {
  it('an empty region is blue with score 0', () => {
    const r = rollUpRegion('R', [], [], 5)
    expect(r.state).toMatchObject({ kind: 'region', id: 'R', riskLevel: 'blue', score: 0, counts: { red: 0, orange: 0, yellow: 0, blue: 0 }, openWarnings: 0, at: 5 })
  })
  it('is max-based: one red among many blues stays red', () => {
    const many = Array.from({ length: 50 }, (_, i) => e(`B${i}`, 'blue', 25))
    const r = rollUpRegion('R', [...many, e('X', 'red', 90, 2)], [], 0)
    expect(r.state.riskLevel).toBe('red')
    expect(r.state.counts).toEqual({ red: 1, orange: 0, yellow: 0, blue: 50 })
    expect(r.state.openWarnings).toBe(2)
    expect(r.state.score).toBeCloseTo(90 + 5 * Math.log(1 + 90 + 50 * 25), 2)
    expect(r.state.factors).toEqual([{ kind: 'member', level: 'red', detail: 'enterprise X is red', ref: 'X' }])
  })
  it('children count through their subtree without compounding', () => {
    const child = rollUpRegion('C', [e('A', 'orange', 70, 1), e('B', 'blue', 25)], [], 0)
    const parent = rollUpRegion('P', [e('D', 'yellow', 50)], [child, rollUpRegion('Empty', [], [], 0)], 0, { lambda: 2, maxListedFactors: 10 })
    expect(parent.state.riskLevel).toBe('orange')
    expect(parent.state.counts).toEqual({ red: 0, orange: 1, yellow: 1, blue: 1 })
    expect(parent.state.openWarnings).toBe(1)
    expect(parent.maxScore).toBe(70)
    expect(parent.sumScores).toBe(145)
    expect(parent.state.score).toBeCloseTo(70 + 2 * Math.log(1 + 145), 2)
    expect(parent.state.factors.map((f) => f.ref)).toEqual(['C'])
  })
})

describe('computeRegistryRisk', () => {
  const reg = indexRegistry({
    regions: [
      { id: 'P', name: 'p', level: 'province' }, { id: 'C1', name: 'c1', level: 'city', parentId: 'P' },
      { id: 'G1', name: 'g1', level: 'grid', parentId: 'C1' }, { id: 'C2', name: 'c2', level: 'city', parentId: 'P' },
    ],
    enterprises: [
      { id: 'E1', name: 'e1', industry: 'coal_mine', regionId: 'G1', location: [0, 0], profile: { staticRiskLevel: 'yellow' } },
      { id: 'E2', name: 'e2', industry: 'coal_mine', regionId: 'C1', location: [0, 0] },
    ],
    sensors: [],
  })
  it('orders regions children first', () => {
    const order = regionsBottomUp(reg)
    expect(order.indexOf('G1')).toBeLessThan(order.indexOf('C1'))
    expect(order.indexOf('C1')).toBeLessThan(order.indexOf('P'))
    expect(order.indexOf('C2')).toBeLessThan(order.indexOf('P'))
  })
  it('scores enterprises from their warnings and rolls regions up', () => {
    const ws: Record<string, ScoredWarning[]> = { E2: [{ id: 'w', level: 2, status: 'open', active: true, kind: 'threshold', ruleId: 'r', title: 't' }] }
    const snap = computeRegistryRisk(reg, { warnings: (id) => ws[id] ?? [], level1Raised: () => 0 }, 7)
    expect(snap.enterprises.get('E1')?.riskLevel).toBe('yellow')
    expect(snap.enterprises.get('E2')?.riskLevel).toBe('orange')
    expect(snap.regions.get('G1')?.state).toMatchObject({ riskLevel: 'yellow', counts: { red: 0, orange: 0, yellow: 1, blue: 0 } })
    expect(snap.regions.get('C1')?.state).toMatchObject({ riskLevel: 'orange', openWarnings: 1, counts: { red: 0, orange: 1, yellow: 1, blue: 0 } })
    expect(snap.regions.get('C2')?.state).toMatchObject({ riskLevel: 'blue', score: 0 })
    expect(snap.regions.get('P')?.state).toMatchObject({ riskLevel: 'orange', openWarnings: 1 })
  })
})
