import { describe, expect, it } from 'vitest'
import type { Finding } from '../core/contracts/finding.js'
import type { WarningCommand } from '../core/contracts/command.js'
import type { Warning } from '../core/contracts/warning.js'
import { fakeClock } from '../core/runtime/clock.js'
import { apply, appendEvents, episodeOf, warningId, type LifecycleInput, type LifecycleResult, type PreviousEpisode } from './lifecycle.js'

const T0 = Date.parse('2026-11-28T00:00:00.000Z')
const KEY = 'E1001-CH4-01|ch4_threshold'
const MIN = 60_000

function finding(p: Partial<Finding> & { level: Finding['level'] }): Finding {
  return {
    key: KEY, kind: 'threshold', ruleId: 'ch4_threshold', enterpriseId: 'E1001', sensorId: 'E1001-CH4-01', regionId: 'R1',
    active: p.level !== null, title: 'CH4 over limit', at: T0, value: 1.2, threshold: 1.0, ...p,
  }
}
const on = (level: 1 | 2 | 3 | 4, value?: number, extra: Partial<Finding> = {}): LifecycleInput =>
  ({ type: 'finding', finding: finding({ level, ...(value !== undefined ? { value, threshold: level === 1 ? 1.5 : 1.0 } : {}), ...extra }) })
const off: LifecycleInput = { type: 'finding', finding: finding({ level: null, active: false, value: 0.8 }) }
let cmdSeq = 0
const cmd = (action: WarningCommand['action'], extra: Partial<WarningCommand> = {}): LifecycleInput =>
  ({ type: 'command', command: { commandId: `c${++cmdSeq}`, action, warningId: warningId(KEY, 1), by: 'duty1', at: T0, ...extra } })

interface Step { after?: number; input: LifecycleInput }

/** Folds the steps over apply() with a fake clock advanced by `after` ms before each step. */
function run(steps: Step[], start?: Warning): { w: Warning | undefined; results: LifecycleResult[]; times: number[] } {
  const clock = fakeClock(T0)
  let w = start
  const results: LifecycleResult[] = []
  const times: number[] = []
  for (const s of steps) {
    clock.advance(s.after ?? 0)
    const r = apply(w, s.input, clock.now())
    results.push(r)
    times.push(clock.now())
    w = r.warning
  }
  return { w, results, times }
}

const iso = (ms: number): string => new Date(ms).toISOString()

