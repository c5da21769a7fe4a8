// A small registry for alerting's tests: province R51 → city R5101 → county R510101 → grid G1
// (enterprises E1 with a key sensor behind gateway gw-E1, and E2), city R5102 (no county) → E3,
// and an empty city R5103. Every tier has contacts.
import type { RegistryDoc } from '../../core/contracts/registry.js'
import { indexRegistry, type RegistryIndex } from '../../core/registry/registry-index.js'

export function testRegistryDoc(): RegistryDoc {
  return {
    regions: [
      { id: 'R51', name: '示例省', level: 'province', contacts: [{ role: 'duty', name: '省值班' }] },
      { id: 'R5101', name: '甲市', level: 'city', parentId: 'R51', contacts: [{ role: 'duty', name: '甲市值班' }] },
      { id: 'R510101', name: '甲县', level: 'county', parentId: 'R5101', contacts: [{ role: 'duty', name: '甲县值班' }] },
      { id: 'G1', name: '第1网格', level: 'grid', parentId: 'R510101' },
      { id: 'R5102', name: '乙市', level: 'city', parentId: 'R51', contacts: [{ role: 'duty', name: '乙市值班' }] },
      { id: 'R5103', name: '丙市', level: 'city', parentId: 'R51' },
    ],
    enterprises: [
      { id: 'E1', name: '某煤矿', industry: 'coal_mine', regionId: 'G1', location: [104.06, 30.61], profile: { staticRiskLevel: 'yellow' }, contacts: [{ role: 'duty', name: '张三', phone: '13800000000' }] },
      { id: 'E2', name: '某化工', industry: 'hazardous_chemical', regionId: 'G1', location: [104.07, 30.62] },
      { id: 'E3', name: '某管网', industry: 'gas_network', regionId: 'R5102', location: [104.5, 30.9], profile: { assessmentScore: 95 } },
    ],
    sensors: [
      { id: 'E1-CH4-01', enterpriseId: 'E1', type: 'ch4', role: 'working_face', key: true },
      { id: 'E1-CO-01', enterpriseId: 'E1', type: 'co' },
      { id: 'E2-GAS-01', enterpriseId: 'E2', type: 'combustible_gas', role: 'point' },
      { id: 'E3-P-01', enterpriseId: 'E3', type: 'pipe_pressure' },
    ],
    gateways: [{ id: 'gw-E1', enterpriseId: 'E1', token: 't' }],
  }
}

export function testRegistry(): RegistryIndex {
  return indexRegistry(testRegistryDoc())
}
