import { describe, expect, it } from 'vitest'
import { WarningStore, EnterpriseTable, compareWarnings, isAlarming, acceptStats, ZERO_STATS, isOverdue, total } from './store.js'
import type { Warning } from '../../../core/contracts/warning.js'
import { COLOR_OF_LEVEL } from '../../../core/contracts/levels.js'

function w(id: string, over: Partial<Warning> = {}): Warning {
  const level = over.level ?? 3
  return {
    id, level, color: COLOR_OF_LEVEL[level], status: 'open', active: true, currentLevel: level, ackDeadline: '2026-11-28T00:10:00.000Z',
    escalationTier: 'enterprise', kind: 'threshold', ruleId: 'r', dedupKey: id, enterpriseId: 'E1', regionId: 'G1', title: `t-${id}`,
    occurrences: 1, raisedAt: '2026-11-28T00:00:00.000Z', updatedAt: '2026-11-28T00:00:00.000Z', notifications: 0, version: 1, events: [],
    ...over,
  }
}

describe('WarningStore', () => {
  it('orders most severe first, then newest, then id', () => {
    const s = new WarningStore()
    s.upsert(w('a', { level: 3, raisedAt: '2026-11-28T00:05:00.000Z' }))
    s.upsert(w('b', { level: 1, raisedAt: '2026-11-28T00:01:00.000Z' }))
    s.upsert(w('c', { level: 1, raisedAt: '2026-11-28T00:02:00.000Z' }))
    s.upsert(w('d', { level: 2 }))
    s.upsert(w('e', { level: 2 }))
    expect(s.all().map((x) => x.id)).toEqual(['c', 'b', 'd', 'e', 'a'])
    expect(compareWarnings(w('x', { level: 1 }), w('y', { level: 4 }))).toBeLessThan(0)
  })

  it('updates in place by id and drops stale or equal versions', () => {
    const s = new WarningStore()
    expect(s.upsert(w('a', { version: 2, status: 'acknowledged' }))).toBe('added')
    expect(s.upsert(w('a', { version: 1, status: 'open' }))).toBe('stale')
    expect(s.upsert(w('a', { version: 2, status: 'open' }))).toBe('stale')
    expect(s.get('a')?.status).toBe('acknowledged')
    const v = s.version
    expect(s.upsert(w('a', { version: 3, status: 'closed' }))).toBe('updated')
    expect(s.version).toBe(v + 1)
    expect(s.size).toBe(1)
    expect(s.list()).toEqual([]) // closed hidden by default
    expect(s.list({ status: 'closed' }).map((x) => x.id)).toEqual(['a'])
  })

  it('keeps the sorted array identical until a change', () => {
    const s = new WarningStore()
    s.upsert(w('a'))
    const first = s.all()
    expect(s.all()).toBe(first)
    s.upsert(w('a', { version: 1 }))
    expect(s.all()).toBe(first)
    s.upsert(w('b'))
    expect(s.all()).not.toBe(first)
  })

  it('a snapshot keeps newer local versions and removes vanished open warnings', () => {
    const s = new WarningStore()
    s.upsert(w('a', { version: 5, status: 'acknowledged' }))
    s.upsert(w('gone', { version: 1 }))
    s.upsert(w('closedLocally', { version: 3, status: 'closed' }))
    s.replaceAll([w('a', { version: 4 }), w('new', { version: 1 })])
    expect(s.get('a')?.version).toBe(5)
    expect(s.get('gone')).toBeUndefined()
    expect(s.get('new')).toBeDefined()
    expect(s.get('closedLocally')?.status).toBe('closed')
  })

  it('filters by level, status, enterprise and text (including the enterprise name)', () => {
    const s = new WarningStore()
    s.upsert(w('a', { level: 1, enterpriseId: 'E1', title: '甲烷超限' }))
    s.upsert(w('b', { level: 2, enterpriseId: 'E2', status: 'acknowledged' }))
    s.upsert(w('c', { level: 4, enterpriseId: 'E2' }))
    expect(s.list({ levels: new Set(['red', 'orange']) }).map((x) => x.id)).toEqual(['a', 'b'])
    expect(s.list({ status: 'acknowledged' }).map((x) => x.id)).toEqual(['b'])
    expect(s.list({ enterpriseIds: new Set(['E2']) }).map((x) => x.id)).toEqual(['b', 'c'])
    expect(s.list({ text: '甲烷' }).map((x) => x.id)).toEqual(['a'])
    expect(s.list({ text: 'chem' }, (id) => (id === 'E2' ? 'ChemCo' : 'Mine')).map((x) => x.id)).toEqual(['b', 'c'])
  })

  it('prunes the oldest closed warnings beyond the limit', () => {
    const s = new WarningStore()
    for (let i = 0; i < 5; i++) s.upsert(w(`c${i}`, { status: 'closed', updatedAt: `2026-11-28T00:0${i}:00.000Z` }))
    s.upsert(w('open'))
    s.pruneClosed(2)
    expect(s.size).toBe(3)
    expect(s.get('c4')).toBeDefined()
    expect(s.get('c0')).toBeUndefined()
    expect(s.get('open')).toBeDefined()
  })
})

