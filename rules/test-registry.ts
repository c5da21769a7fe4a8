// Test fixture: a small registry (a province, city and grid; a coal mine, a chemical plant, a gas network)
// used by the rules tests. Not imported by production code.
import type { RegistryDoc, Sensor } from '../core/contracts/registry.js'
import { indexRegistry, type RegistryIndex } from '../core/registry/registry-index.js'
import { assertRegistry } from '../core/registry/validate-registry.js'

export function fixtureDoc(extraSensors: Sensor[] = []): RegistryDoc {
  return {
    regions: [
      { id: 'R51', name: '示例省', level: 'province' },
      { id: 'R5101', name: '甲市', level: 'city', parentId: 'R51' },
      { id: 'R5101-G07', name: '第7网格', level: 'grid', parentId: 'R5101' },
    ],
    enterprises: [
      { id: 'E1001', name: '甲煤矿', industry: 'coal_mine', regionId: 'R5101-G07', location: [104.06, 30.61] },
      { id: 'E2001', name: '乙化工', industry: 'hazardous_chemical', regionId: 'R5101-G07', location: [104.07, 30.62] },
      { id: 'E3001', name: '丙燃气', industry: 'gas_network', regionId: 'R5101', location: [104.08, 30.63] },
    ],
    sensors: [
      { id: 'E1001-CH4-01', enterpriseId: 'E1001', type: 'ch4', role: 'working_face' },
      { id: 'E1001-CH4-02', enterpriseId: 'E1001', type: 'ch4', role: 'return_airway' },
      { id: 'E1001-O2-01', enterpriseId: 'E1001', type: 'o2', role: 'intake' },
      { id: 'E2001-LEL-01', enterpriseId: 'E2001', type: 'combustible_gas', role: 'point', thresholds: { orange: 25, red: 50, clear: 20 } },
      { id: 'E2001-LEL-02', enterpriseId: 'E2001', type: 'combustible_gas', role: 'point', thresholds: { orange: 25, red: 50, forSeconds: 10 } },
      { id: 'E2001-O2-01', enterpriseId: 'E2001', type: 'o2' },
      { id: 'E2001-TK-01', enterpriseId: 'E2001', type: 'tank_level' },
      { id: 'E3001-MH-01', enterpriseId: 'E3001', type: 'combustible_gas', role: 'manhole' },
      { id: 'E3001-P-01', enterpriseId: 'E3001', type: 'pipe_pressure', thresholds: { low: { orange: 0.2, red: 0.1 }, high: { ratePerMinute: { orange: -0.05, red: -0.2 } } } },
      ...extraSensors,
    ],
    gateways: [
      { id: 'gw-E1001', enterpriseId: 'E1001', token: 't1' },
      { id: 'gw-E2001', enterpriseId: 'E2001', token: 't2' },
      { id: 'gw-E3001', enterpriseId: 'E3001', token: 't3' },
    ],
  }
}

export function fixtureRegistry(extraSensors: Sensor[] = [], version = 1): RegistryIndex {
  return indexRegistry(assertRegistry(fixtureDoc(extraSensors)), version)
}
