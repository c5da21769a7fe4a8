import { describe, expect, it } from 'vitest'
import { SENSOR_TYPES } from '../core/contracts/registry.js'
import { CATALOGUE, lookupCatalogue, measureNameZh, normalizeGas } from './catalogue.js'

describe('catalogue lookup', () => {
  it.each([
    // type, role, gas, industry, expected thresholds (undefined = no national default), confidence
    ['ch4', 'working_face', undefined, 'coal_mine', { orange: 1.0, red: 1.5, clear: 1.0 }, 'C'],
    ['ch4', 'upper_corner', undefined, 'coal_mine', { orange: 1.0, red: 1.5, clear: 1.0 }, 'C'],
    ['ch4', 'shearer', undefined, 'coal_mine', { orange: 1.0, red: 1.5, clear: 1.0 }, 'C'],
    ['ch4', 'heading_face', undefined, 'coal_mine', { orange: 1.0, red: 1.5, clear: 1.0 }, 'C'],
    ['ch4', 'return_airway', undefined, 'coal_mine', { red: 1.0, clear: 1.0 }, 'C'],
    ['ch4', 'heading_return', undefined, 'coal_mine', { red: 1.0, clear: 1.0 }, 'C'],
    ['ch4', 'intake', undefined, 'coal_mine', { red: 0.5, clear: 0.5 }, 'C'],
    ['ch4', 'series_intake', undefined, 'coal_mine', { red: 0.5, clear: 0.5 }, 'C'],
    ['ch4', 'trolley', undefined, 'coal_mine', { red: 0.5, clear: 0.5 }, 'C'],
    ['ch4', undefined, undefined, 'coal_mine', { orange: 1.0, red: 1.5 }, 'P'],
    ['ch4', 'no_such_role', undefined, 'coal_mine', { orange: 1.0, red: 1.5 }, 'P'],
    ['co', undefined, undefined, 'coal_mine', { orange: 24 }, 'C'],
    ['co2', undefined, undefined, 'coal_mine', { orange: 0.5 }, 'C'],
    ['h2s', undefined, undefined, 'coal_mine', { orange: 6.6 }, 'C'],
    ['o2', undefined, undefined, 'hazardous_chemical', { low: { orange: 19.5 }, high: { orange: 23.5 } }, 'C'],
    ['o2', 'intake', undefined, 'coal_mine', { low: { orange: 20 } }, 'C'],
    ['temperature', 'working_face', undefined, 'coal_mine', { orange: 26, red: 30 }, 'C'],
    ['temperature', undefined, undefined, 'coal_mine', { orange: 26, red: 30 }, 'P'],
    ['temperature', undefined, undefined, 'bridge', undefined, undefined],
    ['wind_speed', 'working_face', undefined, 'coal_mine', { low: { orange: 0.25 }, high: { orange: 4 } }, 'C'],
    ['wind_speed', 'rock_heading', undefined, 'coal_mine', { low: { orange: 0.15 }, high: { orange: 4 } }, 'C'],
    ['wind_speed', 'roadway', undefined, 'coal_mine', { low: { orange: 0.25 }, high: { orange: 6 } }, 'C'],
    ['wind_speed', 'trolley', undefined, 'coal_mine', { low: { orange: 1.0 }, high: { orange: 8 } }, 'C'],
    ['wind_speed', 'main', undefined, 'coal_mine', { high: { orange: 8 } }, 'C'],
    ['combustible_gas', 'point', undefined, 'hazardous_chemical', { orange: 25, red: 50 }, 'C'],
    ['combustible_gas', 'tunnel_gas_cabin', undefined, 'utility_tunnel', { orange: 20, red: 25 }, 'C'],
    ['combustible_gas', 'manhole', undefined, 'gas_network', { blue: 5, yellow: 10, orange: 25, red: 50, forCount: 2 }, 'U'],
    ['toxic_gas', undefined, 'H2S', 'hazardous_chemical', { orange: 10, red: 20 }, 'P'],
    ['toxic_gas', undefined, 'CO', 'hazardous_chemical', { orange: 20, red: 40 }, 'P'],
    ['toxic_gas', undefined, 'NH3', 'hazardous_chemical', { orange: 20, red: 40 }, 'P'],
    ['toxic_gas', undefined, 'Cl2', 'hazardous_chemical', { orange: 1, red: 2 }, 'P'],
    ['toxic_gas', undefined, 'HCN', 'hazardous_chemical', { orange: 1, red: 2 }, 'P'],
    ['toxic_gas', undefined, 'SO2', 'hazardous_chemical', { orange: 5, red: 10 }, 'P'],
    ['toxic_gas', undefined, 'NO2', 'hazardous_chemical', { orange: 5, red: 10 }, 'P'],
    ['toxic_gas', undefined, 'HCl', 'hazardous_chemical', { orange: 7.5, red: 15 }, 'P'],
    ['toxic_gas', undefined, '苯', 'hazardous_chemical', { orange: 6, red: 12 }, 'P'],
    ['toxic_gas', undefined, 'CH3OH', 'hazardous_chemical', { orange: 25, red: 50 }, 'P'],
    ['toxic_gas', undefined, 'xenon', 'hazardous_chemical', undefined, undefined],
    ['toxic_gas', undefined, undefined, 'hazardous_chemical', undefined, undefined],
    ['tank_level', undefined, undefined, 'hazardous_chemical', undefined, undefined],
    ['tank_pressure', undefined, undefined, 'hazardous_chemical', undefined, undefined],
    ['pipe_pressure', undefined, undefined, 'water_network', undefined, undefined],
    ['crack_width', undefined, undefined, 'bridge', undefined, undefined],
  ] as const)('%s role=%s gas=%s (%s)', (type, role, gas, industry, thresholds, confidence) => {
    const m = lookupCatalogue(type, role, gas, industry)
    expect(m?.entry.thresholds).toEqual(thresholds)
    expect(m?.entry.confidence).toBe(confidence)
  })

  it('every entry names its source and confidence, and is frozen', () => {
    for (const e of CATALOGUE) {
      expect(e.source.length).toBeGreaterThan(5)
      expect(['C', 'P', 'U']).toContain(e.confidence)
      expect(SENSOR_TYPES).toContain(e.type)
      expect(Object.isFrozen(e)).toBe(true)
    }
  })

  it('normalizes gas names and names what is measured', () => {
    expect(normalizeGas(' H2S ')).toBe('h2s')
    expect(normalizeGas('硫化氢')).toBe('h2s')
    expect(measureNameZh('toxic_gas', 'NH3')).toBe('氨浓度')
    expect(measureNameZh('ch4')).toBe('甲烷浓度')
  })
})
