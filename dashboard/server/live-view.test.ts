// The live view: loads not-closed warnings and risk from the stores, then follows the bus (newest
// version wins, closed warnings leave), with reading rates and offline sensors.
import { expect, test } from 'vitest'
import { createMemoryBus } from '../../core/bus/memory-bus.js'
import { topics } from '../../core/contracts/topics.js'
import { createRegistryHolder } from '../../core/registry/registry-holder.js'
import { indexRegistry } from '../../core/registry/registry-index.js'
import { fakeClock } from '../../core/runtime/clock.js'
import { createLogger } from '../../core/runtime/logger.js'
import { createMemoryStores } from '../../core/store/memory-stores.js'
import { fixtureDoc, makeWarning } from './testing/fixture.js'
import { createLiveView } from './live-view.js'

async function setup() {
  const bus = createMemoryBus()
  const stores = createMemoryStores()
  const clock = fakeClock()
  const live = createLiveView({ bus, stores, clock, registry: createRegistryHolder(indexRegistry(fixtureDoc())), logger: createLogger({ level: 'silent' }), instanceId: 'a' })
  return { bus, stores, clock, live }
}

test('starts from the stores, then follows the bus; stale versions are ignored; closed ones leave', async () => {
  const { bus, stores, live } = await setup()
  await stores.warnings.upsert(makeWarning({ id: 'W1', enterpriseId: 'E1', version: 3 }))
  await stores.warnings.upsert(makeWarning({ id: 'W0', enterpriseId: 'E1', status: 'closed' }))
  await stores.risk.putMany([{ kind: 'enterprise', id: 'E1', riskLevel: 'red', score: 9, factors: [], openWarnings: 1, at: 5 }])
  await live.start()
  expect([...live.warnings()].map((w) => w.id)).toEqual(['W1'])
  expect(live.risk('enterprise', 'E1')?.score).toBe(9)
  await bus.publish(topics.warnings, makeWarning({ id: 'W1', enterpriseId: 'E1', version: 2, title: 'stale' }))
  await bus.publish(topics.risk, { kind: 'enterprise', id: 'E1', riskLevel: 'blue', score: 1, factors: [], openWarnings: 0, at: 4 })
  await bus.drain()
  expect(live.warning('W1')?.title).toBe('warning W1')
  expect(live.risk('enterprise', 'E1')?.score).toBe(9)
  await bus.publish(topics.warnings, makeWarning({ id: 'W1', enterpriseId: 'E1', version: 4, status: 'closed' }))
  await bus.publish(topics.warnings, { id: 'bad' } as never)
  await bus.drain()
  expect([...live.warnings()]).toEqual([])
  // A late, older copy does not bring a closed warning back.
  await bus.publish(topics.warnings, makeWarning({ id: 'W1', enterpriseId: 'E1', version: 3 }))
  await bus.drain()
  expect([...live.warnings()]).toEqual([])
  await live.stop()
})

test('sensor states: offline (own or gateway warning), fault, alarm with the worst current level, normal', async () => {
  const { bus, live } = await setup()
  await live.start()
  await bus.publish(topics.warnings, makeWarning({ id: 'A', enterpriseId: 'E2', sensorId: 'E2-LEL-01', level: 1, currentLevel: 3 }))
  await bus.publish(topics.warnings, makeWarning({ id: 'B', enterpriseId: 'E2', sensorId: 'E2-LEL-01', level: 2, currentLevel: 2, ruleId: 'rate', kind: 'rate' }))
  await bus.publish(topics.warnings, makeWarning({ id: 'C', enterpriseId: 'E2', sensorId: 'E2-CH4-01', kind: 'fault' }))
  await bus.publish(topics.warnings, makeWarning({ id: 'D', enterpriseId: 'E3', sensorId: 'E3-P-01', kind: 'offline' }))
  await bus.publish(topics.warnings, makeWarning({ id: 'E', enterpriseId: 'E1', kind: 'offline', gatewayId: 'gw-E1', active: false }))
  await bus.drain()
  expect(live.sensorState('E2-LEL-01')).toEqual({ state: 'alarm', level: 2, warningIds: ['A', 'B'] })
  expect(live.sensorState('E2-CH4-01')).toEqual({ state: 'fault', warningId: 'C' })
  expect(live.sensorState('E3-P-01')).toEqual({ state: 'offline', warningId: 'D' })
  expect(live.sensorState('E1-CH4-01')).toEqual({ state: 'normal' }) // the gateway warning cleared
  await bus.publish(topics.warnings, makeWarning({ id: 'E', enterpriseId: 'E1', kind: 'offline', gatewayId: 'gw-E1', active: true, version: 2 }))
  await bus.drain()
  expect([...live.offlineSensors().keys()].sort()).toEqual(['E1-CH4-01', 'E1-CH4-02', 'E3-P-01'])
  await live.stop()
})

test('latest reading per sensor and readings per second, overall and per enterprise', async () => {
  const { bus, clock, live } = await setup()
  await live.start()
  const t = clock.now()
  await bus.publish(topics.readings, { enterpriseId: 'E1', gatewayId: 'gw-E1', receivedAt: t, items: [
    { sensorId: 'E1-CH4-01', type: 'ch4', ts: t - 10, value: 0.7, quality: 'ok' },
    { sensorId: 'E1-CH4-01', type: 'ch4', ts: t - 20, value: 0.6, quality: 'ok' },
  ] })
  await bus.publish(topics.readings, { enterpriseId: 'E2', gatewayId: 'gw-E2', receivedAt: t, items: Array.from({ length: 8 }, (_, i) => ({ sensorId: 'E2-LEL-01', type: 'combustible_gas' as const, ts: t + i, value: i, quality: 'ok' as const })) })
  await bus.drain()
  expect(live.latest('E1-CH4-01')).toEqual({ ts: t - 10, value: 0.7, quality: 'ok', receivedAt: t })
  clock.advance(1000)
  expect(live.readingsPerSecond(null)).toBe(1)
  expect(live.readingsPerSecond(['E1'])).toBeCloseTo(0.2)
  expect(live.readingsPerSecond(['E3'])).toBe(0)
  await live.stop()
})
