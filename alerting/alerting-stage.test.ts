// Stage-level test over the real memory bus with a fake clock and in-memory stores.
import { afterEach, describe, expect, it } from 'vitest'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Finding } from '../core/contracts/finding.js'
import type { CommandResult, WarningCommand } from '../core/contracts/command.js'
import type { RiskState } from '../core/contracts/risk.js'
import type { Warning } from '../core/contracts/warning.js'
import { topics } from '../core/contracts/topics.js'
import { createMemoryBus } from '../core/bus/memory-bus.js'
import type { MessageMeta } from '../core/bus/bus.js'
import { roundTripBus } from '../core/bus/testing/round-trip-bus.js'
import { createRegistryHolder } from '../core/registry/registry-holder.js'
import { fakeClock } from '../core/runtime/clock.js'
import { createLogger } from '../core/runtime/logger.js'
import { createMetrics } from '../core/runtime/metrics.js'
import { createAlertingStage, type AlertingDeps, type AlertingOptions } from './alerting-stage.js'

type AlertingStores = AlertingDeps['stores']
import { warningId } from './lifecycle.js'
import { memoryKv, memoryRiskStore, memoryWarningStore } from './testing/memory-stores.js'
import { testRegistry } from './testing/fixtures.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { openSharedDb } from '../core/store/sqlite-db.js'
import { createSqliteWarningStore } from '../core/store/sqlite-warning-store.js'

const T0 = Date.parse('2026-11-28T00:00:00.000Z')
const MIN = 60_000
const KEY = 'E1-CH4-01|ch4_threshold'
const iso = (ms: number): string => new Date(ms).toISOString()

async function setup<S extends AlertingStores = ReturnType<typeof makeStores>>(opts: { options?: AlertingOptions; stores?: S; clock?: ReturnType<typeof fakeClock> } = {}) {
  const clock = opts.clock ?? fakeClock(T0)
  const bus = createMemoryBus()
  const registry = createRegistryHolder(testRegistry())
  const stores = opts.stores ?? (makeStores() as unknown as S)
  const metrics = createMetrics({ defaults: false })
  const stage = createAlertingStage({ bus, registry, stores, metrics, logger: createLogger({ level: 'silent' }), clock, ...(opts.options ? { options: opts.options } : {}) })
  const warnings: Warning[] = []
  const results: CommandResult[] = []
  const risk: RiskState[] = []
  await bus.subscribe(topics.warnings, { group: 'test' }, (w) => { warnings.push(w) })
  await bus.subscribe(topics.commandResults, { group: 'test' }, (r) => { results.push(r) })
  await bus.subscribe(topics.risk, { group: 'test' }, (r) => { risk.push(r) })
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 4; i++) { await bus.drain(); await stage.settle(); await new Promise((r) => setImmediate(r)) }
  }
  await stage.start()
  await settle()
  let cmdSeq = 0
  const t = {
    clock, bus, stores, metrics, stage, warnings, results, risk, settle,
    async finding(p: Partial<Finding> & { level: Finding['level'] }): Promise<void> {
      const f: Finding = {
        key: KEY, kind: 'threshold', ruleId: 'ch4_threshold', enterpriseId: 'E1', sensorId: 'E1-CH4-01', regionId: 'G1',
        active: p.level !== null, title: 'CH4 超限', at: clock.now(), value: 1.2, threshold: 1.0, ...p,
      }
      await bus.publish(topics.findings, f)
      await settle()
    },
    async command(action: WarningCommand['action'], warningIdArg: string, extra: Partial<WarningCommand> = {}): Promise<CommandResult> {
      const c: WarningCommand = { commandId: `cmd-${++cmdSeq}`, action, warningId: warningIdArg, by: 'duty1', at: clock.now(), ...extra }
      await bus.publish(topics.commands, c)
      await settle()
      const r = results.find((x) => x.commandId === c.commandId)
      if (!r) throw new Error(`no result for ${c.commandId}`)
      return r
    },
    /** Advance in 1 s steps, letting timer work finish between steps. */
    async advance(ms: number): Promise<void> {
      for (let done = 0; done < ms; done += 1000) { clock.advance(Math.min(1000, ms - done)); await settle() }
    },
    latestRisk(id: string): RiskState | undefined { return [...risk].reverse().find((r) => r.id === id) },
    last(): Warning { return warnings[warnings.length - 1]! },
  }
  return t
}

function makeStores() {
  return { warnings: memoryWarningStore(), risk: memoryRiskStore(), kv: memoryKv() }
}

const servers: Server[] = []
afterEach(async () => { await Promise.all(servers.splice(0).map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r) }))) })

