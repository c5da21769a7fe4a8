// The header stats count each enterprise's risk level with enterpriseRiskLevel, a cheap twin of
// enterpriseRisk: they must agree in every case.
import { describe, expect, it } from 'vitest'
import type { Enterprise } from '../../core/contracts/registry.js'
import type { RiskState } from '../../core/contracts/risk.js'
import type { Warning } from '../../core/contracts/warning.js'
import type { LiveView } from './live-view.js'
import { enterpriseRisk, enterpriseRiskLevel } from './views.js'

const ent = (id: string, staticRiskLevel?: 'red' | 'orange' | 'yellow' | 'blue'): Enterprise =>
  ({ id, name: id, industry: 'coal_mine', regionId: 'R', location: [104, 30], ...(staticRiskLevel ? { profile: { staticRiskLevel } } : {}) }) as Enterprise
const warn = (level: 1 | 2 | 3 | 4, active = true): Warning => ({ id: `w${level}${active}`, enterpriseId: 'E', currentLevel: active ? level : null, level, active, title: 't' }) as unknown as Warning

function live(risks: Record<string, RiskState>): LiveView {
  return { risk: (_kind: string, id: string) => risks[id], warnings: () => [] } as unknown as LiveView
}

describe('enterpriseRiskLevel', () => {
  const states: Record<string, RiskState> = { E1: { kind: 'enterprise', id: 'E1', riskLevel: 'orange', score: 60, factors: [], at: 1 } as unknown as RiskState }
  const cases: [string, Enterprise, Warning[]][] = [
    ['a published risk state wins', ent('E1', 'blue'), [warn(1)]],
    ['profile only', ent('E2', 'yellow'), []],
    ['profile and a worse active warning', ent('E3', 'yellow'), [warn(2)]],
    ['an inactive warning does not count', ent('E4', 'yellow'), [warn(1, false)]],
    ['nothing registered: blue', ent('E5'), []],
    ['a warning without a profile', ent('E6'), [warn(3), warn(4)]],
  ]
  it.each(cases)('%s', (_name, e, open) => {
    expect(enterpriseRiskLevel(live(states), e, open)).toBe(enterpriseRisk(live(states), e, open).riskLevel)
  })
  it('gives the expected levels', () => {
    expect(cases.map(([, e, open]) => enterpriseRiskLevel(live(states), e, open))).toEqual(['orange', 'yellow', 'orange', 'yellow', 'blue', 'yellow'])
  })
})
