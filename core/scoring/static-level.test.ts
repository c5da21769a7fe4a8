import { describe, expect, it } from 'vitest'
import { assessmentColor, lecColor, majorHazardColor, maxColor, staticLevel } from './static-level.js'

describe('static level pieces', () => {
  it.each([[1, 'red'], [2, 'orange'], [3, 'yellow'], [4, 'blue'], [null, null], [undefined, null], [5, null]] as const)(
    'GB 18218 level %s → %s', (l, c) => { expect(majorHazardColor(l)).toBe(c) })
  it.each([[0, 'red'], [59.9, 'red'], [60, 'orange'], [74.9, 'orange'], [75, 'yellow'], [89.9, 'yellow'], [90, 'blue'], [100, 'blue'], [undefined, null], [Number.NaN, null]] as const)(
    'assessment %s → %s', (s, c) => { expect(assessmentColor(s)).toBe(c) })
  it.each([[400, 'red'], [320.5, 'red'], [320, 'orange'], [160, 'orange'], [159, 'yellow'], [70, 'yellow'], [69, 'blue'], [20, 'blue'], [19.9, null], [0, null]] as const)(
    'LEC D=%s → %s', (d, c) => { expect(lecColor(d)).toBe(c) })
  it('maxColor picks the more severe', () => {
    expect(maxColor('blue', 'orange')).toBe('orange')
    expect(maxColor(null, 'yellow')).toBe('yellow')
    expect(maxColor(null, null)).toBeNull()
  })
})

describe('staticLevel', () => {
  const rows = [
    { name: 'nothing known → blue by default', profile: undefined, level: 'blue', kinds: ['default'] },
    { name: 'declared only', profile: { staticRiskLevel: 'yellow' as const }, level: 'yellow', kinds: ['static_profile'] },
    { name: 'the worst of all four', profile: { staticRiskLevel: 'blue' as const, majorHazardLevel: 3, assessmentScore: 70, worstLec: 100 }, level: 'orange', kinds: ['static_profile', 'major_hazard', 'assessment', 'lec'] },
    { name: 'a major hazard of level 1 is red', profile: { majorHazardLevel: 1, assessmentScore: 95 }, level: 'red', kinds: ['major_hazard', 'assessment'] },
    { name: 'a tiny LEC adds nothing', profile: { worstLec: 10 }, level: 'blue', kinds: ['default'] },
  ]
  for (const r of rows) {
    it(r.name, () => {
      const s = staticLevel(r.profile)
      expect(s.level).toBe(r.level)
      expect(s.factors.map((f) => f.kind)).toEqual(r.kinds)
    })
  }
})