describe('alerting stage: findings → warnings', () => {
  it('raise, escalate, clear and reactivate, publishing each change once and persisting it first', async () => {
    const t = await setup()
    await t.finding({ level: 2, value: 1.2, receivedAt: T0 - 20 })
    expect(t.warnings).toHaveLength(1)
    const id = warningId(KEY, 1)
    expect(t.last()).toMatchObject({ id, level: 2, color: 'orange', status: 'open', active: true, version: 1, ackDeadline: iso(T0 + 15 * MIN), escalationTier: 'enterprise' })
    expect(await t.stores.warnings.get(id)).toEqual(t.last())

    // the hot path: the same level with no new peak writes nothing and publishes nothing
    const writes = t.stores.warnings.writes
    for (let i = 0; i < 200; i++) await t.bus.publish(topics.findings, { key: KEY, kind: 'threshold', ruleId: 'ch4_threshold', enterpriseId: 'E1', sensorId: 'E1-CH4-01', regionId: 'G1', active: true, level: 2, title: 'CH4 超限', at: T0, value: 1.1, threshold: 1.0 })
    await t.settle()
    expect(t.stores.warnings.writes).toBe(writes)
    expect(t.warnings).toHaveLength(1)

    await t.advance(1000)
    await t.finding({ level: 1, value: 1.7, threshold: 1.5 })
    expect(t.last()).toMatchObject({ id, level: 1, color: 'red', currentLevel: 1, peakValue: 1.7, version: 2, ackDeadline: iso(T0 + 1000 + 5 * MIN) })
    expect(t.last().events.map((e) => e.type)).toEqual(['raised', 'escalated_level'])

    await t.finding({ level: null, active: false, value: 0.7 })
    expect(t.last()).toMatchObject({ id, active: false, currentLevel: null, clearedAt: iso(T0 + 1000), status: 'open', level: 1, version: 3 })

    await t.finding({ level: 3, value: 1.1 })
    expect(t.last()).toMatchObject({ id, active: true, currentLevel: 3, occurrences: 2, level: 1, version: 4 })
    expect(t.last()).not.toHaveProperty('clearedAt')
    expect(t.warnings.map((w) => w.version)).toEqual([1, 2, 3, 4])

    const raised = (await t.metrics.warningsRaised.get()).values
    expect(raised).toEqual([expect.objectContaining({ labels: { level: '2', kind: 'threshold' }, value: 1 })])
    const changes = Object.fromEntries((await t.metrics.warningChanges.get()).values.map((v) => [v.labels.type, v.value]))
    expect(changes).toEqual({ raised: 1, escalated_level: 1, cleared: 1, reactivated: 1 })
    const latency = (await t.metrics.arrivalToWarningSeconds.get()).values.find((v) => v.metricName?.endsWith('_count'))
    expect(latency?.value).toBe(1)
    await t.stage.stop()
  })

  it('a store failure publishes nothing; the bus retry then persists and publishes once', async () => {
    const t = await setup()
    t.stores.warnings.failNext(1)
    await t.finding({ level: 2 })
    await new Promise((r) => setTimeout(r, 100))
    await t.settle()
    expect(t.warnings).toHaveLength(1)
    expect(await t.stores.warnings.notClosed()).toHaveLength(1)
    await t.stage.stop()
  })

  it('findings of many keys share the SQLite warning store\'s transactions, and every warning is stored before it is published', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'yj-alerting-'))
    const shared = openSharedDb(join(dir, 'w.db'))
    const warnings = createSqliteWarningStore(shared)
    const t = await setup({ stores: { warnings, risk: memoryRiskStore(), kv: memoryKv() } })
    try {
      const n = 64
      const published: string[] = []
      const storedWhenPublished: boolean[] = []
      await t.bus.subscribe(topics.warnings, { group: 'check' }, async (w) => {
        published.push(w.id)
        // a second connection sees only what has committed
        const other = new Database(join(dir, 'w.db'), { readonly: true })
        try { storedWhenPublished.push(other.prepare('SELECT 1 FROM warnings WHERE id = ?').get(w.id) !== undefined) } finally { other.close() }
      })
      const fs: Finding[] = Array.from({ length: n }, (_, i) => ({
        // findings are keyed by enterprise: spread over many, as a province's are
        key: `X${i}-CH4-01|ch4_threshold`, kind: 'threshold', ruleId: 'ch4_threshold', enterpriseId: `X${i}`, sensorId: `X${i}-CH4-01`, regionId: 'G1',
        active: true, level: 2, title: 'CH4 超限', at: t.clock.now(), value: 1.2, threshold: 1.0,
      }))
      const before = warnings.transactions()
      await t.bus.publishMany(topics.findings, fs)
      await t.settle()
      expect(new Set(published).size).toBe(n)
      expect(storedWhenPublished.every(Boolean)).toBe(true)
      expect((await warnings.notClosed()).length).toBe(n)
      // one transaction per finding without the concurrent delivery and the group commit
      expect(warnings.transactions() - before).toBeLessThanOrEqual(n / 4)
      await t.stage.stop()
    } finally {
      await warnings.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('ignores malformed findings without crashing', async () => {
    const t = await setup()
    await t.bus.publish(topics.findings, { key: 42, enterpriseId: 'E1' } as unknown as Finding)
    await t.finding({ level: 2, kind: 'nonsense' as never })
    await t.finding({ level: 2 })
    expect(t.warnings).toHaveLength(1)
    await t.stage.stop()
  })
})

