// Rules takeover (scale-out rebalance, or a restart): a rules stage with no local state for a sensor
// resumes the conditions the alerting side holds open and active (the `warnings` topic / open warnings),
// so a value in the hysteresis band keeps the warning active and a value past clear ends it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Bus } from '../core/bus/bus.js'
import { createMemoryBus } from '../core/bus/memory-bus.js'
import type { Finding } from '../core/contracts/finding.js'
import type { Warning } from '../core/contracts/warning.js'
import { topics } from '../core/contracts/topics.js'
import { createRegistryHolder } from '../core/registry/registry-holder.js'
import { fakeClock, type FakeClock } from '../core/runtime/clock.js'
import { createLogger } from '../core/runtime/logger.js'
import { createMetrics } from '../core/runtime/metrics.js'
import type { Stage } from '../core/runtime/stage.js'
import { createRulesStage } from '../rules/rules-stage.js'
import { fixtureRegistry } from '../rules/test-registry.js'

// E2001-LEL-01: combustible gas point, lowest threshold 25 %LEL (orange), clear 20 %LEL: 22 is in the hysteresis band.
const KEY = 'E2001-LEL-01|threshold'

let bus: Bus
let clock: FakeClock
let stage: Stage | undefined
let seen: Finding[]

function warning(over: Partial<Warning> = {}): Warning {
  const at = new Date(clock.now()).toISOString()
  return {
    id: 'W-E2001-LEL-01-1', level: 4, color: 'blue', status: 'open', active: true, currentLevel: 4, ackDeadline: at, escalationTier: 'enterprise',
    kind: 'threshold', ruleId: 'threshold', dedupKey: KEY, enterpriseId: 'E2001', sensorId: 'E2001-LEL-01', regionId: 'R', title: 't',
    value: 30, threshold: 25, peakValue: 30, occurrences: 1, raisedAt: at, updatedAt: at, notifications: 0, version: 1, events: [], ...over,
  }
}

async function startStage(openWarnings?: Warning[]): Promise<void> {
  stage = createRulesStage({
    bus, registry: createRegistryHolder(fixtureRegistry()), metrics: createMetrics({ defaults: false }), logger: createLogger({ level: 'silent' }), clock,
    ...(openWarnings ? { openWarnings: async () => openWarnings } : {}),
    options: { instance: 'r2' },
  })
  await stage.start()
}

async function send(sensorId: string, enterpriseId: string, value: number): Promise<string[]> {
  clock.advance(1000)
  seen = []
  await bus.publish(topics.readings, { enterpriseId, gatewayId: `gw-${enterpriseId}`, receivedAt: clock.now(), items: [{ sensorId, type: 'combustible_gas', ts: clock.now(), value, quality: 'ok' }] })
  await bus.drain()
  return seen.map((f) => `${f.key}:${f.active ? `L${f.level}` : 'clear'}`)
}

beforeEach(async () => {
  bus = createMemoryBus()
  clock = fakeClock()
  seen = []
  await bus.subscribe(topics.findings, { group: 'test' }, (f) => { seen.push(f) })
})
afterEach(async () => {
  await stage?.stop()
  stage = undefined
  await bus.close()
})

describe('rules takeover rebuilds the active conditions from the warnings', () => {
  it('a warning active on the warnings topic: band value keeps it (no clear), a value past clear sends active:false', async () => {
    await startStage()
    await bus.publish(topics.warnings, warning())
    await bus.drain()
    expect(await send('E2001-LEL-01', 'E2001', 22)).toEqual([`${KEY}:L2`]) // holding, not cleared
    expect(await send('E2001-LEL-01', 'E2001', 21)).toEqual([`${KEY}:L2`])
    expect(await send('E2001-LEL-01', 'E2001', 19.9)).toEqual([`${KEY}:clear`])
    expect(await send('E2001-LEL-01', 'E2001', 19)).toEqual([])
  })

  it('the first reading past clear ends a warning held open by another instance', async () => {
    await startStage([warning()])
    expect(await send('E2001-LEL-01', 'E2001', 5)).toEqual([`${KEY}:clear`])
  })

  it('without an active warning the same readings raise and clear nothing (control)', async () => {
    await startStage()
    expect(await send('E2001-LEL-01', 'E2001', 22)).toEqual([])
    expect(await send('E2001-LEL-01', 'E2001', 19.9)).toEqual([])
  })

  it('a closed, a cleared, or a stale version of the warning is not resumed', async () => {
    await startStage([warning()])
    await bus.publish(topics.warnings, warning({ version: 3, active: false, currentLevel: null }))
    await bus.publish(topics.warnings, warning({ version: 2 })) // older update arriving late
    await bus.drain()
    expect(await send('E2001-LEL-01', 'E2001', 19.9)).toEqual([])
  })

  it('an offline warning left by the previous owner is ended by the first reading here', async () => {
    await startStage([warning({ id: 'W-off', kind: 'offline', ruleId: 'offline', dedupKey: 'E2001-LEL-01|offline', level: 3, color: 'yellow', currentLevel: 3 })])
    expect(await send('E2001-LEL-01', 'E2001', 3)).toEqual(['E2001-LEL-01|offline:clear'])
    expect(await send('E2001-LEL-01', 'E2001', 3)).toEqual([])
  })
})
