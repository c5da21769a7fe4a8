// Resolves, once per registry version, each sensor's effective rules into a frozen CompiledSensor.
// Per threshold key the most specific source wins as a whole: sensor > enterprise "type:role" / "type" >
// nearest region (walking up) > catalogue type+role (or gas) > catalogue type. Bad input never throws.
import { LEVEL_NAMES_ZH, LEVEL_OF_COLOR, type Color, type WarningLevel } from '../core/contracts/levels.js'
import { SENSOR_UNITS, type Enterprise, type FlatThresholds, type Sensor, type SensorType, type Thresholds, type TwoSidedThresholds } from '../core/contracts/registry.js'
import type { RegistryIndex } from '../core/registry/registry-index.js'
import { CATALOGUE, lookupCatalogue, measureNameZh, normalizeGas, type CatalogueEntry, type Confidence } from './catalogue.js'

export type Direction = 'high' | 'low'

export interface LevelThreshold { readonly level: WarningLevel; readonly value: number; readonly label: string }

/** One level / hysteresis / duration / count rule on a value (a reading, or a rate of change). */
export interface CompiledCondition {
  readonly ruleId: string
  readonly direction: Direction
  /** Most severe first (red … blue). */
  readonly levels: readonly LevelThreshold[]
  /** The least extreme threshold: the first one a rising (or, for `low`, falling) value crosses. */
  readonly lowest: LevelThreshold
  /** Clears only strictly past this (below for `high`, above for `low`). */
  readonly clear: number
  readonly forMs: number
  readonly forCount: number
}

/** Rate-of-change rule: a condition on the rate per minute over a sliding window. */
export interface CompiledRate extends CompiledCondition {
  readonly ruleId: 'rate'
  readonly windowMs: number
  /** The window must span at least this much reading time before a rate is computed (noise guard). */
  readonly minSpanMs: number
}

export interface CompiledSensor {
  readonly sensorId: string
  readonly enterpriseId: string
  readonly enterpriseName: string
  readonly regionId: string
  readonly type: SensorType
  readonly role: string | null
  readonly unit: string
  /** Chinese name of the measured quantity, for titles ("甲烷浓度"). */
  readonly measure: string
  readonly conditions: readonly CompiledCondition[]
  readonly rate?: CompiledRate
  readonly maxSilenceMs: number
  readonly gatewayId: string | null
  /** A key sensor (its silence raises the enterprise's risk). */
  readonly key: boolean
  /** Where the thresholds came from: "sensor", "enterprise:E1:ch4:working_face", "region:R51:ch4", "catalogue:ch4:working_face", "none". */
  readonly thresholdSource: string
  /** Confidence of a catalogue default (undefined for registered thresholds). */
  readonly confidence?: Confidence
}

export interface CompileOptions {
  /** Silence limit for sensors and gateways without their own (default 30 s: one AQ 6201 polling cycle). */
  defaultMaxSilenceSeconds?: number
  catalogue?: readonly CatalogueEntry[]
}

export interface CompiledRules {
  readonly version: number
  readonly sensors: ReadonlyMap<string, CompiledSensor>
  /** Region for platform findings: the first root region ('-' when there is none). */
  readonly platformRegionId: string
  /** Sensors that could not be compiled, with the reason. */
  readonly problems: readonly string[]
}

export const DEFAULT_MAX_SILENCE_SECONDS = 30
const DEFAULT_RATE_WINDOW_SECONDS = 60
const COLOR_ORDER: readonly Color[] = ['red', 'orange', 'yellow', 'blue']
type Labels = CatalogueEntry['labels']

export function compileRegistry(reg: RegistryIndex, opts: CompileOptions = {}): CompiledRules {
  const sensors = new Map<string, CompiledSensor>()
  const problems: string[] = []
  for (const s of reg.sensors.values()) {
    const c = compileSensor(reg, s, opts)
    if (typeof c === 'string') problems.push(c)
    else sensors.set(s.id, c)
  }
  return Object.freeze({ version: reg.version, sensors, platformRegionId: reg.roots[0]?.id ?? '-', problems: Object.freeze(problems) })
}

/** One sensor's effective rules, or a problem message. */
export function compileSensor(reg: RegistryIndex, sensor: Sensor, opts: CompileOptions = {}): CompiledSensor | string {
  const enterprise = reg.enterprises.get(sensor.enterpriseId)
  if (!enterprise) return `sensor ${sensor.id}: unknown enterprise "${sensor.enterpriseId}"`
  const catalogue = opts.catalogue ?? CATALOGUE
  const match = lookupCatalogue(sensor.type, sensor.role, sensor.gas, enterprise.industry, catalogue)
  const resolved = resolveThresholds(reg, sensor, enterprise, catalogue)
  const { conditions, rate } = resolved.thresholds ? compileThresholds(resolved.thresholds, match?.entry.labels) : { conditions: [], rate: undefined }
  const gateway = reg.gatewayOf(sensor)
  const silenceS = sensor.maxSilenceSeconds ?? gateway?.maxSilenceSeconds ?? opts.defaultMaxSilenceSeconds ?? DEFAULT_MAX_SILENCE_SECONDS
  const out: CompiledSensor = {
    sensorId: sensor.id,
    enterpriseId: enterprise.id,
    enterpriseName: enterprise.name,
    regionId: enterprise.regionId,
    type: sensor.type,
    role: sensor.role ?? null,
    unit: sensor.unit ?? SENSOR_UNITS[sensor.type],
    measure: measureNameZh(sensor.type, sensor.gas),
    conditions: Object.freeze(conditions),
    ...(rate ? { rate } : {}),
    maxSilenceMs: Math.max(1, silenceS) * 1000,
    gatewayId: gateway?.id ?? null,
    key: sensor.key === true,
    thresholdSource: resolved.source,
    ...(resolved.confidence ? { confidence: resolved.confidence } : {}),
  }
  return Object.freeze(out)
}