describe('alerting stage: commands', () => {
  it('ack / dispose / close with results, 409 and 404, idempotent by commandId', async () => {
    const t = await setup()
    await t.finding({ level: 2 })
    const id = warningId(KEY, 1)
    await t.advance(2000)

    const ack = await t.command('ack', id, { commandId: 'ack-1', note: '已到现场' })
    expect(ack).toMatchObject({ commandId: 'ack-1', ok: true, warning: { id, status: 'acknowledged', acknowledgedBy: 'duty1', acknowledgedAt: iso(T0 + 2000), version: 2 } })
    expect(t.last()).toEqual(ack.warning)

    expect(await t.command('ack', id)).toMatchObject({ ok: false, error: { code: 'CONFLICT', status: 409 } })
    // a replayed command changes nothing and gets the same answer
    const before = t.warnings.length
    const again = await t.command('ack', id, { commandId: 'ack-1' })
    expect(again).toMatchObject({ commandId: 'ack-1', ok: true, warning: { status: 'acknowledged', version: 2 } })
    expect(t.warnings.length).toBe(before)

    expect(await t.command('dispose', id, { by: 'duty2' })).toMatchObject({ ok: true, warning: { status: 'disposing', acknowledgedBy: 'duty1' } })
    expect(await t.command('close', id)).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST', status: 400 } })
    const closed = await t.command('close', id, { outcome: 'resolved', note: '已处置' })
    expect(closed).toMatchObject({ ok: true, warning: { status: 'closed', outcome: 'resolved', closedBy: 'duty1', version: 4 } })
    expect(closed.warning!.events.map((e) => e.type)).toEqual(['raised', 'acknowledged', 'disposing', 'closed'])
    expect(await t.command('close', id, { outcome: 'resolved' })).toMatchObject({ ok: false, error: { code: 'CONFLICT', status: 409 } })
    expect(await t.command('ack', 'no-such-warning')).toMatchObject({ ok: false, error: { code: 'NOT_FOUND', status: 404 } })
    expect(t.stage.openWarnings()).toEqual([])
    expect((await t.stores.warnings.get(id))?.status).toBe('closed')

    // an invalid command still gets an answer
    await t.bus.publish(topics.commands, { commandId: 'bad-1', action: 'explode', warningId: id, by: 'x', at: 0 } as unknown as WarningCommand)
    await t.settle()
    expect(t.results.find((r) => r.commandId === 'bad-1')).toMatchObject({ ok: false, error: { status: 400 } })
    await t.stage.stop()
  })

  it('after close the next crossing starts a new warning; a maintenance close mutes the key for 2 h', async () => {
    const t = await setup()
    await t.finding({ level: 2 })
    await t.command('close', warningId(KEY, 1), { outcome: 'false_alarm' })
    await t.advance(1000)
    // the condition never cleared: the next reading opens episode 2
    await t.finding({ level: 2 })
    expect(t.last()).toMatchObject({ id: warningId(KEY, 2), status: 'open', version: 1, raisedAt: iso(T0 + 1000) })

    await t.command('close', warningId(KEY, 2), { outcome: 'maintenance' })
    const n = t.warnings.length
    await t.finding({ level: 1 })
    t.clock.advance(2 * 3600_000 - 1)
    await t.finding({ level: 1 })
    expect(t.warnings.length).toBe(n)
    t.clock.advance(1)
    await t.finding({ level: 1 })
    expect(t.last()).toMatchObject({ id: warningId(KEY, 3), level: 1, status: 'open' })
    await t.stage.stop()
  })
})

