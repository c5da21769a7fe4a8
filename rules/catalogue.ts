// The national threshold catalogue as data: default thresholds by sensor type and role (or toxic gas),
// each entry with its source and confidence (C confirmed, P partly, U unconfirmed: needs sign-off).
// Types with no national number (tank_*, bridge types, pipe_pressure, flow, …) have no entry on purpose.
import type { Color } from '../core/contracts/levels.js'
import type { Industry, SensorType, Thresholds } from '../core/contracts/registry.js'

export type Confidence = 'C' | 'P' | 'U'

export interface CatalogueEntry {
  readonly type: SensorType
  /** Matches `sensor.role` exactly. */
  readonly role?: string
  /** toxic_gas only: matches the sensor's `gas` after normalizeGas(). */
  readonly gas?: string
  /** Only for enterprises of these industries (e.g. coal-mine air temperature). */
  readonly industries?: readonly Industry[]
  readonly thresholds: Thresholds
  /** How titles name a colour's value (default "二级预警值" etc.). */
  readonly labels?: Readonly<Partial<Record<Color, string>>>
  readonly source: string
  readonly confidence: Confidence
}

const COAL_RULES = '煤矿安全规程 2016 第498条表 (应急管理部令第8号修订); AQ 1029-2019'
const CH4_LABELS = { orange: '报警值', red: '断电值' } as const
const CH4_EQUAL_LABELS = { red: '报警/断电值' } as const
const GB50493 = 'GB/T 50493-2019 §5.5.2'

function ch4(role: string | undefined, thresholds: Thresholds, labels: CatalogueEntry['labels'], confidence: Confidence, note = ''): CatalogueEntry {
  return { type: 'ch4', ...(role ? { role } : {}), thresholds, labels, source: COAL_RULES + note, confidence }
}

function wind(role: string, low: number | null, high: number): CatalogueEntry {
  const thresholds: Thresholds = low === null ? { high: { orange: high } } : { low: { orange: low }, high: { orange: high } }
  return { type: 'wind_speed', role, thresholds, source: '煤矿安全规程 井巷风速表 (min / max m/s)', confidence: 'C' }
}

function toxic(gas: string, orange: number, red: number): CatalogueEntry {
  return { type: 'toxic_gas', gas, thresholds: { orange, red }, source: `${GB50493} 附录 (100% / 200% OEL, mg/m3, secondary transcription)`, confidence: 'P' }
}

const WORKING_FACE_CH4 = { orange: 1.0, red: 1.5, clear: 1.0 }
const RETURN_CH4 = { red: 1.0, clear: 1.0 } // alarm == power-off: a crossing is red (contracts.md Semantics)
const INTAKE_CH4 = { red: 0.5, clear: 0.5 }