describe('lifecycle: findings', () => {
  it('raises a warning with every contract field', () => {
    const { w, results } = run([{ input: on(2, 1.2) }])
    expect(results[0]!.changed).toBe(true)
    expect(w).toEqual({
      id: warningId(KEY, 1), level: 2, color: 'orange', status: 'open', active: true, currentLevel: 2,
      ackDeadline: '2026-11-28T00:15:00.000Z', escalationTier: 'enterprise', kind: 'threshold', ruleId: 'ch4_threshold',
      dedupKey: KEY, enterpriseId: 'E1001', sensorId: 'E1001-CH4-01', regionId: 'R1', title: 'CH4 over limit',
      value: 1.2, threshold: 1.0, peakValue: 1.2, occurrences: 1, raisedAt: '2026-11-28T00:00:00.000Z',
      updatedAt: '2026-11-28T00:00:00.000Z', notifications: 0, version: 1,
      events: [{ type: 'raised', at: '2026-11-28T00:00:00.000Z', level: 2 }],
    })
  })

  type Row = { name: string; steps: Step[]; changed: boolean[]; expect: Partial<Warning>; events?: string[]; absent?: (keyof Warning)[] }
  const rows: Row[] = [
    { name: 'same level, no new peak: nothing changes', steps: [{ input: on(2, 1.2) }, { after: 1000, input: on(2, 1.1) }, { after: 1000, input: on(2, 1.2) }],
      changed: [true, false, false], expect: { version: 1, peakValue: 1.2, value: 1.2 }, events: ['raised'] },
    { name: 'a new peak (high limit) updates value and peak, no event', steps: [{ input: on(2, 1.2) }, { after: 1000, input: on(2, 1.3) }],
      changed: [true, true], expect: { version: 2, peakValue: 1.3, value: 1.3, updatedAt: iso(T0 + 1000) }, events: ['raised'] },
    { name: 'a low limit tracks the minimum', steps: [
      { input: on(3, undefined, { value: 18.5, threshold: 19.5 }) }, { after: 1000, input: on(3, undefined, { value: 18.9, threshold: 19.5 }) },
      { after: 1000, input: on(3, undefined, { value: 17.9, threshold: 19.5 }) }],
      changed: [true, false, true], expect: { peakValue: 17.9, version: 2 } },
    { name: 'a higher level escalates and tightens the deadline', steps: [{ input: on(3, 1.2) }, { after: 2 * MIN, input: on(1, 1.6) }],
      changed: [true, true], expect: { level: 1, color: 'red', currentLevel: 1, ackDeadline: iso(T0 + 7 * MIN), version: 2 }, events: ['raised', 'escalated_level'] },
    { name: 'the level never drops while open; currentLevel does', steps: [{ input: on(1, 1.6) }, { after: 1000, input: on(2, 1.2) }],
      changed: [true, true], expect: { level: 1, color: 'red', currentLevel: 2, ackDeadline: iso(T0 + 5 * MIN), peakValue: 1.6 }, events: ['raised'] },
    { name: 'clear keeps the warning open with clearedAt', steps: [{ input: on(2, 1.2) }, { after: 1000, input: off }, { after: 1000, input: off }],
      changed: [true, true, false], expect: { status: 'open', active: false, currentLevel: null, clearedAt: iso(T0 + 1000), level: 2 }, events: ['raised', 'cleared'] },
    { name: 'a crossing after clear reactivates', steps: [{ input: on(2, 1.2) }, { after: 1000, input: off }, { after: 1000, input: on(2, 1.1) }],
      changed: [true, true, true], expect: { active: true, currentLevel: 2, occurrences: 2, version: 3 }, events: ['raised', 'cleared', 'reactivated'], absent: ['clearedAt'] },
    { name: 'reactivation at a higher level also escalates', steps: [{ input: on(3, 1.2) }, { after: 1000, input: off }, { after: 1000, input: on(1, 1.7) }],
      changed: [true, true, true], expect: { level: 1, occurrences: 2, peakValue: 1.7 }, events: ['raised', 'cleared', 'reactivated', 'escalated_level'] },
    { name: 'a clear with nothing open does nothing', steps: [{ input: off }], changed: [false], expect: {} },
    { name: 'an active finding without a level is ignored', steps: [{ input: { type: 'finding', finding: finding({ level: null, active: true }) } }], changed: [false], expect: {} },
  ]
  for (const row of rows) {
    it(row.name, () => {
      const { w, results } = run(row.steps)
      expect(results.map((r) => r.changed)).toEqual(row.changed)
      if (Object.keys(row.expect).length) expect(w).toMatchObject(row.expect)
      if (row.events) expect(w!.events.map((e) => e.type)).toEqual(row.events)
      for (const k of row.absent ?? []) expect(w).not.toHaveProperty(k)
      // no change returns the very same object
      results.forEach((r, i) => { if (!r.changed && i > 0) expect(r.warning).toBe(results[i - 1]!.warning) })
    })
  }

  it('never mutates its input', () => {
    const { w } = run([{ input: on(2, 1.2) }])
    const frozen = structuredClone(w!)
    apply(w, on(1, 1.9), T0 + 5)
    apply(w, cmd('ack'), T0 + 5)
    expect(w).toEqual(frozen)
  })

  it('a replay of the same steps gives the same warnings (deterministic ids and versions)', () => {
    const steps: Step[] = [{ input: on(2, 1.2) }, { after: 1000, input: on(1, 1.6) }, { after: 1000, input: off }, { after: 1000, input: on(2, 1.1) }]
    expect(run(steps).w).toEqual(run(steps).w)
    expect(run(steps).w!.version).toBe(4)
  })
})

describe('lifecycle: commands', () => {
  type Row = { name: string; before: LifecycleInput[]; input: LifecycleInput; status?: number; expect?: Partial<Warning>; event?: object }
  const rows: Row[] = [
    { name: 'ack from open', before: [], input: cmd('ack', { note: 'on it' }),
      expect: { status: 'acknowledged', acknowledgedBy: 'duty1', acknowledgedAt: iso(T0 + 1000), version: 2 },
      event: { type: 'acknowledged', at: iso(T0 + 1000), by: 'duty1', note: 'on it' } },
    { name: 'ack twice is a conflict', before: [cmd('ack')], input: cmd('ack'), status: 409 },
    { name: 'ack while disposing is a conflict', before: [cmd('dispose')], input: cmd('ack'), status: 409 },
    { name: 'dispose from open is an implicit ack', before: [], input: cmd('dispose', { by: 'duty2' }),
      expect: { status: 'disposing', acknowledgedBy: 'duty2', acknowledgedAt: iso(T0 + 1000) }, event: { type: 'disposing', by: 'duty2' } },
    { name: 'dispose after ack keeps who acknowledged', before: [cmd('ack')], input: cmd('dispose', { by: 'duty2' }),
      expect: { status: 'disposing', acknowledgedBy: 'duty1', acknowledgedAt: iso(T0 + 1000) } },
    { name: 'dispose twice is a conflict', before: [cmd('dispose')], input: cmd('dispose'), status: 409 },
    { name: 'close from open', before: [], input: cmd('close', { outcome: 'resolved', note: 'ventilated' }),
      expect: { status: 'closed', closedBy: 'duty1', closedAt: iso(T0 + 1000), outcome: 'resolved', active: true },
      event: { type: 'closed', by: 'duty1', note: 'ventilated', outcome: 'resolved' } },
    { name: 'close from acknowledged', before: [cmd('ack')], input: cmd('close', { outcome: 'false_alarm' }), expect: { status: 'closed', outcome: 'false_alarm' } },
    { name: 'close from disposing', before: [cmd('dispose')], input: cmd('close', { outcome: 'maintenance' }), expect: { status: 'closed', outcome: 'maintenance' } },
    { name: 'close needs an outcome', before: [], input: cmd('close'), status: 400 },
    { name: 'close twice is a conflict', before: [cmd('close', { outcome: 'resolved' })], input: cmd('close', { outcome: 'resolved' }), status: 409 },
    { name: 'dispose after close is a conflict', before: [cmd('close', { outcome: 'resolved' })], input: cmd('dispose'), status: 409 },
  ]
  for (const row of rows) {
    it(row.name, () => {
      const steps: Step[] = [{ input: on(2, 1.2) }, ...row.before.map((input) => ({ after: 1000, input })), { after: row.before.length ? 0 : 1000, input: row.input }]
      const { w, results } = run(steps)
      const last = results[results.length - 1]!
      if (row.status) {
        expect(last.changed).toBe(false)
        expect(last.error?.status).toBe(row.status)
        expect(last.error?.code).toBe(row.status === 409 ? 'CONFLICT' : 'BAD_REQUEST')
        expect(last.warning).toBe(results[results.length - 2]!.warning)
      } else {
        expect(last.changed).toBe(true)
        expect(w).toMatchObject(row.expect!)
        if (row.event) expect(last.events).toEqual([expect.objectContaining(row.event)])
        expect(w!.events[w!.events.length - 1]).toEqual(last.events[0])
      }
    })
  }
  it('an unknown warning is 404', () => {
    const r = apply(undefined, cmd('ack'), T0)
    expect(r.error).toEqual({ code: 'NOT_FOUND', status: 404, message: expect.stringContaining('not found') })
  })
})