export interface ResolvedThresholds { readonly thresholds?: Thresholds; readonly source: string; readonly confidence?: Confidence }

/** The thresholds that apply to a sensor and where they came from (the most specific source wins whole). */
export function resolveThresholds(reg: RegistryIndex, sensor: Sensor, enterprise: Enterprise, catalogue: readonly CatalogueEntry[] = CATALOGUE): ResolvedThresholds {
  if (sensor.thresholds) return { thresholds: sensor.thresholds, source: 'sensor' }
  const keys: string[] = []
  if (sensor.role) keys.push(`${sensor.type}:${sensor.role}`)
  if (sensor.gas) keys.push(`${sensor.type}:${normalizeGas(sensor.gas)}`)
  keys.push(sensor.type)
  for (const k of keys) {
    const t = enterprise.thresholds?.[k]
    if (t) return { thresholds: t, source: `enterprise:${enterprise.id}:${k}` }
  }
  for (const region of reg.ancestors(enterprise.regionId)) {
    for (const k of keys) {
      const t = region.thresholds?.[k]
      if (t) return { thresholds: t, source: `region:${region.id}:${k}` }
    }
  }
  const m = lookupCatalogue(sensor.type, sensor.role, sensor.gas, enterprise.industry, catalogue)
  if (m) {
    const e = m.entry
    const what = m.specificity === 'role' ? `:${e.role}` : m.specificity === 'gas' ? `:${e.gas}` : ''
    return { thresholds: e.thresholds, source: `catalogue:${e.type}${what}`, confidence: e.confidence }
  }
  return { source: 'none' }
}

export function isTwoSided(t: Thresholds): t is TwoSidedThresholds {
  return 'low' in t || 'high' in t
}

/** Thresholds (flat or two-sided) → conditions and an optional rate rule. */
export function compileThresholds(t: Thresholds, labels?: Labels): { conditions: CompiledCondition[]; rate: CompiledRate | undefined } {
  const conditions: CompiledCondition[] = []
  let rateSpec: FlatThresholds['ratePerMinute']
  if (isTwoSided(t)) {
    const low = t.low ? compileFlat(t.low, 'low', 'threshold_low', labels) : null
    const high = t.high ? compileFlat(t.high, 'high', 'threshold_high', labels) : null
    if (low) conditions.push(low)
    if (high) conditions.push(high)
    rateSpec = t.high?.ratePerMinute ?? t.low?.ratePerMinute
  } else {
    const c = compileFlat(t, t.direction ?? 'high', 'threshold', labels)
    if (c) conditions.push(c)
    rateSpec = t.ratePerMinute
  }
  return { conditions, rate: rateSpec ? compileRate(rateSpec) : undefined }
}

function levelsOf(t: Partial<Record<Color, number | undefined>>, labels: Labels, generic: string): LevelThreshold[] {
  const out: LevelThreshold[] = []
  for (const color of COLOR_ORDER) {
    const v = t[color]
    if (typeof v !== 'number' || !Number.isFinite(v)) continue
    const level = LEVEL_OF_COLOR[color]
    out.push(Object.freeze({ level, value: v, label: labels?.[color] ?? `${LEVEL_NAMES_ZH[level]}${generic}` }))
  }
  return out
}

/** The least extreme threshold; on ties, the most severe level (levels are most severe first). */
function leastExtreme(levels: readonly LevelThreshold[], direction: Direction): LevelThreshold {
  let best = levels[0]!
  for (const l of levels) if (direction === 'high' ? l.value < best.value : l.value > best.value) best = l
  return best
}

export function compileFlat(t: FlatThresholds, direction: Direction, ruleId: string, labels?: Labels): CompiledCondition | null {
  const levels = levelsOf(t, labels, '预警值')
  if (!levels.length) return null
  const lowest = leastExtreme(levels, direction)
  const c = typeof t.clear === 'number' && Number.isFinite(t.clear) ? t.clear : lowest.value
  const clear = direction === 'high' ? Math.min(c, lowest.value) : Math.max(c, lowest.value)
  const forMs = typeof t.forSeconds === 'number' && t.forSeconds > 0 ? t.forSeconds * 1000 : 0
  const forCount = typeof t.forCount === 'number' && t.forCount > 1 ? Math.floor(t.forCount) : 1
  return Object.freeze({ ruleId, direction, levels: Object.freeze(levels), lowest, clear, forMs, forCount })
}

/**
 * Signed rates: negative values mean a drop (direction low: rate ≤ value), positive a rise (rate ≥ value).
 * The sign of the most severe colour decides; colours of the other sign are ignored.
 */
export function compileRate(spec: NonNullable<FlatThresholds['ratePerMinute']>): CompiledRate | undefined {
  const all = levelsOf(spec, undefined, '速率预警值')
  if (!all.length) return undefined
  const direction: Direction = all[0]!.value < 0 ? 'low' : 'high'
  const levels = all.filter((l) => (direction === 'low' ? l.value < 0 : l.value >= 0))
  const lowest = leastExtreme(levels, direction)
  const windowMs = (typeof spec.windowSeconds === 'number' && spec.windowSeconds > 0 ? spec.windowSeconds : DEFAULT_RATE_WINDOW_SECONDS) * 1000
  return Object.freeze({
    ruleId: 'rate', direction, levels: Object.freeze(levels), lowest, clear: lowest.value, forMs: 0, forCount: 1,
    windowMs, minSpanMs: windowMs / 4,
  })
}