const ENTRIES: CatalogueEntry[] = [
  // Methane in coal mines, by sensor location (C).
  ch4('working_face', WORKING_FACE_CH4, CH4_LABELS, 'C'),
  ch4('upper_corner', WORKING_FACE_CH4, CH4_LABELS, 'C', ' (restore value P)'),
  ch4('shearer', WORKING_FACE_CH4, CH4_LABELS, 'C'),
  ch4('heading_face', WORKING_FACE_CH4, CH4_LABELS, 'C'),
  ch4('return_airway', RETURN_CH4, CH4_EQUAL_LABELS, 'C'),
  ch4('heading_return', RETURN_CH4, CH4_EQUAL_LABELS, 'C'),
  ch4('mid_return', RETURN_CH4, CH4_EQUAL_LABELS, 'C'),
  ch4('intake', INTAKE_CH4, CH4_EQUAL_LABELS, 'C'),
  ch4('series_intake', INTAKE_CH4, CH4_EQUAL_LABELS, 'C'),
  ch4('trolley', INTAKE_CH4, CH4_EQUAL_LABELS, 'C'),
  // No role: the working-face numbers as the general default (the numbers are C, the mapping is ours).
  ch4(undefined, { orange: 1.0, red: 1.5 }, CH4_LABELS, 'P', ' (working-face values used for sensors without a role)'),
  // Other mine air limits: a single national number is orange.
  { type: 'co', thresholds: { orange: 24 }, source: '煤矿安全规程 (CO ≤ 0.0024 %vol = 24 ppm); AQ 1029-2019 alarm ≥ 24 ppm', confidence: 'C' },
  { type: 'co2', thresholds: { orange: 0.5 }, source: '煤矿安全规程 (CO2 ≤ 0.5 %vol)', confidence: 'C' },
  { type: 'h2s', thresholds: { orange: 6.6 }, source: '煤矿安全规程 (H2S ≤ 0.00066 %vol = 6.6 ppm)', confidence: 'C' },
  // Oxygen: two-sided for hazardous chemicals; ≥ 20 % in coal-mine intake air.
  { type: 'o2', role: 'intake', thresholds: { low: { orange: 20 } }, source: '煤矿安全规程 (采掘工作面进风流 O2 ≥ 20 %vol)', confidence: 'C' },
  { type: 'o2', thresholds: { low: { orange: 19.5 }, high: { orange: 23.5 } }, source: `${GB50493} (欠氧 19.5 / 过氧 23.5 %vol)`, confidence: 'C' },
  // Air temperature: > 26 °C shorten shifts, > 30 °C stop work; equipment rooms 30 / 34.
  { type: 'temperature', role: 'working_face', thresholds: { orange: 26, red: 30 }, source: '煤矿安全规程 (采掘工作面空气温度)', confidence: 'C' },
  { type: 'temperature', role: 'heading_face', thresholds: { orange: 26, red: 30 }, source: '煤矿安全规程 (采掘工作面空气温度)', confidence: 'C' },
  { type: 'temperature', role: 'equipment_room', thresholds: { orange: 30, red: 34 }, source: '煤矿安全规程 (机电设备硐室空气温度)', confidence: 'C' },
  { type: 'temperature', industries: ['coal_mine'], thresholds: { orange: 26, red: 30 }, source: '煤矿安全规程 (working-face values for coal-mine temperature sensors without a role)', confidence: 'P' },
  // Wind speed (coal): two-sided min / max as orange.
  wind('working_face', 0.25, 4),
  wind('heading_face', 0.25, 4),
  wind('rock_heading', 0.15, 4),
  wind('roadway', 0.25, 6),
  wind('trolley', 1.0, 8),
  wind('main', null, 8),
  // Combustible gas.
  { type: 'combustible_gas', role: 'point', thresholds: { orange: 25, red: 50 }, source: `${GB50493} (point detector, %LEL)`, confidence: 'C' },
  { type: 'combustible_gas', role: 'tunnel_gas_cabin', thresholds: { orange: 20, red: 25 }, source: 'GB 50838-2015 (综合管廊天然气舱: 通风 20 / 切断 25 %LEL)', confidence: 'C' },
  { type: 'combustible_gas', role: 'manhole', thresholds: { blue: 5, yellow: 10, orange: 25, red: 50, forCount: 2 }, source: 'Hefei lifeline practice by analogy with GB/T 50493 and GB 50838 (placeholder, sign-off needed)', confidence: 'U' },
  { type: 'combustible_gas', thresholds: { orange: 25, red: 50 }, source: `${GB50493} (point-detector values for sensors without a role)`, confidence: 'P' },
  // Toxic gas by gas, mg/m3, orange = 100 % OEL, red = 200 % OEL.
  toxic('h2s', 10, 20),
  toxic('co', 20, 40),
  toxic('nh3', 20, 40),
  toxic('cl2', 1, 2),
  toxic('hcn', 1, 2),
  toxic('so2', 5, 10),
  toxic('no2', 5, 10),
  toxic('hcl', 7.5, 15),
  toxic('benzene', 6, 12),
  toxic('methanol', 25, 50),
]

