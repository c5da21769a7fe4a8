// Normal signals per sensor type: baseline + slow drift (sinusoid, period minutes) + Gaussian noise,
// kept inside the sensor's safe band (below its lowest alarm, above any low limit). Uses the injected Random.
import type { FlatThresholds, Sensor, SensorType } from '../core/contracts/registry.js'
import type { Random } from '../core/runtime/random.js'

export interface SignalModel {
  /** The normal value at time t (epoch ms). */
  value(t: number): number
  readonly baseline: number
}

interface Profile { base: [number, number]; noise: number; drift: number; min: number; max: number; decimals: number }

const P = (base: [number, number], noise: number, drift: number, min: number, max: number, decimals = 2): Profile => ({ base, noise, drift, min, max, decimals })

const BY_TYPE: Record<SensorType, Profile> = {
  ch4: P([0.2, 0.4], 0.02, 0.05, 0.01, 0.7, 2),
  co: P([2, 8], 0.5, 1.5, 0, 16, 1),
  o2: P([20.6, 20.9], 0.03, 0.05, 20.2, 21.2, 2),
  co2: P([0.1, 0.3], 0.01, 0.03, 0.02, 0.4, 2),
  temperature: P([20, 24], 0.1, 1, 10, 25.5, 1),
  wind_speed: P([1.2, 2.5], 0.08, 0.2, 0.6, 3.5, 2),
  h2s: P([0.5, 2], 0.1, 0.3, 0, 4.5, 2),
  combustible_gas: P([0, 3], 0.3, 0.5, 0, 4, 1),
  toxic_gas: P([0.05, 0.3], 0.03, 0.05, 0, 0.6, 2),
  tank_level: P([40, 70], 0.2, 3, 10, 80, 1),
  tank_pressure: P([0.2, 0.35], 0.003, 0.02, 0.1, 0.45, 3),
  tank_temperature: P([18, 28], 0.1, 1.5, 5, 36, 1),
  pipe_pressure: P([0.3, 0.38], 0.002, 0.01, 0.24, 0.45, 3),
  flow: P([200, 600], 8, 60, 50, 850, 0),
  water_level: P([20, 45], 0.5, 5, 5, 60, 1),
  strain: P([30, 80], 2, 10, 0, 130, 0),
  displacement: P([1, 5], 0.1, 0.5, 0, 8, 2),
  deflection: P([2, 8], 0.2, 1, 0, 16, 1),
  crack_width: P([0.05, 0.12], 0.002, 0.005, 0.01, 0.17, 3),
  tilt: P([0.02, 0.1], 0.005, 0.01, 0, 0.25, 3),
  vibration: P([0.02, 0.1], 0.01, 0.02, 0, 0.4, 3),
  humidity: P([55, 75], 0.5, 4, 30, 85, 1),
}

const CH4_BY_ROLE: Record<string, [number, number]> = {
  working_face: [0.25, 0.45], upper_corner: [0.3, 0.5], heading_face: [0.2, 0.4], return_airway: [0.2, 0.4], intake: [0.03, 0.12],
  series_intake: [0.03, 0.12], trolley: [0.03, 0.12],
}

function lowestHigh(t: FlatThresholds | undefined): number | undefined {
  if (!t || t.direction === 'low') return undefined
  const v = [t.blue, t.yellow, t.orange, t.red].filter((x): x is number => typeof x === 'number')
  return v.length ? Math.min(...v) : undefined
}

function highestLow(t: FlatThresholds | undefined): number | undefined {
  if (!t || t.direction !== 'low') return undefined
  const v = [t.blue, t.yellow, t.orange, t.red].filter((x): x is number => typeof x === 'number')
  return v.length ? Math.max(...v) : undefined
}

/** The safe band and noise of a sensor's normal signal. */
export function signalProfile(sensor: Sensor): Profile {
  const p = { ...BY_TYPE[sensor.type] }
  if (sensor.type === 'ch4') {
    const b = CH4_BY_ROLE[sensor.role ?? ''] ?? p.base
    p.base = b
    p.max = Math.min(p.max, b[1] + 0.1)
  }
  const th = sensor.thresholds
  const flat = th && !('low' in th || 'high' in th) ? (th as FlatThresholds) : undefined
  const hi = lowestHigh(flat ?? (th && 'high' in th ? th.high : undefined))
  const lo = highestLow(flat) ?? (th && 'low' in th ? th.low && [th.low.blue, th.low.yellow, th.low.orange, th.low.red].filter((x): x is number => typeof x === 'number').reduce((a, b) => Math.max(a, b), -Infinity) : undefined)
  if (hi !== undefined && p.max > hi * 0.85) {
    p.max = hi * 0.85
    if (p.base[1] > p.max) p.base = [Math.min(p.base[0], p.max * 0.6), p.max * 0.8]
  }
  if (lo !== undefined && Number.isFinite(lo) && p.min < lo * 1.1) {
    p.min = lo * 1.1
    if (p.base[0] < p.min) p.base = [p.min * 1.05, Math.max(p.base[1], p.min * 1.2)]
  }
  return p
}

export function createSignalModel(sensor: Sensor, rng: Random): SignalModel {
  const p = signalProfile(sensor)
  const baseline = p.base[0] + rng.next() * (p.base[1] - p.base[0])
  const period = (10 + rng.next() * 30) * 60_000
  const phase = rng.next() * 2 * Math.PI
  const scale = 10 ** p.decimals
  return {
    baseline,
    value(t) {
      const v = baseline + p.drift * Math.sin((2 * Math.PI * t) / period + phase) + rng.normal(0, p.noise)
      return Math.round(Math.min(p.max, Math.max(p.min, v)) * scale) / scale
    },
  }
}
