// Test fixture (not imported by production code): two cities with counties, three enterprises,
// users of every role and scope, and a factory for warning objects.
import { createHash } from 'node:crypto'
import bcrypt from 'bcryptjs'
import type { RegistryDoc } from '../../../core/contracts/registry.js'
import type { Warning } from '../../../core/contracts/warning.js'
import { COLOR_OF_LEVEL, type WarningLevel } from '../../../core/contracts/levels.js'

export const PASSWORDS = {
  admin: 'Admin-Pass-2026',
  duty: 'Duty-Pass-2026',
  viewer: 'Viewer-Pass-2026',
  countyA: 'CountyA-Pass-2026',
  countyB: 'CountyB-Pass-2026',
  entUser: 'Ent-Pass-2026',
} as const
export type FixtureUser = keyof typeof PASSWORDS

const square = (x: number, y: number, d: number) => ({ type: 'Polygon' as const, coordinates: [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]] })

export function fixtureDoc(): RegistryDoc {
  return {
    regions: [
      { id: 'R51', name: '示例省', level: 'province' },
      { id: 'R5101', name: '甲市', level: 'city', parentId: 'R51', boundary: square(104, 30, 1) },
      { id: 'R5102', name: '乙市', level: 'city', parentId: 'R51', boundary: square(105, 30, 1) },
      { id: 'R5101-C01', name: '甲市一县', level: 'county', parentId: 'R5101', boundary: square(104, 30, 0.5) },
      { id: 'R5101-C02', name: '甲市二县', level: 'county', parentId: 'R5101', boundary: square(104.5, 30, 0.5), thresholds: { 'ch4:working_face': { orange: 0.8, red: 1.2 } } },
      { id: 'R5102-C01', name: '乙市一县', level: 'county', parentId: 'R5102' },
    ],
    enterprises: [
      { id: 'E1', name: '一号煤矿', industry: 'coal_mine', regionId: 'R5101-C01', location: [104.1, 30.1], profile: { staticRiskLevel: 'yellow', employees: 420 }, contacts: [{ role: 'duty', name: '张三', phone: '13800000000' }] },
      { id: 'E2', name: '二号化工', industry: 'hazardous_chemical', regionId: 'R5101-C02', location: [104.6, 30.1], profile: { staticRiskLevel: 'orange' } },
      { id: 'E3', name: '三号燃气', industry: 'gas_network', regionId: 'R5102-C01', location: [105.1, 30.1] },
    ],
    sensors: [
      { id: 'E1-CH4-01', enterpriseId: 'E1', type: 'ch4', role: 'working_face', unit: '%CH4', thresholds: { orange: 1.0, red: 1.5, clear: 1.0 } },
      { id: 'E1-CH4-02', enterpriseId: 'E1', type: 'ch4', role: 'return_airway', unit: '%CH4' },
      { id: 'E2-CH4-01', enterpriseId: 'E2', type: 'ch4', role: 'working_face' },
      { id: 'E2-LEL-01', enterpriseId: 'E2', type: 'combustible_gas', role: 'point', thresholds: { orange: 25, red: 50 } },
      { id: 'E3-P-01', enterpriseId: 'E3', type: 'pipe_pressure', thresholds: { low: { orange: 0.2, red: 0.1 } } },
    ],
    gateways: [
      { id: 'gw-E1', enterpriseId: 'E1', token: 'gw-e1-token-long-enough' },
      { id: 'gw-E2', enterpriseId: 'E2', token: 'gw-e2-token-long-enough' },
      { id: 'gw-E3', enterpriseId: 'E3', token: 'gw-e3-token-long-enough' },
    ],
    users: [
      { username: 'admin', password: bcrypt.hashSync(PASSWORDS.admin, 4), role: 'admin' },
      { username: 'duty', password: 'sha256:' + createHash('sha256').update(PASSWORDS.duty).digest('hex'), role: 'duty' },
      { username: 'viewer', password: PASSWORDS.viewer, role: 'viewer' },
      { username: 'countyA', password: PASSWORDS.countyA, role: 'duty', regionIds: ['R5101-C01'] },
      { username: 'countyB', password: PASSWORDS.countyB, role: 'duty', regionIds: ['R5101-C02'] },
      { username: 'entUser', password: PASSWORDS.entUser, role: 'viewer', enterpriseIds: ['E3'] },
    ],
  }
}

const ENTERPRISE_REGION: Record<string, string> = { E1: 'R5101-C01', E2: 'R5101-C02', E3: 'R5102-C01' }

export function makeWarning(p: Partial<Warning> & { id: string; enterpriseId: string }): Warning {
  const level = (p.level ?? 2) as WarningLevel
  const raisedAt = p.raisedAt ?? '2026-11-28T00:00:00.000Z'
  return {
    level,
    color: COLOR_OF_LEVEL[level],
    status: 'open',
    active: true,
    currentLevel: level,
    ackDeadline: '2026-11-28T00:30:00.000Z',
    escalationTier: 'enterprise',
    kind: 'threshold',
    ruleId: 'threshold',
    dedupKey: `${p.sensorId ?? p.enterpriseId}|threshold`,
    regionId: ENTERPRISE_REGION[p.enterpriseId] ?? 'R51',
    title: `warning ${p.id}`,
    occurrences: 1,
    raisedAt,
    updatedAt: raisedAt,
    notifications: 0,
    version: 1,
    events: [{ type: 'raised', at: raisedAt }],
    ...p,
  }
}
