import { describe, expect, it } from 'vitest'
import { scoreEnterprise, type EnterpriseRiskInput, type ScoredWarning } from './enterprise-risk.js'
import { DEFAULT_SCORING, scoringParams } from './params.js'

let n = 0
const w = (level: 1 | 2 | 3 | 4, p: Partial<ScoredWarning> = {}): ScoredWarning =>
  ({ id: `w${++n}`, level, status: 'open', active: true, kind: 'threshold', ruleId: 'r', title: `warning ${n}`, ...p })

const sensors = [{ id: 'S1', key: true, gatewayId: 'gw1' }, { id: 'S2', gatewayId: 'gw1' }, { id: 'S3', gatewayId: 'gw2' }, { id: 'S4' }]
const input = (p: Partial<EnterpriseRiskInput> = {}): EnterpriseRiskInput =>
  ({ enterprise: { id: 'E1', profile: { staticRiskLevel: 'blue' } }, sensors, warnings: [], level1Raised: 0, now: 1000, ...p })

describe('scoreEnterprise: level', () => {
  const rows: { name: string; in: Partial<EnterpriseRiskInput>; level: string; dynamic: string | null; open: number; kinds?: string[] }[] = [
    { name: 'no warnings: the static level', in: {}, level: 'blue', dynamic: null, open: 0 },
    { name: 'an active orange warning', in: { warnings: [w(2)] }, level: 'orange', dynamic: 'orange', open: 1 },
    { name: 'static wins when higher', in: { enterprise: { id: 'E1', profile: { staticRiskLevel: 'red' } }, warnings: [w(3)] }, level: 'red', dynamic: 'yellow', open: 1 },
    { name: 'cleared but not closed: counted, not coloured', in: { warnings: [w(1, { active: false }), w(3)] }, level: 'yellow', dynamic: 'yellow', open: 2, kinds: ['static_profile', 'warning', 'cleared_warnings'] },
    { name: 'closed warnings are ignored', in: { warnings: [w(1, { status: 'closed' })] }, level: 'blue', dynamic: null, open: 0 },
    { name: 'acknowledged and disposing warnings still colour', in: { warnings: [w(2, { status: 'acknowledged' }), w(1, { status: 'disposing' })] }, level: 'red', dynamic: 'red', open: 2 },
    { name: 'overdue major hidden danger: +1 over the dynamic level', in: { enterprise: { id: 'E1', profile: { overdueMajorHiddenDangers: 1 } }, warnings: [w(3)] }, level: 'orange', dynamic: 'orange', open: 1 },
    { name: 'overdue major hidden danger on a quiet day: +1 over the static level', in: { enterprise: { id: 'E1', profile: { staticRiskLevel: 'yellow', overdueMajorHiddenDangers: 2 } } }, level: 'orange', dynamic: 'orange', open: 0 },
    { name: 'key sensor offline: +1', in: { warnings: [w(3, { kind: 'offline', sensorId: 'S1' })] }, level: 'orange', dynamic: 'orange', open: 1, kinds: ['static_profile', 'warning', 'offline_key_sensor'] },
    { name: 'an ordinary sensor offline: no upgrade', in: { warnings: [w(3, { kind: 'offline', sensorId: 'S2' })] }, level: 'yellow', dynamic: 'yellow', open: 1 },
    { name: 'a cleared offline warning on a key sensor: no upgrade', in: { warnings: [w(3, { kind: 'offline', sensorId: 'S1', active: false }), w(4)] }, level: 'blue', dynamic: 'blue', open: 2 },
    { name: 'gateway offline: +1', in: { warnings: [w(3, { kind: 'offline', gatewayId: 'gw2', ruleId: 'gateway_offline' })] }, level: 'orange', dynamic: 'orange', open: 1 },
    { name: 'alarm burst below N: no upgrade', in: { warnings: [w(3)], level1Raised: 2 }, level: 'yellow', dynamic: 'yellow', open: 1 },
    { name: 'alarm burst at N: +1', in: { warnings: [w(3)], level1Raised: 3 }, level: 'orange', dynamic: 'orange', open: 1, kinds: ['static_profile', 'warning', 'alarm_burst'] },
    { name: 'several upgrades still add one level', in: { enterprise: { id: 'E1', profile: { overdueMajorHiddenDangers: 1 } }, warnings: [w(3, { kind: 'offline', sensorId: 'S1' })], level1Raised: 5 }, level: 'orange', dynamic: 'orange', open: 1 },
    { name: 'upgrades are capped at red', in: { warnings: [w(1)], level1Raised: 3 }, level: 'red', dynamic: 'red', open: 1 },
  ]
  for (const r of rows) {
    it(r.name, () => {
      const s = scoreEnterprise(input(r.in))
      expect([s.riskLevel, s.dynamicLevel ?? null, s.openWarnings]).toEqual([r.level, r.dynamic, r.open])
      if (r.kinds) expect(s.factors.map((f) => f.kind)).toEqual(r.kinds)
      expect(s).toMatchObject({ kind: 'enterprise', id: 'E1', at: 1000 })
    })
  }
})

describe('scoreEnterprise: ranking score', () => {
  it('is R0 of the level with no pressure', () => {
    expect(scoreEnterprise(input()).score).toBe(25)
    expect(scoreEnterprise(input({ enterprise: { id: 'E', profile: { staticRiskLevel: 'red' } } })).score).toBe(90)
  })
  it('R = R0 × (1 + w1·P + w2·H + w3·O) with documented terms', () => {
    // orange active (0.6) + cleared yellow (0.3 × 0.25) → P = 0.675; H = 4/10; O = S3 of 4 sensors (gateway gw2) = 0.25
    const s = scoreEnterprise(input({
      enterprise: { id: 'E1', profile: { openHiddenDangers: 4 } },
      warnings: [w(2), w(3, { active: false }), w(4, { kind: 'offline', gatewayId: 'gw2' })],
    }))
    // the gateway offline also upgrades: orange → red
    expect(s.riskLevel).toBe('red')
    const P = Math.min(1, 0.6 + 0.3 * 0.25 + 0.1)
    expect(s.score).toBeCloseTo(90 * (1 + 0.5 * P + 0.2 * 0.4 + 0.3 * 0.25), 2)
  })
  it('alarm pressure saturates at 1', () => {
    const s = scoreEnterprise(input({ warnings: [w(1), w(1), w(1)] }))
    expect(s.score).toBe(90 * 1.5)
  })
  it('weights and bases are configurable', () => {
    const p = scoringParams({ baseScore: { red: 100, orange: 80, yellow: 60, blue: 10 }, burstN: 1 })
    expect(p.weights).toEqual(DEFAULT_SCORING.weights)
    expect(scoreEnterprise(input({ level1Raised: 1 }), p)).toMatchObject({ riskLevel: 'yellow', score: 60 })
  })
})
