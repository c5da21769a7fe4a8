// Bench registry: a synthetic province of N enterprises × S sensors (tank_level with registered
// thresholds, one gateway each) plus a probe enterprise whose sensors carry the latency probes.
// Deterministic for its inputs; secrets are long random strings so start-up's weak-secret check passes.
import { randomBytes } from 'node:crypto'
import type { Enterprise, Gateway, Region, RegistryDoc, Sensor } from '../core/contracts/registry.js'

export interface BenchRegistryOptions { enterprises: number; sensorsPerEnterprise: number; probeSensors: number }

export interface BenchGateway { id: string; token: string; enterpriseId: string; sensors: string[] }

export interface BenchRegistry {
  doc: RegistryDoc
  gateways: BenchGateway[]
  probe: BenchGateway
  admin: { username: string; password: string }
  sensorCount: number
}

/** Thresholds of every bench sensor; `NORMAL` stays below all, `CYCLE` raises, escalates twice and clears. */
export const THRESHOLDS = { yellow: 85, orange: 90, red: 95, clear: 83 } as const
export const NORMAL = 50
export const CYCLE: readonly number[] = [50, 86, 91, 96, 96, 80, 50, 50]
export const PROBE_RAISE = 96
export const PROBE_CLEAR = 50

const square = (x: number, y: number, d: number): Region['boundary'] =>
  ({ type: 'Polygon', coordinates: [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]] })

export function generateBenchRegistry(o: BenchRegistryOptions): BenchRegistry {
  const secret = (): string => randomBytes(24).toString('base64url')
  const regions: Region[] = [{ id: 'R88', name: '基准省', level: 'province', boundary: square(100, 20, 8) }]
  const grids: string[] = []
  for (let c = 0; c < 4; c++) {
    const city = `R880${c + 1}`
    regions.push({ id: city, name: `基准市${c + 1}`, level: 'city', parentId: 'R88', boundary: square(100 + 2 * c, 20, 2) })
    for (let k = 0; k < 4; k++) {
      const county = `${city}0${k + 1}`
      regions.push({ id: county, name: `基准县${c + 1}-${k + 1}`, level: 'county', parentId: city, boundary: square(100 + 2 * c, 20 + 0.5 * k, 0.5) })
      for (let g = 0; g < 4; g++) {
        const grid = `${county}-G0${g + 1}`
        regions.push({ id: grid, name: `网格${c + 1}-${k + 1}-${g + 1}`, level: 'grid', parentId: county, boundary: square(100 + 2 * c + 0.125 * g, 20 + 0.5 * k, 0.125) })
        grids.push(grid)
      }
    }
  }
  const enterprises: Enterprise[] = []
  const sensors: Sensor[] = []
  const gateways: Gateway[] = []
  const bench: BenchGateway[] = []
  const addEnterprise = (id: string, n: number, i: number): BenchGateway => {
    const regionId = grids[i % grids.length]!
    enterprises.push({ id, name: `基准企业${id}`, industry: 'hazardous_chemical', regionId, location: [100.01 + (i % 97) * 0.001, 20.01 + (i % 89) * 0.001], profile: { staticRiskLevel: 'blue' } })
    const gw: BenchGateway = { id: `gw-${id}`, token: secret(), enterpriseId: id, sensors: [] }
    gateways.push({ id: gw.id, enterpriseId: id, token: gw.token, maxSilenceSeconds: 3600, maxRate: 1_000_000 })
    for (let s = 0; s < n; s++) {
      const sid = `${id}-LT-${String(s + 1).padStart(3, '0')}`
      sensors.push({ id: sid, enterpriseId: id, type: 'tank_level', name: `储罐液位${s + 1}#`, thresholds: { ...THRESHOLDS }, maxSilenceSeconds: 3600 })
      gw.sensors.push(sid)
    }
    return gw
  }
  for (let i = 0; i < o.enterprises; i++) bench.push(addEnterprise(`E${100000 + i}`, o.sensorsPerEnterprise, i))
  const probe = addEnterprise('EPROBE', o.probeSensors, 0)
  const admin = { username: 'bench-admin', password: secret() }
  return {
    doc: { regions, enterprises, sensors, gateways, users: [{ username: admin.username, password: admin.password, role: 'admin', name: 'bench' }] },
    gateways: bench, probe, admin, sensorCount: sensors.length,
  }
}
