// The simulator: normal signals for every sensor of a registry at a chosen total rate (round-robin),
// plus scenarios that override values, silence sensors/gateways or inject malformed messages.
// Always speaks MQTT (one connection per gateway). Time comes from the injected Clock.
import type { RegistryDoc, Sensor } from '../core/contracts/registry.js'
import { batchTopic, singleTopic } from '../core/contracts/mqtt-topics.js'
import { indexRegistry } from '../core/registry/registry-index.js'
import { systemClock, type Clock, type TimerHandle } from '../core/runtime/clock.js'
import { seededRandom } from '../core/runtime/random.js'
import type { Logger } from '../core/runtime/logger.js'
import { createSignalModel, type SignalModel } from './signal-models.js'
import { DEMO_CYCLE_MS, DEMO_PROGRAMME, SCENARIO_NAMES, isScenarioName, startScenario, type ScenarioName, type ScenarioRun } from './scenarios.js'
import { createPublisher, type PublisherStats } from './publisher.js'

export interface SimulatorOptions {
  mqttUrl: string
  registry: RegistryDoc
  /** Readings per second over all sensors. Default: every sensor every 2 s (at least 10/s). */
  rate?: number
  /** Scenario names started at once, or 'demo' (the demo programme, repeated). Default none. */
  scenarios?: readonly string[] | 'demo'
  seed?: number
  qos?: 0 | 1
  /**
   * Readings per MQTT message: false/0/1 = one message per reading on sensors/{e}/{s}; a number n > 1 =
   * batches of up to n (≤ 1000) per enterprise per tick on sensors/{e}; true = up to 1000.
   */
  batch?: boolean | number
  /** `ts` as ISO-8601 with +08:00 (default) or epoch milliseconds. */
  tsFormat?: 'iso' | 'epoch'
  clock?: Clock
  logger?: Logger
  /** Tokens for gateways whose registry token is hashed. */
  tokenOf?: (gatewayId: string) => string | undefined
  /** Called about once a second. */
  onProgress?: (stats: SimulatorStats) => void
  /** Tick length. Default 100 ms. */
  tickMs?: number
}

export interface SimulatorStats extends PublisherStats {
  /** Readings per second sent over the last second. */
  ratePerSec: number
  /** Readings generated (before silences and drops). */
  generated: number
  /** Readings withheld by sensor_dropout / gateway_silent. */
  silenced: number
  activeScenarios: string[]
}

export interface Simulator {
  start(): Promise<void>
  stop(): Promise<void>
  stats(): SimulatorStats
}

interface SimSensor { sensor: Sensor; gatewayId: string; model: SignalModel; seq: number }

const CN_OFFSET_MS = 8 * 3_600_000

/** ISO-8601 in China time with an explicit +08:00 offset (what real gateways there send). */
export function isoCst(ms: number): string {
  return new Date(ms + CN_OFFSET_MS).toISOString().replace('Z', '+08:00')
}