describe('alarm and overdue rules', () => {
  it.each([
    ['new red', undefined, w('a', { level: 1 }), true],
    ['new orange', undefined, w('a', { level: 2 }), true],
    ['new yellow', undefined, w('a', { level: 3 }), false],
    ['yellow escalated to orange', w('a', { level: 3 }), w('a', { level: 2, version: 2 }), true],
    ['red acknowledged', w('a', { level: 1 }), w('a', { level: 1, status: 'acknowledged', version: 2 }), false],
    ['new but closed', undefined, w('a', { level: 1, status: 'closed' }), false],
  ] as const)('%s → %s', (_n, prev, next, expected) => {
    expect(isAlarming(prev, next)).toBe(expected)
  })

  it('overdue only while open and past the deadline', () => {
    const now = Date.parse('2026-11-28T00:11:00.000Z')
    expect(isOverdue(w('a'), now)).toBe(true)
    expect(isOverdue(w('a', { status: 'acknowledged' }), now)).toBe(false)
    expect(isOverdue(w('a'), Date.parse('2026-11-28T00:09:00.000Z'))).toBe(false)
  })
})

describe('stats', () => {
  it('accepts a well-formed push and keeps the previous one otherwise', () => {
    const good = { readingsPerSecond: 12.5, sensorsOffline: 2, overdue: 1, openWarnings: { red: 1, orange: 0, yellow: 3, blue: 0 }, enterprises: { red: 0, orange: 1, yellow: 2, blue: 40 } }
    expect(acceptStats(ZERO_STATS, good)).toEqual(good)
    expect(acceptStats(good, { readingsPerSecond: 'x' })).toBe(good)
    expect(acceptStats(good, null)).toBe(good)
    expect(acceptStats(good, { ...good, enterprises: { red: 1 } })).toBe(good)
    expect(total(good.enterprises)).toBe(43)
  })
})

describe('EnterpriseTable', () => {
  const base = [
    { id: 'E1', name: '煤矿', industry: 'coal_mine', regionId: 'G1', location: [104.1, 30.1] as [number, number], riskLevel: 'blue' as const, score: 10, openWarnings: 0 },
    { id: 'E2', name: '化工', industry: 'hazardous_chemical', regionId: 'G2', location: [105.1, 30.1] as [number, number], riskLevel: 'yellow' as const, score: 30, openWarnings: 0 },
  ]
  it('risk events mutate in place and bump only the colour version', () => {
    const t = new EnterpriseTable()
    t.load(base)
    const items = t.items
    const dv = t.dataVersion
    const cv = t.colorVersion
    expect(t.applyRisk([{ kind: 'enterprise', id: 'E1', riskLevel: 'red', score: 90 }, { kind: 'region', id: 'G1', riskLevel: 'red', score: 90 }])).toBe(true)
    expect(t.items).toBe(items)
    expect(t.dataVersion).toBe(dv)
    expect(t.colorVersion).toBe(cv + 1)
    expect(t.get('E1')?.riskLevel).toBe('red')
    expect(t.applyRisk([{ kind: 'enterprise', id: 'E1', riskLevel: 'red', score: 90 }])).toBe(false)
    expect(t.colorVersion).toBe(cv + 1)
    expect(t.applyRisk([{ kind: 'enterprise', id: 'nope', riskLevel: 'red', score: 1 }])).toBe(false)
  })
  it('load replaces the array and does not alias the input', () => {
    const t = new EnterpriseTable()
    t.load(base)
    t.applyRisk([{ kind: 'enterprise', id: 'E1', riskLevel: 'red', score: 90 }])
    expect(base[0]!.riskLevel).toBe('blue')
    const before = t.items
    t.load(base)
    expect(t.items).not.toBe(before)
    expect(t.name('E2')).toBe('化工')
    expect(t.name('unknown')).toBe('unknown')
  })
})