describe('alerting stage: escalation', () => {
  it('re-notifies an unacknowledged red warning every minute and escalates county → city → province, notifying webhooks', async () => {
    const bodies: { event: string; tier: string; contacts: { name: string }[]; warning: Warning }[] = []
    const srv = createServer((req, res) => { let d = ''; req.on('data', (c: Buffer) => { d += c.toString() }); req.on('end', () => { bodies.push(JSON.parse(d)); res.end() }) })
    servers.push(srv)
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
    const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/`
    const t = await setup({ options: { webhooks: [{ url, minLevel: 1 }] } })
    await t.finding({ level: 1, value: 1.6, threshold: 1.5 })
    const id = warningId(KEY, 1)
    await t.advance(60_000)
    expect(t.last()).toMatchObject({ id, notifications: 1, escalationTier: 'enterprise' })
    expect(t.last().events.map((e) => e.type)).toEqual(['raised', 'renotified'])
    await t.advance(4 * 60_000)
    expect(t.last()).toMatchObject({ escalationTier: 'county', notifications: 4, ackDeadline: iso(T0 + 10 * MIN) })
    await t.advance(10 * 60_000)
    expect(t.last()).toMatchObject({ escalationTier: 'province', notifications: 12 })
    expect(t.last().events.filter((e) => e.type === 'escalated_tier').map((e) => [e.tier, e.at])).toEqual([
      ['county', iso(T0 + 5 * MIN)], ['city', iso(T0 + 10 * MIN)], ['province', iso(T0 + 15 * MIN)],
    ])
    // every step was a published change
    expect(t.warnings.map((w) => w.version)).toEqual(Array.from({ length: t.warnings.length }, (_, i) => i + 1))

    const until = Date.now() + 5000
    while (bodies.length < t.warnings.length && Date.now() < until) await new Promise((r) => setTimeout(r, 10))
    expect(bodies.length).toBe(t.warnings.length)
    const tiers = bodies.filter((b) => b.event === 'escalated_tier').map((b) => [b.tier, b.contacts.map((c) => c.name)])
    expect(tiers).toEqual([['county', ['甲县值班']], ['city', ['甲市值班']], ['province', ['省值班']]])
    expect(bodies.find((b) => b.event === 'raised')).toMatchObject({ tier: 'enterprise', contacts: [{ name: '张三' }] })
    const sent = (await t.metrics.notificationsSent.get()).values.find((v) => v.labels.result === 'ok')
    expect(sent?.value).toBe(bodies.length)

    // acknowledging stops it all
    await t.command('ack', id)
    const n = t.warnings.length
    await t.advance(30 * 60_000)
    expect(t.warnings.length).toBe(n)
    await t.stage.stop()
  })

  it('an acknowledged warning is neither re-notified nor escalated; the options change the schedule', async () => {
    const t = await setup({ options: { ackTimeoutMs: { 3: 2 * MIN }, renotifyMs: { 3: 30_000 } } })
    await t.finding({ level: 3 })
    expect(t.last().ackDeadline).toBe(iso(T0 + 2 * MIN))
    await t.advance(2 * MIN)
    expect(t.last()).toMatchObject({ escalationTier: 'county', notifications: 3 })
    await t.command('ack', warningId(KEY, 1))
    const n = t.warnings.length
    await t.advance(10 * MIN)
    expect(t.warnings.length).toBe(n)
    await t.stage.stop()
  })
})

describe('alerting stage: risk', () => {
  it('publishes risk at start and after changes, with the right colours and max-based roll-up', async () => {
    const t = await setup({ options: { riskCoalesceMs: 500 } })
    // start: E1 yellow (static), E2 blue (default), E3 blue (assessment 95); regions follow
    expect(t.latestRisk('E1')).toMatchObject({ kind: 'enterprise', riskLevel: 'yellow', openWarnings: 0 })
    expect(t.latestRisk('R51')).toMatchObject({ kind: 'region', riskLevel: 'yellow', counts: { red: 0, orange: 0, yellow: 1, blue: 2 } })
    expect(t.latestRisk('R5103')).toMatchObject({ riskLevel: 'blue', score: 0 })

    // a red warning on E2 turns E2 and its chain red; E3's city stays blue
    await t.finding({ key: 'E2-GAS-01|gas', enterpriseId: 'E2', sensorId: 'E2-GAS-01', level: 1, value: 60, threshold: 50 })
    const count = t.risk.length
    await t.advance(1000)
    const published = t.risk.slice(count).map((r) => `${r.id}:${r.riskLevel}`).sort()
    expect(published).toEqual(['E2:red', 'G1:red', 'R51:red', 'R5101:red', 'R510101:red'].sort())
    expect(t.latestRisk('R51')).toMatchObject({ riskLevel: 'red', counts: { red: 1, orange: 0, yellow: 1, blue: 1 }, openWarnings: 1 })
    expect(t.latestRisk('R5102')).toMatchObject({ riskLevel: 'blue' })
    expect(t.stores.risk.get('region', 'R51')).toMatchObject({ riskLevel: 'red' })

    // clearing: counted, not coloured
    await t.finding({ key: 'E2-GAS-01|gas', enterpriseId: 'E2', sensorId: 'E2-GAS-01', level: null, active: false, value: 3 })
    await t.advance(1000)
    expect(t.latestRisk('E2')).toMatchObject({ riskLevel: 'blue', openWarnings: 1 })
    expect(t.latestRisk('R51')).toMatchObject({ riskLevel: 'yellow', openWarnings: 1 })

    // a key sensor offline raises E1 one level above its yellow offline warning
    await t.finding({ key: 'E1-CH4-01|offline', kind: 'offline', ruleId: 'offline', level: 3, title: '传感器离线' })
    await t.advance(1000)
    expect(t.latestRisk('E1')).toMatchObject({ riskLevel: 'orange', dynamicLevel: 'orange' })
    expect(t.latestRisk('E1')!.factors.map((f) => f.kind)).toContain('offline_key_sensor')
    expect(t.latestRisk('R510101')).toMatchObject({ riskLevel: 'orange' })

    // closing the cleared warning removes it from openWarnings
    await t.command('close', warningId('E2-GAS-01|gas', 1), { outcome: 'resolved' })
    await t.advance(1000)
    expect(t.latestRisk('E2')).toMatchObject({ openWarnings: 0 })
    await t.stage.stop()
  })
})

describe('alerting stage: restart', () => {
  it('a new stage on the same stores continues where the old one stopped', async () => {
    const stores = makeStores()
    const clock = fakeClock(T0)
    const a = await setup({ stores, clock })
    await a.finding({ level: 2 })
    const id = warningId(KEY, 1)
    await a.command('ack', id, { commandId: 'ack-A' })
    await a.stage.stop()

    const b = await setup({ stores, clock })
    // the working set is back, the risk was recomputed and published at start
    expect(b.stage.openWarnings().map((w) => w.id)).toEqual([id])
    expect(b.latestRisk('E1')).toMatchObject({ riskLevel: 'orange', openWarnings: 1 })
    // the same reading changes nothing; the replayed command gets its first answer
    await b.finding({ level: 2 })
    expect(await b.command('ack', id, { commandId: 'ack-A' })).toMatchObject({ ok: true, warning: { status: 'acknowledged', version: 2 } })
    expect(b.warnings).toHaveLength(0)
    // closing and a new crossing continue the episode numbering from the store
    await b.command('close', id, { outcome: 'resolved' })
    await b.stage.stop()
    const c = await setup({ stores, clock })
    clock.advance(1000)
    await c.finding({ level: 2 })
    expect(c.last().id).toBe(warningId(KEY, 2))
    await c.stage.stop()
  })
})

describe('alerting over a bus with round trips (Kafka)', () => {
  it('a finding is handled without waiting for its warning to be acknowledged; the findings commit waits for it', async () => {
    const clock = fakeClock(T0)
    const rt = roundTripBus(topics.findings, topics.warnings)
    const stage = createAlertingStage({ bus: rt.bus, registry: createRegistryHolder(testRegistry()), stores: makeStores(), metrics: createMetrics({ defaults: false }), logger: createLogger({ level: 'silent' }), clock })
    await stage.start()
    try {
      const findings = rt.input()
      expect(findings.beforeCommit).toBeTypeOf('function')
      const meta: MessageMeta = { topic: 'findings', key: 'E1', offset: '0', partition: 0 }
      const f = (level: Finding['level'], value: number): Finding => ({ key: KEY, kind: 'threshold', ruleId: 'ch4_threshold', enterpriseId: 'E1', sensorId: 'E1-CH4-01', regionId: 'G1', active: level !== null, title: 'CH4 超限', at: clock.now(), value, threshold: 1.0, level })
      await findings.handler(f(2, 1.2), meta) // raised
      clock.advance(1000)
      await findings.handler(f(1, 1.6), meta) // escalated, while the first change is still unacknowledged
      expect(rt.published.map((w) => [w.level, w.version])).toEqual([[2, 1], [1, 2]]) // in order
      let committed = false
      const commit = findings.beforeCommit!().then(() => { committed = true })
      rt.ackOne()
      await new Promise((r) => setImmediate(r))
      expect(committed).toBe(false)
      rt.ackOne()
      await commit
      expect(committed).toBe(true)
    } finally {
      rt.ackAll()
      await stage.stop()
      await rt.close()
    }
  })
})