export function createSimulator(opts: SimulatorOptions): Simulator {
  const clock = opts.clock ?? systemClock()
  const rng = seededRandom(opts.seed ?? 1)
  const reg = indexRegistry(opts.registry)
  const tickMs = opts.tickMs ?? 100
  const tokenOf = (gwId: string): string | undefined => {
    const t = opts.tokenOf?.(gwId)
    if (t) return t
    const tok = reg.gateways.get(gwId)?.token
    return tok && !tok.startsWith('$2') && !tok.startsWith('sha256:') ? tok : undefined
  }
  const sims: SimSensor[] = []
  const byId = new Map<string, SimSensor>()
  for (const sensor of opts.registry.sensors) {
    const gw = reg.gatewayOf(sensor)
    if (!gw || !tokenOf(gw.id)) continue
    const s: SimSensor = { sensor, gatewayId: gw.id, model: createSignalModel(sensor, rng), seq: 0 }
    sims.push(s)
    byId.set(sensor.id, s)
  }
  const gateways = [...new Set(sims.map((s) => s.gatewayId))].map((id) => ({ id, token: tokenOf(id)! }))
  const publisher = createPublisher({ url: opts.mqttUrl, gateways, qos: opts.qos ?? 0, logger: opts.logger })
  const rate = opts.rate ?? Math.max(10, Math.ceil(sims.length / 2))
  const batchSize = opts.batch === true ? 1000 : typeof opts.batch === 'number' && opts.batch > 1 ? Math.min(1000, Math.floor(opts.batch)) : 0
  const formatTs = opts.tsFormat === 'epoch' ? (t: number): number | string => t : isoCst

  let runs: ScenarioRun[] = []
  let timer: TimerHandle | undefined
  let cursor = 0
  let budget = 0
  let lastTick = 0
  let lastHot = 0
  let lastProgress = 0
  let sentAtProgress = 0
  let ratePerSec = 0
  let generated = 0
  let silenced = 0
  let startedAt = 0
  let demoCycle = -1
  let pendingStarts: { at: number; name: ScenarioName }[] = []

  function launch(name: ScenarioName, at: number): void {
    const run = startScenario(name, reg, rng, at)
    if (!run) { opts.logger?.warn({ scenario: name }, 'scenario has no target in this registry; skipped'); return }
    opts.logger?.info({ scenario: name, summary: run.summary }, 'scenario started')
    runs.push(run)
  }

  function valueOf(s: SimSensor, t: number): number {
    for (const r of runs) {
      const v = r.value(s.sensor.id, t)
      if (v !== undefined) return v
    }
    return s.model.value(t)
  }

  function isSilent(s: SimSensor, t: number): boolean {
    for (const r of runs) if (r.silent(s.sensor.id, s.gatewayId, t)) return true
    return false
  }

  function emit(list: SimSensor[], t: number): void {
    const groups = batchSize ? new Map<string, { gatewayId: string; items: unknown[] }>() : undefined
    for (const s of list) {
      generated++
      if (isSilent(s, t)) { silenced++; continue }
      const value = valueOf(s, t)
      const seq = s.seq++
      if (groups) {
        let g = groups.get(s.sensor.enterpriseId)
        if (!g) { g = { gatewayId: s.gatewayId, items: [] }; groups.set(s.sensor.enterpriseId, g) }
        g.items.push({ sensorId: s.sensor.id, ts: formatTs(t), value, seq })
      } else {
        publisher.publish(s.gatewayId, singleTopic(s.sensor.enterpriseId, s.sensor.id), JSON.stringify({ ts: formatTs(t), value, seq }), 1)
      }
    }
    if (groups) {
      for (const [e, g] of groups) {
        for (let i = 0; i < g.items.length; i += batchSize) {
          const chunk = g.items.slice(i, i + batchSize)
          publisher.publish(g.gatewayId, batchTopic(e), JSON.stringify(chunk), chunk.length)
        }
      }
    }
  }

  function tick(): void {
    const now = clock.now()
    // Scenario schedule.
    if (opts.scenarios === 'demo') {
      const cycle = Math.floor((now - startedAt) / DEMO_CYCLE_MS)
      if (cycle !== demoCycle) {
        demoCycle = cycle
        const base = startedAt + cycle * DEMO_CYCLE_MS
        pendingStarts.push(...DEMO_PROGRAMME.map((p) => ({ at: base + p.offsetMs, name: p.name })))
      }
    }
    if (pendingStarts.length) {
      const due = pendingStarts.filter((p) => p.at <= now)
      pendingStarts = pendingStarts.filter((p) => p.at > now)
      for (const p of due) launch(p.name, p.at)
    }
    for (const r of runs) for (const m of r.extra(lastTick, now)) publisher.publish(m.gatewayId, m.topic, m.payload, 1)
    runs = runs.filter((r) => r.endsAt > now)

    // Round-robin normal readings at the target rate.
    budget += (rate * Math.max(0, now - lastTick)) / 1000
    lastTick = now
    const n = Math.min(Math.floor(budget), sims.length * 5)
    budget -= Math.floor(budget)
    const list: SimSensor[] = []
    for (let i = 0; i < n && sims.length; i++) {
      list.push(sims[cursor]!)
      cursor = (cursor + 1) % sims.length
    }
    // Sensors driven by a scenario report every second.
    if (now - lastHot >= 1000) {
      lastHot = now
      const seen = new Set(list.map((s) => s.sensor.id))
      for (const r of runs) for (const id of r.sensors) {
        const s = byId.get(id)
        if (s && !seen.has(id)) { list.push(s); seen.add(id) }
      }
    }
    if (list.length) emit(list, now)

    if (now - lastProgress >= 1000) {
      const st = publisher.stats()
      ratePerSec = Math.round(((st.sent - sentAtProgress) * 1000) / Math.max(1, now - lastProgress))
      sentAtProgress = st.sent
      lastProgress = now
      opts.onProgress?.(stats())
    }
  }

  function stats(): SimulatorStats {
    return { ...publisher.stats(), ratePerSec, generated, silenced, activeScenarios: runs.map((r) => r.name) }
  }

  return {
    async start() {
      const names = opts.scenarios === 'demo' ? [] : (opts.scenarios ?? [])
      for (const name of names) if (!isScenarioName(name)) throw new Error(`unknown scenario "${name}" (one of: demo, ${SCENARIO_NAMES.join(', ')})`)
      await publisher.connect()
      startedAt = clock.now()
      lastTick = startedAt
      lastProgress = startedAt
      for (const name of names) pendingStarts.push({ at: startedAt, name: name as ScenarioName })
      tick()
      timer = clock.setInterval(tick, tickMs)
    },
    async stop() {
      if (timer) clock.clear(timer)
      timer = undefined
      await publisher.close()
    },
    stats,
  }
}
