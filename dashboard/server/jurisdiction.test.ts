// Jurisdiction rules, table-driven over the fixture registry, plus weak-secret detection.
import { describe, expect, test } from 'vitest'
import { indexRegistry } from '../../core/registry/registry-index.js'
import { weakSecretProblems } from '../../core/registry/weak-secrets.js'
import { fixtureDoc } from './testing/fixture.js'
import { jurisdictionOf, type ScopedUser } from './jurisdiction.js'
import { thresholdOrderProblems } from './registry-admin.js'

const idx = indexRegistry(fixtureDoc())

describe('jurisdictionOf', () => {
  test.each<[string, ScopedUser, string[], string[]]>([
    ['unrestricted', {}, ['E1', 'E2', 'E3'], ['R51', 'R5101', 'R5102', 'R5101-C01', 'R5101-C02', 'R5102-C01']],
    ['a city', { regionIds: ['R5101'] }, ['E1', 'E2'], ['R5101', 'R5101-C01', 'R5101-C02']],
    ['a county', { regionIds: ['R5101-C01'] }, ['E1'], ['R5101-C01']],
    ['two counties', { regionIds: ['R5101-C01', 'R5102-C01'] }, ['E1', 'E3'], ['R5101-C01', 'R5102-C01']],
    ['an enterprise', { enterpriseIds: ['E3'] }, ['E3'], []],
    ['region ∩ enterprises', { regionIds: ['R5101'], enterpriseIds: ['E2', 'E3'] }, ['E2'], []],
    ['an unknown region', { regionIds: ['R99'] }, [], []],
  ])('%s', (_name, user, enterprises, regions) => {
    const j = jurisdictionOf(user, idx)
    expect(['E1', 'E2', 'E3'].filter((e) => j.seesEnterprise(e))).toEqual(enterprises)
    expect([...idx.regions.keys()].filter((r) => j.seesRegion(r))).toEqual(regions)
    expect(j.visibleEnterpriseIds() ?? ['E1', 'E2', 'E3']).toEqual(enterprises)
    for (const e of ['E1', 'E2', 'E3']) {
      const regionId = idx.enterprises.get(e)!.regionId
      expect(j.seesWarning({ enterpriseId: e, regionId })).toBe(enterprises.includes(e))
      expect(j.seesRisk({ kind: 'enterprise', id: e })).toBe(enterprises.includes(e))
      expect(j.seesRejection({ enterpriseId: e })).toBe(enterprises.includes(e))
    }
    expect(j.seesSensor('E1-CH4-01')).toBe(enterprises.includes('E1'))
  })

  test('warnings of enterprises the registry does not know: unrestricted and region scope by regionId only', () => {
    const w = { enterpriseId: 'platform', regionId: 'R5101-C01' }
    expect(jurisdictionOf({}, idx).seesWarning(w)).toBe(true)
    expect(jurisdictionOf({ regionIds: ['R5101'] }, idx).seesWarning(w)).toBe(true)
    expect(jurisdictionOf({ regionIds: ['R5102'] }, idx).seesWarning(w)).toBe(false)
    expect(jurisdictionOf({ enterpriseIds: ['E1'] }, idx).seesWarning(w)).toBe(false)
    expect(jurisdictionOf({ regionIds: ['R5101'] }, idx).seesRejection({})).toBe(false)
  })
})

describe('weakSecretProblems', () => {
  const doc = (users: { username: string; password: string }[], tokens: string[] = []) => ({
    ...fixtureDoc(),
    users: users.map((u) => ({ ...u, role: 'viewer' as const })),
    gateways: tokens.map((token, i) => ({ id: `gw-${i}`, enterpriseId: 'E1', token })),
  })
  test.each([
    ['change-me', 'u1', true],
    ['Admin', 'u1', true],
    ['password', 'u1', true],
    ['123456', 'u1', true],
    ['yujing-admin', 'u1', true],
    ['yujing-duty', 'u1', true],
    ['yujing-viewer', 'u1', true],
    ['yujing-county', 'u1', true],
    ['zhangsan01', 'zhangsan01', true],
    ['short7!', 'u1', true],
    ['aaaaaaaaaaaa', 'u1', true],
    ['Long-enough-Pass-1', 'u1', false],
    ['$2b$10$abcdefghijklmnopqrstuuKkYh0z8kA6N8jQqWzjH0H8mM9Gf3Gx6', 'u1', false],
    ['sha256:' + 'a'.repeat(64), 'u1', false],
  ])('password %s of %s → weak: %s', (password, username, weak) => {
    const problems = weakSecretProblems(doc([{ username, password }]))
    expect(problems.length > 0).toBe(weak)
    if (weak) expect(problems[0]!.path).toBe('/users/0/password')
  })
  test('gateway tokens are checked too, with their path', () => {
    expect(weakSecretProblems(doc([], ['good-token-1234567', 'change-me']))).toEqual([
      { path: '/gateways/1/token', message: 'token of gateway "gw-1" is weak: "change-me" is a known default or demo secret' },
    ])
  })
})

describe('threshold colour order', () => {
  test.each([
    [{ orange: 1, red: 1.5 }, []],
    [{ orange: 1, red: 1 }, []],
    [{ orange: 2, red: 1 }, ['/t/red']],
    [{ blue: 5, yellow: 10, orange: 25, red: 50 }, []],
    [{ blue: 5, yellow: 4, orange: 25, red: 20 }, ['/t/yellow', '/t/red']],
    [{ direction: 'low' as const, orange: 19.5, red: 18 }, []],
    [{ direction: 'low' as const, orange: 18, red: 19.5 }, ['/t/red']],
    [{ low: { orange: 0.2, red: 0.1 }, high: { orange: 1, red: 2 } }, []],
    [{ low: { orange: 0.1, red: 0.2 } }, ['/t/low/red']],
  ])('%j → %j', (t, paths) => {
    expect(thresholdOrderProblems(t, '/t').map((p) => p.path)).toEqual(paths)
  })
})