export const CATALOGUE: readonly CatalogueEntry[] = Object.freeze(ENTRIES.map((e) => Object.freeze(e)))

const GAS_ALIASES: Readonly<Record<string, string>> = {
  h2s: 'h2s', '硫化氢': 'h2s', co: 'co', '一氧化碳': 'co', nh3: 'nh3', '氨': 'nh3', '氨气': 'nh3',
  cl2: 'cl2', '氯气': 'cl2', '氯': 'cl2', hcn: 'hcn', '氰化氢': 'hcn', so2: 'so2', '二氧化硫': 'so2',
  no2: 'no2', '二氧化氮': 'no2', hcl: 'hcl', '氯化氢': 'hcl', benzene: 'benzene', c6h6: 'benzene', '苯': 'benzene',
  methanol: 'methanol', ch3oh: 'methanol', '甲醇': 'methanol',
}

/** The canonical catalogue name of a toxic gas ("H2S", "硫化氢" → "h2s"); unknown gases lower-cased. */
export function normalizeGas(gas: string): string {
  const k = gas.trim().toLowerCase()
  return GAS_ALIASES[k] ?? k
}

const GAS_NAMES_ZH: Readonly<Record<string, string>> = {
  h2s: '硫化氢', co: '一氧化碳', nh3: '氨', cl2: '氯气', hcn: '氰化氢', so2: '二氧化硫', no2: '二氧化氮', hcl: '氯化氢',
  benzene: '苯', methanol: '甲醇',
}

/** Chinese name of what a sensor measures, for titles. */
export function measureNameZh(type: SensorType, gas?: string): string {
  if (type === 'toxic_gas' && gas) return `${GAS_NAMES_ZH[normalizeGas(gas)] ?? gas}浓度`
  return TYPE_NAMES_ZH[type]
}

export const TYPE_NAMES_ZH: Readonly<Record<SensorType, string>> = {
  ch4: '甲烷浓度', co: '一氧化碳浓度', o2: '氧气浓度', co2: '二氧化碳浓度', temperature: '温度', wind_speed: '风速',
  h2s: '硫化氢浓度', combustible_gas: '可燃气体浓度', toxic_gas: '有毒气体浓度', tank_level: '储罐液位',
  tank_pressure: '储罐压力', tank_temperature: '储罐温度', pipe_pressure: '管网压力', flow: '流量', water_level: '水位',
  strain: '应变', displacement: '位移', deflection: '挠度', crack_width: '裂缝宽度', tilt: '倾角', vibration: '振动加速度',
  humidity: '湿度',
}

export interface CatalogueMatch { readonly entry: CatalogueEntry; readonly specificity: 'role' | 'gas' | 'type' }

/**
 * The catalogue default for a sensor: type+role first, then type+gas (toxic_gas), then type alone.
 * Entries limited to industries apply only to those. Undefined when the type has no national number.
 */
export function lookupCatalogue(
  type: SensorType, role: string | undefined, gas: string | undefined, industry: Industry | undefined,
  catalogue: readonly CatalogueEntry[] = CATALOGUE,
): CatalogueMatch | undefined {
  const g = gas ? normalizeGas(gas) : undefined
  let byGas: CatalogueEntry | undefined
  let byType: CatalogueEntry | undefined
  for (const e of catalogue) {
    if (e.type !== type) continue
    if (e.industries && (!industry || !e.industries.includes(industry))) continue
    if (e.role !== undefined) { if (role !== undefined && e.role === role) return { entry: e, specificity: 'role' }; continue }
    if (e.gas !== undefined) { if (g !== undefined && e.gas === g && !byGas) byGas = e; continue }
    if (!byType) byType = e
  }
  if (byGas) return { entry: byGas, specificity: 'gas' }
  if (byType) return { entry: byType, specificity: 'type' }
  return undefined
}
