// A small registry for end-to-end tests: one province, two cities with a county each, grid cells,
// a coal mine and a hazardous-chemicals plant in different counties, strong (non-default) secrets.
import type { RegistryDoc } from '../core/contracts/registry.js'

const square = (lon: number, lat: number, d: number) => ({
  type: 'Polygon' as const,
  coordinates: [[[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]],
})

export const PASSWORDS = { admin: 'Adm1n-e2e-Secret!', duty: 'Duty-e2e-Secret!', viewer: 'View-e2e-Secret!', dutyB: 'DutyB-e2e-Secret!' }
export const TOKENS = { E1: 'gw-E1-token-0123456789', E2: 'gw-E2-token-9876543210' }

export function fixtureRegistry(): RegistryDoc {
  return {
    regions: [
      { id: 'P1', name: '测试省', level: 'province', boundary: square(104, 30, 2) },
      { id: 'C1', name: '甲市', level: 'city', parentId: 'P1', boundary: square(104, 30, 1) },
      { id: 'C2', name: '乙市', level: 'city', parentId: 'P1', boundary: square(105, 30, 1) },
      { id: 'K1', name: '甲县', level: 'county', parentId: 'C1', boundary: square(104, 30, 0.5), contacts: [{ role: 'duty', name: '县值班', phone: '110' }] },
      { id: 'K2', name: '乙县', level: 'county', parentId: 'C2', boundary: square(105, 30, 0.5) },
      { id: 'G1', name: '第1网格', level: 'grid', parentId: 'K1', boundary: square(104, 30, 0.25) },
      { id: 'G2', name: '第2网格', level: 'grid', parentId: 'K2', boundary: square(105, 30, 0.25) },
    ],
    enterprises: [
      { id: 'E1', name: '测试煤矿', industry: 'coal_mine', regionId: 'G1', location: [104.1, 30.1], profile: { staticRiskLevel: 'blue', employees: 300 } },
      { id: 'E2', name: '<img src=x onerror=alert(1)>化工', industry: 'hazardous_chemical', regionId: 'G2', location: [105.1, 30.1], profile: { staticRiskLevel: 'yellow', majorHazardLevel: 3 } },
    ],
    sensors: [
      { id: 'E1-CH4-01', enterpriseId: 'E1', type: 'ch4', role: 'working_face', unit: '%CH4', maxSilenceSeconds: 300 },
      { id: 'E1-CO-01', enterpriseId: 'E1', type: 'co', unit: 'ppm', maxSilenceSeconds: 300 },
      { id: 'E2-LEL-01', enterpriseId: 'E2', type: 'combustible_gas', role: 'point', unit: '%LEL', maxSilenceSeconds: 300 },
    ],
    gateways: [
      { id: 'gw-E1', enterpriseId: 'E1', token: TOKENS.E1 },
      { id: 'gw-E2', enterpriseId: 'E2', token: TOKENS.E2 },
    ],
    users: [
      { username: 'admin', password: PASSWORDS.admin, role: 'admin' },
      { username: 'duty', password: PASSWORDS.duty, role: 'duty' },
      { username: 'viewer', password: PASSWORDS.viewer, role: 'viewer' },
      { username: 'dutyB', password: PASSWORDS.dutyB, role: 'duty', regionIds: ['K2'] },
    ],
  }
}