describe('lifecycle: episodes', () => {
  const closeWith = (outcome: 'resolved' | 'maintenance'): Step => ({ after: 1000, input: cmd('close', { outcome }) })
  it('after close the next active finding starts a new warning, even if the condition never cleared', () => {
    const { w, results } = run([{ input: on(2, 1.2) }, closeWith('resolved'), { after: 1000, input: on(2, 1.2) }])
    expect(results[2]!.changed).toBe(true)
    expect(w).toMatchObject({ id: warningId(KEY, 2), status: 'open', version: 1, occurrences: 1, raisedAt: iso(T0 + 2000) })
    expect(w!.events.map((e) => e.type)).toEqual(['raised'])
  })
  it('a close with outcome maintenance mutes the key for 2 h', () => {
    const r = run([{ input: on(2, 1.2) }, closeWith('maintenance'), { after: 60 * MIN, input: on(1, 1.9) }, { after: 60 * MIN - 1, input: on(1, 1.9) }, { after: 1, input: on(1, 1.9) }])
    expect(r.results.map((x) => x.changed)).toEqual([true, true, false, false, true])
    expect(r.results[2]!.muted).toBe(true)
    expect(r.w).toMatchObject({ id: warningId(KEY, 2), level: 1 })
  })
  it('a reading that reached ingest before the close does not start a new episode', () => {
    const r = run([{ input: on(2, 1.2) }, closeWith('resolved'), { after: 10, input: on(2, 1.2, { receivedAt: T0 + 999 }) }, { after: 10, input: on(2, 1.2, { receivedAt: T0 + 1015 }) }])
    expect(r.results.map((x) => x.changed)).toEqual([true, true, false, true])
  })
  it('numbers episodes from what the store knows', () => {
    const previous: PreviousEpisode = { episode: 4, closedAtMs: T0 - 10 * MIN, outcome: 'resolved' }
    const r = apply(undefined, { type: 'finding', finding: finding({ level: 3 }), previous }, T0)
    expect(r.warning!.id).toBe(warningId(KEY, 5))
    const muted = apply(undefined, { type: 'finding', finding: finding({ level: 3 }), previous: { ...previous, outcome: 'maintenance' } }, T0)
    expect(muted).toMatchObject({ changed: false, muted: true })
  })
})

describe('ids and events', () => {
  it('warning ids are deterministic, distinct per key and episode, URL-safe and bounded', () => {
    expect(warningId(KEY, 1)).toBe(warningId(KEY, 1))
    expect(warningId(KEY, 1)).not.toBe(warningId(KEY, 2))
    expect(warningId('a|b', 1)).not.toBe(warningId('a.b', 1))
    const long = warningId('x'.repeat(500) + '|r', 123456)
    expect(long.length).toBeLessThanOrEqual(128)
    for (const id of [warningId(KEY, 1), long, warningId('|||', 1)]) expect(id).toMatch(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/)
    expect(episodeOf(warningId(KEY, 17))).toBe(17)
  })
  it('appendEvents trims the oldest repeatable events first', () => {
    const ev = (type: 'raised' | 'renotified' | 'acknowledged', n: number) => ({ type, at: iso(T0 + n) })
    const out = appendEvents([ev('raised', 0), ev('renotified', 1), ev('renotified', 2), ev('acknowledged', 3)], [ev('renotified', 4)], 3)
    expect(out).toEqual([ev('raised', 0), ev('acknowledged', 3), ev('renotified', 4)])
  })
})
