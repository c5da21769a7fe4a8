import { describe, expect, it } from 'vitest'
import type { Finding } from '../core/contracts/finding.js'
import type { Warning } from '../core/contracts/warning.js'
import { fakeClock } from '../core/runtime/clock.js'
import { indexRegistry } from '../core/registry/registry-index.js'
import { apply } from './lifecycle.js'
import { ackDeadline, contactsFor, createEscalator, DEFAULT_ESCALATION_POLICY, escalationDueAt, escalationStep, lastNotifiedAt, nextTier } from './escalation.js'
import { testRegistry, testRegistryDoc } from './testing/fixtures.js'

const T0 = Date.parse('2026-11-28T00:00:00.000Z')
const MIN = 60_000
const reg = testRegistry()

function raised(level: 1 | 2 | 3 | 4, enterpriseId = 'E1', regionId = 'G1'): Warning {
  const f: Finding = { key: `${enterpriseId}-S|r`, kind: 'threshold', ruleId: 'r', enterpriseId, regionId, active: true, level, title: 't', at: T0 }
  return apply(undefined, { type: 'finding', finding: f }, T0).warning!
}

describe('deadlines, tiers and contacts', () => {
  it.each([[1, 5], [2, 15], [3, 30], [4, 60]] as const)('level %i must be acknowledged within %i min', (level, min) => {
    expect(ackDeadline(T0, level)).toBe(new Date(T0 + min * MIN).toISOString())
    expect(raised(level).ackDeadline).toBe(new Date(T0 + min * MIN).toISOString())
  })
  it('walks enterprise → county → city → province, skipping tiers the region chain lacks', () => {
    const w = raised(1)
    expect(nextTier(reg, w)).toBe('county')
    expect(nextTier(reg, { ...w, escalationTier: 'county' })).toBe('city')
    expect(nextTier(reg, { ...w, escalationTier: 'city' })).toBe('province')
    expect(nextTier(reg, { ...w, escalationTier: 'province' })).toBeUndefined()
    expect(nextTier(reg, raised(1, 'E3', 'R5102'))).toBe('city') // no county above R5102
  })
  it('finds the contacts of each tier', () => {
    const w = raised(1)
    expect(contactsFor(reg, w, 'enterprise').map((c) => c.name)).toEqual(['张三'])
    expect(contactsFor(reg, w, 'county').map((c) => c.name)).toEqual(['甲县值班'])
    expect(contactsFor(reg, w, 'city').map((c) => c.name)).toEqual(['甲市值班'])
    expect(contactsFor(reg, w, 'province').map((c) => c.name)).toEqual(['省值班'])
    expect(contactsFor(reg, raised(1, 'E3', 'R5102'), 'county')).toEqual([])
  })
})

describe('escalationStep over time (red: re-notify every 1 min, 5 min per tier)', () => {
  it('re-notifies, escalates tier by tier, and stops at the province', () => {
    const clock = fakeClock(T0)
    let w = raised(1)
    const log: string[] = []
    for (let s = 1; s <= 21 * 60; s++) {
      clock.advance(1000)
      const step = escalationStep(w, clock.now(), reg)
      if (!step) continue
      w = step.warning
      log.push(`${(clock.now() - T0) / 1000}s ${step.event.type} ${step.tier}`)
    }
    expect(log).toEqual([
      '60s renotified enterprise', '120s renotified enterprise', '180s renotified enterprise', '240s renotified enterprise',
      '300s escalated_tier county',
      '360s renotified county', '420s renotified county', '480s renotified county', '540s renotified county',
      '600s escalated_tier city',
      '660s renotified city', '720s renotified city', '780s renotified city', '840s renotified city',
      '900s escalated_tier province',
      ...[960, 1020, 1080, 1140, 1200, 1260].map((t) => `${t}s renotified province`),
    ])
    expect(w).toMatchObject({ escalationTier: 'province', notifications: 18, ackDeadline: new Date(T0 + 20 * MIN).toISOString() })
    expect(w.version).toBe(1 + log.length)
    expect(w.events.filter((e) => e.type === 'escalated_tier').map((e) => e.tier)).toEqual(['county', 'city', 'province'])
  })
  it('does nothing for acknowledged, disposing or closed warnings', () => {
    for (const status of ['acknowledged', 'disposing', 'closed'] as const) {
      expect(escalationStep({ ...raised(1), status }, T0 + 60 * MIN, reg)).toBeUndefined()
    }
  })
  it('uses the tier timeout when configured', () => {
    const policy = { ...DEFAULT_ESCALATION_POLICY, tierTimeoutMs: { county: 2 * MIN } }
    const step = escalationStep(raised(1), T0 + 5 * MIN, reg, policy)!
    expect(step.warning.ackDeadline).toBe(new Date(T0 + 7 * MIN).toISOString())
  })
  it('a blue warning is re-notified every 30 min and escalates after 60', () => {
    const w = raised(4)
    expect(escalationStep(w, T0 + 30 * MIN - 1, reg)).toBeUndefined()
    expect(escalationStep(w, T0 + 30 * MIN, reg)!.event.type).toBe('renotified')
    expect(escalationStep(w, T0 + 60 * MIN, reg)!.event).toMatchObject({ type: 'escalated_tier', tier: 'county' })
  })
  it('without higher regions the warning stays at the enterprise tier and keeps being re-notified', () => {
    const doc = testRegistryDoc()
    const flat = indexRegistry({ ...doc, regions: [{ id: 'G1', name: 'g', level: 'grid' }], enterprises: [doc.enterprises[0]!] })
    const step = escalationStep(raised(1), T0 + 6 * MIN, flat)!
    expect(step.event.type).toBe('renotified')
    expect(step.warning.escalationTier).toBe('enterprise')
  })
  it('lastNotifiedAt is the newest notifying event', () => {
    const w = raised(2)
    expect(lastNotifiedAt(w)).toBe(T0)
    const acked = { ...w, events: [...w.events, { type: 'renotified' as const, at: new Date(T0 + 5 * MIN).toISOString() }, { type: 'cleared' as const, at: new Date(T0 + 9 * MIN).toISOString() }] }
    expect(lastNotifiedAt(acked)).toBe(T0 + 5 * MIN)
  })
})

