// evaluate(): one reading against one sensor's compiled rules → findings. Deterministic, no I/O, no clock;
// it updates the caller's per-sensor state in place. Every reading that meets a rule emits `active: true`;
// a clear emits one `active: false`. Readings not newer than the last evaluated one are skipped.
import type { Finding } from '../core/contracts/finding.js'
import type { Reading } from '../core/contracts/reading.js'
import type { CompiledCondition, CompiledSensor } from './compile.js'
import { IDLE, stepCondition, type ConditionOutcome, type ConditionState } from './condition.js'
import { createRateState, stepRate, type RateState } from './rate.js'
import { clearedTitle, faultTitle, holdingTitle, rateClearedTitle, rateTitle, thresholdTitle } from './titles.js'

export interface SensorState {
  /** Reading time of the last evaluated reading (epoch ms). */
  lastTs: number
  /** Parallel to compiled.conditions. */
  conditions: ConditionState[]
  rate: RateState | null
  fault: boolean
}

const NO_FINDINGS: readonly Finding[] = Object.freeze([])

export function createSensorState(c: CompiledSensor): SensorState {
  return { lastTs: -Infinity, conditions: c.conditions.map(() => IDLE), rate: c.rate ? createRateState() : null, fault: false }
}

/** State for a recompiled sensor: condition states carried over by ruleId, the rate window kept if there still is one. */
export function rebaseSensorState(prev: SensorState, prevCompiled: CompiledSensor, next: CompiledSensor): SensorState {
  const conditions = next.conditions.map((nc) => {
    const i = prevCompiled.conditions.findIndex((pc) => pc.ruleId === nc.ruleId)
    return i >= 0 ? (prev.conditions[i] ?? IDLE) : IDLE
  })
  return { lastTs: prev.lastTs, conditions, rate: next.rate ? (prev.rate ?? createRateState()) : null, fault: prev.fault }
}

/** Clears for what is active in `prev` but gone from `next` (a removed rule, or a removed sensor when next is null). */
export function releasedFindings(prevCompiled: CompiledSensor, prev: SensorState, next: CompiledSensor | null, at: number): Finding[] {
  const out: Finding[] = []
  prevCompiled.conditions.forEach((pc, i) => {
    if (prev.conditions[i]?.active && !next?.conditions.some((nc) => nc.ruleId === pc.ruleId)) {
      out.push(base(prevCompiled, 'threshold', pc.ruleId, false, null, at, undefined, `${prevCompiled.enterpriseName} ${prevCompiled.sensorId} ${prevCompiled.measure} 规则已移除，条件解除`))
    }
  })
  if (prevCompiled.rate && prev.rate?.condition.active && !next?.rate) {
    out.push(base(prevCompiled, 'rate', 'rate', false, null, at, undefined, `${prevCompiled.enterpriseName} ${prevCompiled.sensorId} ${prevCompiled.measure}变化速率 规则已移除，条件解除`))
  }
  if (prev.fault && !next) out.push(base(prevCompiled, 'fault', 'fault', false, null, at, undefined, faultTitle(prevCompiled, false)))
  return out
}

function base(
  c: CompiledSensor, kind: Finding['kind'], ruleId: string, active: boolean, level: Finding['level'], at: number,
  receivedAt: number | undefined, title: string,
): Finding {
  const f: Finding = { key: `${c.sensorId}|${ruleId}`, kind, ruleId, enterpriseId: c.enterpriseId, sensorId: c.sensorId, regionId: c.regionId, active, level, title, at }
  if (receivedAt !== undefined) f.receivedAt = receivedAt
  return f
}

function conditionFinding(c: CompiledSensor, cond: CompiledCondition, o: ConditionOutcome, value: number, reading: Reading, receivedAt: number, rate: boolean): Finding | null {
  if (o.kind === 'active') {
    const title = rate
      ? rateTitle(c, value, o.label, o.threshold)
      : o.holding ? holdingTitle(c, cond.direction, value, cond.clear) : thresholdTitle(c, cond.direction, value, o.label, o.threshold)
    const f = base(c, rate ? 'rate' : 'threshold', cond.ruleId, true, o.level, reading.ts, receivedAt, title)
    f.value = value
    f.threshold = o.threshold
    return f
  }
  if (o.kind === 'cleared') {
    const f = base(c, rate ? 'rate' : 'threshold', cond.ruleId, false, null, reading.ts, receivedAt, rate ? rateClearedTitle(c, value) : clearedTitle(c, value, o.threshold))
    f.value = value
    f.threshold = o.threshold
    return f
  }
  return null
}

/**
 * Evaluates one reading. Findings are pushed to `out` when given (and `out` is returned), else a new
 * array is returned only when there are findings.
 */
export function evaluate(c: CompiledSensor, state: SensorState, reading: Reading, receivedAt: number, out?: Finding[]): readonly Finding[] {
  const ts = reading.ts
  if (!(ts > state.lastTs)) return out ?? NO_FINDINGS
  state.lastTs = ts
  let res = out
  if (reading.quality !== 'ok') {
    if (reading.quality === 'fault') {
      state.fault = true
      const f = base(c, 'fault', 'fault', true, 3, ts, receivedAt, faultTitle(c, true))
      f.value = reading.value
      ;(res ??= []).push(f)
    }
    return res ?? NO_FINDINGS
  }
  if (state.fault) {
    state.fault = false
    ;(res ??= []).push(base(c, 'fault', 'fault', false, null, ts, receivedAt, faultTitle(c, false)))
  }
  const value = reading.value
  if (!Number.isFinite(value)) return res ?? NO_FINDINGS
  const conds = c.conditions
  for (let i = 0; i < conds.length; i++) {
    const cond = conds[i]!
    const step = stepCondition(cond, state.conditions[i] ?? IDLE, value, ts)
    state.conditions[i] = step.state
    if (step.outcome.kind === 'active' || step.outcome.kind === 'cleared') {
      const f = conditionFinding(c, cond, step.outcome, value, reading, receivedAt, false)
      if (f) (res ??= []).push(f)
    }
  }
  if (c.rate && state.rate) {
    const r = stepRate(c.rate, state.rate, ts, value)
    if (r.rate !== null && (r.outcome.kind === 'active' || r.outcome.kind === 'cleared')) {
      const f = conditionFinding(c, c.rate, r.outcome, r.rate, reading, receivedAt, true)
      if (f) (res ??= []).push(f)
    }
  }
  return res ?? NO_FINDINGS
}
