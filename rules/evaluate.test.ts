import { describe, expect, it } from 'vitest'
import { Compile } from 'typebox/compile'
import { Finding } from '../core/contracts/finding.js'
import type { Quality, Reading } from '../core/contracts/reading.js'
import { compileRegistry, type CompiledSensor } from './compile.js'
import { createSensorState, evaluate, rebaseSensorState, releasedFindings, type SensorState } from './evaluate.js'
import { fixtureRegistry } from './test-registry.js'

const checkFinding = Compile(Finding)
const T0 = Date.parse('2026-11-28T00:00:00.000Z')
const rules = compileRegistry(fixtureRegistry())

function sensor(id: string): { c: CompiledSensor; s: SensorState; feed: (value: number, sec: number, quality?: Quality) => Finding[] } {
  const c = rules.sensors.get(id)!
  const s = createSensorState(c)
  return {
    c, s,
    feed(value, sec, quality = 'ok') {
      const r: Reading = { sensorId: id, type: c.type, ts: T0 + sec * 1000, value, quality }
      const out = [...evaluate(c, s, r, T0 + sec * 1000 + 5)]
      for (const f of out) expect(checkFinding.Check(f), JSON.stringify(f)).toBe(true)
      return out
    },
  }
}

describe('evaluate', () => {
  it('working-face methane: findings follow the contract, with a readable title', () => {
    const { feed } = sensor('E1001-CH4-01')
    expect(feed(0.8, 0)).toEqual([])
    expect(feed(1.62, 1)).toEqual([{
      key: 'E1001-CH4-01|threshold', kind: 'threshold', ruleId: 'threshold', enterpriseId: 'E1001', sensorId: 'E1001-CH4-01',
      regionId: 'R5101-G07', active: true, level: 1, value: 1.62, threshold: 1.5,
      title: '甲煤矿 E1001-CH4-01 甲烷浓度 1.62 %CH4 超过断电值 1.5', at: T0 + 1000, receivedAt: T0 + 1005,
    }])
    const again = feed(1.2, 2)
    expect(again).toHaveLength(1)
    expect(again[0]).toMatchObject({ active: true, level: 2, threshold: 1.0, title: '甲煤矿 E1001-CH4-01 甲烷浓度 1.2 %CH4 超过报警值 1' })
    const clear = feed(0.95, 3)
    expect(clear).toEqual([expect.objectContaining({ key: 'E1001-CH4-01|threshold', active: false, level: null, value: 0.95, threshold: 1 })])
    expect(clear[0]!.title).toBe('甲煤矿 E1001-CH4-01 甲烷浓度 0.95 %CH4 已恢复正常（解除值 1）')
    expect(feed(0.9, 4)).toEqual([])
  })

  it('emits active:true for every meeting reading (so a closed warning for a persisting danger is raised again)', () => {
    const { feed } = sensor('E1001-CH4-02')
    const actives = [1.1, 1.2, 1.05].flatMap((v, i) => feed(v, i)).map((f) => [f.active, f.level])
    expect(actives).toEqual([[true, 1], [true, 1], [true, 1]])
  })

  it('skips readings not newer than the last evaluated one', () => {
    const { feed, s } = sensor('E1001-CH4-01')
    expect(feed(1.6, 10)).toHaveLength(1)
    expect(feed(0.1, 9)).toEqual([])
    expect(feed(0.1, 10)).toEqual([])
    expect(s.conditions[0]!.active).toBe(true)
    expect(feed(0.1, 11)).toEqual([expect.objectContaining({ active: false })])
  })

  it('quality: non-ok is not evaluated; fault raises a fault finding, the next ok reading clears it', () => {
    const { feed } = sensor('E1001-CH4-01')
    expect(feed(5, 0, 'calibrating')).toEqual([])
    expect(feed(5, 1, 'maintenance')).toEqual([])
    expect(feed(0, 2, 'fault')).toEqual([expect.objectContaining({ key: 'E1001-CH4-01|fault', kind: 'fault', ruleId: 'fault', active: true, level: 3 })])
    expect(feed(0, 3, 'fault')).toEqual([expect.objectContaining({ kind: 'fault', active: true })])
    const back = feed(1.2, 4)
    expect(back.map((f) => [f.kind, f.active, f.level])).toEqual([['fault', false, null], ['threshold', true, 2]])
  })

  it('two-sided oxygen: low and high are separate rules with their own keys', () => {
    const { feed } = sensor('E2001-O2-01')
    expect(feed(20.9, 0)).toEqual([])
    const low = feed(19.2, 1)
    expect(low).toEqual([expect.objectContaining({ key: 'E2001-O2-01|threshold_low', level: 2, threshold: 19.5, active: true })])
    expect(low[0]!.title).toBe('乙化工 E2001-O2-01 氧气浓度 19.2 %vol 低于二级预警值 19.5')
    const swing = feed(24, 2)
    expect(swing.map((f) => [f.key, f.active])).toEqual([['E2001-O2-01|threshold_low', false], ['E2001-O2-01|threshold_high', true]])
  })

  it('rate: a pipe-pressure drop raises a rate finding with the rate as value', () => {
    const { feed } = sensor('E3001-P-01')
    expect(feed(0.40, 0)).toEqual([])
    expect(feed(0.40, 30)).toEqual([])
    const f = feed(0.34, 60)
    expect(f).toEqual([expect.objectContaining({ key: 'E3001-P-01|rate', kind: 'rate', ruleId: 'rate', active: true, level: 2, threshold: -0.05 })])
    expect(f[0]!.value).toBeCloseTo(-0.06, 9)
    expect(f[0]!.title).toBe('丙燃气 E3001-P-01 管网压力变化速率 -0.06 MPa/分钟 达到二级速率预警值 -0.05')
  })

  it('tank level without registered thresholds: never a threshold finding', () => {
    const { feed } = sensor('E2001-TK-01')
    expect([0, 50, 100, 1e9].flatMap((v, i) => feed(v, i))).toEqual([])
  })

  it('a non-finite value is not evaluated', () => {
    const { feed } = sensor('E1001-CH4-01')
    expect(feed(Number.NaN, 0)).toEqual([])
    expect(feed(Number.POSITIVE_INFINITY, 1)).toEqual([])
  })

  it('pushes into a caller-supplied array', () => {
    const { c, s } = sensor('E1001-CH4-01')
    const out: Finding[] = []
    const r = evaluate(c, s, { sensorId: c.sensorId, type: 'ch4', ts: T0, value: 2, quality: 'ok' }, T0, out)
    expect(r).toBe(out)
    expect(out).toHaveLength(1)
  })

  it('recompile: condition state carried by ruleId; removed active rules are released', () => {
    const { c, s, feed } = sensor('E1001-CH4-01')
    feed(1.2, 0)
    const reg2 = fixtureRegistry([], 2)
    const c2 = compileRegistry(reg2).sensors.get('E1001-CH4-01')!
    const s2 = rebaseSensorState(s, c, c2)
    expect(s2.conditions[0]!.active).toBe(true)
    const removed: CompiledSensor = { ...c2, conditions: [] }
    expect(releasedFindings(c, s, removed, T0).map((f) => [f.key, f.active])).toEqual([['E1001-CH4-01|threshold', false]])
    expect(releasedFindings(c, s, c2, T0)).toEqual([])
  })
})