describe('createEscalator', () => {
  it('calls due() every second for open warnings that have a step, and stops', () => {
    const clock = fakeClock(T0)
    const ws = [raised(1), { ...raised(1), id: 'acked', status: 'acknowledged' as const }]
    const due: string[] = []
    const esc = createEscalator({ clock, registry: () => reg, policy: DEFAULT_ESCALATION_POLICY, warnings: () => ws, due: (w) => due.push(`${(clock.now() - T0) / 1000}:${w.id}`) })
    esc.start()
    clock.advance(59_000)
    expect(due).toEqual([])
    clock.advance(2000)
    expect(due).toEqual([`60:${ws[0]!.id}`, `61:${ws[0]!.id}`]) // still due: nobody applied the step
    esc.stop()
    clock.advance(10_000)
    expect(due.length).toBe(2)
  })
})

describe('escalation due times', () => {
  /** Warnings in every state the timer meets: levels, tiers (the top one too), escalated and re-notified. */
  function variants(): Warning[] {
    const out: Warning[] = []
    for (const level of [1, 2, 3, 4] as const) {
      for (const [e, r] of [['E1', 'G1'], ['E3', 'R5102']] as const) {
        const w = raised(level, e, r)
        out.push(w, { ...w, escalationTier: 'province' }, { ...w, status: 'acknowledged' })
        let cur = w
        for (let k = 0; k < 4; k++) {
          const t = escalationDueAt(cur, reg)
          const step = Number.isFinite(t) ? escalationStep(cur, t, reg) : undefined
          if (!step) break
          out.push((cur = step.warning))
        }
      }
    }
    out.push({ ...raised(2), ackDeadline: 'not a date' })
    return out
  }

  it('is the first millisecond at which escalationStep has a step', () => {
    const ws = variants()
    expect(ws.length).toBeGreaterThan(40)
    let finite = 0
    for (const w of ws) {
      const t = escalationDueAt(w, reg)
      if (Number.isFinite(t)) {
        finite++
        expect(escalationStep(w, t, reg), w.id).toBeDefined()
        expect(escalationStep(w, t - 1, reg), w.id).toBeUndefined()
      } else {
        expect(escalationStep(w, T0 + 365 * 24 * 60 * MIN, reg)).toBeUndefined()
      }
    }
    expect(finite).toBeGreaterThan(30)
  })

  it('is worked out once per warning object and registry: a new version or registry is looked at again', () => {
    const clock = fakeClock(T0)
    let current = reg
    const top = { ...raised(1), escalationTier: 'province' as const, id: 'top' }
    const quiet = Array.from({ length: 500 }, (_, i) => ({ ...raised(4), id: `Q${i}` }))
    const ws: Warning[] = [top, ...quiet]
    const due: string[] = []
    const esc = createEscalator({ clock, registry: () => current, policy: DEFAULT_ESCALATION_POLICY, warnings: () => ws, due: (w) => due.push(w.id) })
    const parse = Date.parse
    let parsed = 0
    Date.parse = (s: string) => { parsed++; return parse(s) }
    try {
      esc.tick()
      expect(parsed).toBe(2 * ws.length) // deadline and last notification, once each
      parsed = 0
      for (let i = 0; i < 10; i++) { clock.advance(1000); esc.tick() }
      expect(parsed).toBe(0)
    } finally {
      Date.parse = parse
    }
    // The top-tier red warning is re-notified after a minute, not escalated at its 5-minute deadline.
    clock.advance(60 * MIN)
    esc.tick()
    expect(due.filter((id) => id === 'top')).toHaveLength(1)
    // A new version (acknowledged) replaces the object: no longer due.
    ws[0] = { ...top, status: 'acknowledged', version: top.version + 1 }
    due.length = 0
    esc.tick()
    expect(due).not.toContain('top')
    // A new registry is looked at again (its region chains decide the tiers above).
    current = indexRegistry(testRegistryDoc(), 2)
    due.length = 0
    Date.parse = (s: string) => { parsed++; return parse(s) }
    parsed = 0
    try { esc.tick() } finally { Date.parse = parse }
    expect(parsed).toBe(2 * quiet.length) // the acknowledged one has nothing to parse
    expect(due.length).toBe(500) // the blue ones, 60 min past raising, are due for their 30-min re-notification
  })
})
