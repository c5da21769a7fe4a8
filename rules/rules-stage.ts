// The rules stage: readings → evaluate → findings (one publishMany per incoming batch), heartbeats and a
// timer → offline / platform findings. Recompiles on registry change, keeping the condition state of
// sensors that still exist. Hot path: one Map lookup per reading, no closures or spreads per reading.
import type { Bus, Subscription } from '../core/bus/bus.js'
import type { Finding } from '../core/contracts/finding.js'
import type { IngestHeartbeat, ReadingBatch } from '../core/contracts/reading.js'
import { topics } from '../core/contracts/topics.js'
import type { RegistryHolder } from '../core/registry/registry-holder.js'
import type { RegistryIndex } from '../core/registry/registry-index.js'
import type { Clock, TimerHandle } from '../core/runtime/clock.js'
import { errorMessage } from '../core/runtime/errors.js'
import type { Logger } from '../core/runtime/logger.js'
import type { Metrics } from '../core/runtime/metrics.js'
import type { Stage } from '../core/runtime/stage.js'
import { compileRegistry, type CompiledRules, type CompiledSensor } from './compile.js'
import { createSensorState, evaluate, rebaseSensorState, releasedFindings, type SensorState } from './evaluate.js'
import { createOfflineTracker, type OfflineTracker } from './offline-tracker.js'

export interface RulesStageOptions {
  defaultMaxSilenceSeconds?: number
  /** Offline timer period (default 1000 ms). */
  offlineCheckIntervalMs?: number
  /** Pipeline silence that raises the platform finding (default 15 000 ms). */
  platformSilenceMs?: number
}

export interface RulesStageDeps {
  bus: Bus
  registry: RegistryHolder
  metrics: Metrics
  logger: Logger
  clock: Clock
  options?: RulesStageOptions
}

interface Slot { compiled: CompiledSensor; state: SensorState }

export const RULES_GROUP = 'rules'

export function createRulesStage(deps: RulesStageDeps): Stage {
  const { bus, registry, metrics, logger, clock } = deps
  const opts = deps.options ?? {}
  const compileOpts = opts.defaultMaxSilenceSeconds !== undefined ? { defaultMaxSilenceSeconds: opts.defaultMaxSilenceSeconds } : {}
  let slots = new Map<string, Slot>()
  let compiledFrom: RegistryIndex | null = null
  let tracker: OfflineTracker | null = null
  let subs: Subscription[] = []
  let timer: TimerHandle | null = null
  let unlisten: (() => void) | null = null
  let running = false
  let lastError: string | null = null

  function publish(out: Finding[]): Promise<void> {
    for (let i = 0; i < out.length; i++) metrics.findings.inc({ kind: out[i]!.kind })
    return bus.publishMany(topics.findings, out)
  }

  const inFlight = new Set<Promise<void>>()
  function publishInBackground(out: Finding[], what: string): void {
    if (!out.length) return
    const p = publish(out)
      .catch((err: unknown) => { lastError = errorMessage(err); logger.error({ err: lastError }, `rules: publishing ${what} findings failed`) })
      .finally(() => { inFlight.delete(p) })
    inFlight.add(p)
  }

  /** Compiles a registry version; returns clears for rules or sensors that disappeared while active. */
  function recompile(reg: RegistryIndex): Finding[] {
    const out: Finding[] = []
    if (reg === compiledFrom) return out // once per registry version (the holder hands out a new index per change)
    const next: CompiledRules = compileRegistry(reg, compileOpts)
    for (const p of next.problems) logger.warn({ problem: p }, 'rules: sensor not compiled')
    const at = clock.now()
    const nextSlots = new Map<string, Slot>()
    for (const [id, compiled] of next.sensors) {
      const prev = slots.get(id)
      if (prev) {
        for (const f of releasedFindings(prev.compiled, prev.state, compiled, at)) out.push(f)
        nextSlots.set(id, { compiled, state: rebaseSensorState(prev.state, prev.compiled, compiled) })
      } else {
        nextSlots.set(id, { compiled, state: createSensorState(compiled) })
      }
    }
    for (const [id, prev] of slots) if (!next.sensors.has(id)) for (const f of releasedFindings(prev.compiled, prev.state, null, at)) out.push(f)
    slots = nextSlots
    compiledFrom = reg
    tracker?.setSensors(next.sensors.values(), next.platformRegionId, out)
    logger.info({ version: next.version, sensors: next.sensors.size, problems: next.problems.length }, 'rules: compiled registry')
    return out
  }

  async function onReadings(batch: ReadingBatch): Promise<void> {
    const receivedAt = batch.receivedAt
    const t = tracker
    t?.observe(receivedAt)
    const out: Finding[] = []
    const items = batch.items
    for (let i = 0; i < items.length; i++) {
      const r = items[i]!
      const slot = slots.get(r.sensorId)
      if (!slot) continue
      evaluate(slot.compiled, slot.state, r, receivedAt, out)
      if (t) t.onReading(r.sensorId, receivedAt, out)
    }
    if (out.length) await publish(out)
    metrics.stageLatencySeconds.observe({ stage: 'rules' }, Math.max(0, clock.now() - receivedAt) / 1000)
  }

  function onHeartbeat(hb: IngestHeartbeat): void {
    tracker?.observe(hb.at)
  }

  function tick(): void {
    const t = tracker
    if (!t) return
    const out = t.tick()
    metrics.sensorsOffline.set(t.offlineCount())
    publishInBackground(out, 'offline')
  }

  return {
    name: 'rules',
    async start() {
      if (running) return
      running = true
      tracker = createOfflineTracker({ clock, ...(opts.platformSilenceMs !== undefined ? { platformSilenceMs: opts.platformSilenceMs } : {}) })
      recompile(registry.current())
      unlisten = registry.onChange((next) => {
        try { publishInBackground(recompile(next), 'registry-change') } catch (err) {
          lastError = errorMessage(err)
          logger.error({ err: lastError }, 'rules: recompiling the registry failed; keeping the previous rules')
        }
      })
      subs.push(await bus.subscribe(topics.readings, { group: RULES_GROUP }, onReadings))
      subs.push(await bus.subscribe(topics.heartbeats, { group: RULES_GROUP }, onHeartbeat))
      timer = clock.setInterval(tick, opts.offlineCheckIntervalMs ?? 1000)
    },
    async stop() {
      if (!running) return
      running = false
      if (timer) { clock.clear(timer); timer = null }
      unlisten?.()
      unlisten = null
      const s = subs
      subs = []
      await Promise.all(s.map((x) => x.unsubscribe()))
      await Promise.all([...inFlight])
    },
    health() {
      if (!running) return { ok: false, detail: 'stopped' }
      const t = tracker
      if (t?.platformSilent()) return { ok: false, detail: 'no readings or heartbeats from ingest' }
      return { ok: true, detail: `${slots.size} sensors, ${t?.offlineCount() ?? 0} offline${lastError ? `, last error: ${lastError}` : ''}` }
    },
  }
}
