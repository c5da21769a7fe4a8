// The rules stage: readings → evaluate → findings (one publishMany per incoming batch), heartbeats and a
// timer → offline / platform findings. Recompiles on registry change, keeping the condition state of
// sensors that still exist. Hot path: one Map lookup per reading, no closures or spreads per reading.
// Scale-out: a sensor without local state (first reading here, or its enterprise just taken over from
// another instance) starts from the open+active warnings (the `warnings` topic, per-instance group), so a
// takeover neither loses an active condition nor its clear.
import type { Bus, MessageMeta, Subscription } from '../core/bus/bus.js'
import type { Finding } from '../core/contracts/finding.js'
import type { Warning } from '../core/contracts/warning.js'
import type { IngestHeartbeat, ReadingBatch } from '../core/contracts/reading.js'
import { topics } from '../core/contracts/topics.js'
import type { RegistryHolder } from '../core/registry/registry-holder.js'
import type { RegistryIndex } from '../core/registry/registry-index.js'
import type { Clock, TimerHandle } from '../core/runtime/clock.js'
import { errorMessage } from '../core/runtime/errors.js'
import type { Logger } from '../core/runtime/logger.js'
import { childrenByLabel, type Metrics } from '../core/runtime/metrics.js'
import type { Stage } from '../core/runtime/stage.js'
import { compileRegistry, type CompiledRules, type CompiledSensor } from './compile.js'
import { createSensorState, evaluate, rebaseSensorState, releasedFindings, type SensorState } from './evaluate.js'
import { createOfflineTracker, type OfflineTracker } from './offline-tracker.js'
import { gatewayOnlineTitle, sensorOnlineTitle } from './titles.js'
import { createPipelinedPublisher } from './pipelined-publisher.js'

export interface RulesStageOptions {
  defaultMaxSilenceSeconds?: number
  /** Offline timer period (default 1000 ms). */
  offlineCheckIntervalMs?: number
  /** Pipeline silence that raises the platform finding (default 15 000 ms). */
  platformSilenceMs?: number
  /** This process's name: its own consumer groups (heartbeats, warnings) are `rules-<kind>-<instance>`. */
  instance?: string
  /** The bus splits enterprises among rules instances (Kafka): offline detection covers only the
   *  enterprises this instance owns (seen here, in a partition it still holds). Default false. */
  partitioned?: boolean
}

export interface RulesStageDeps {
  bus: Bus
  registry: RegistryHolder
  metrics: Metrics
  logger: Logger
  clock: Clock
  options?: RulesStageOptions
  /** Not-closed warnings at start (the warning store), to seed the active-condition set. */
  openWarnings?: () => Promise<readonly Warning[]>
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
  const instance = opts.instance ?? 'local'
  const partitioned = opts.partitioned === true
  /** dedupKey -> the newest warning seen for it; `on` = not closed and active (what a takeover resumes). */
  const warned = new Map<string, { id: string; version: number; on: boolean }>()
  /** Partitioned mode: enterprises this instance owns -> the partition their readings arrive on. */
  const owned = new Map<string, number>()
  let sensorsByEnterprise = new Map<string, string[]>()
  let platformRegion = '-'
  let takeoversLogged = 0

  function onWarning(w: Warning): void {
    if (!w || typeof w.dedupKey !== 'string') return
    const on = w.status !== 'closed' && w.active
    const cur = warned.get(w.dedupKey)
    if (cur) {
      if (cur.id === w.id && cur.version >= w.version) return // stale or repeated
      if (cur.id !== w.id && cur.on && !on) return // an older episode closing after a newer one opened
    }
    warned.set(w.dedupKey, { id: w.id, version: w.version, on })
  }
  const isOn = (key: string): boolean => warned.get(key)?.on === true

  /** First reading of a sensor without local state: resume what the alerting side says is active. */
  function seed(slot: Slot, ts: number, receivedAt: number, out: Finding[]): void {
    const c = slot.compiled
    const st = slot.state
    for (let i = 0; i < c.conditions.length; i++) {
      if (isOn(`${c.sensorId}|${c.conditions[i]!.ruleId}`)) st.conditions[i] = { active: true, since: ts, count: 1 }
    }
    if (c.rate && st.rate && isOn(`${c.sensorId}|rate`)) st.rate.condition = { active: true, since: ts, count: 1 }
    if (isOn(`${c.sensorId}|fault`)) st.fault = true
    // Offline warnings raised by a previous owner (or before a restart): this reading ends them.
    if (isOn(`${c.sensorId}|offline`)) {
      out.push({ key: `${c.sensorId}|offline`, kind: 'offline', ruleId: 'offline', enterpriseId: c.enterpriseId, sensorId: c.sensorId, regionId: c.regionId,
        active: false, level: null, title: sensorOnlineTitle(c), at: receivedAt, receivedAt, ...(c.gatewayId ? { gatewayId: c.gatewayId } : {}) })
      warned.get(`${c.sensorId}|offline`)!.on = false
    }
    if (c.gatewayId && isOn(`${c.gatewayId}|gateway_offline`)) {
      out.push({ key: `${c.gatewayId}|gateway_offline`, kind: 'offline', ruleId: 'gateway_offline', enterpriseId: c.enterpriseId, gatewayId: c.gatewayId, regionId: c.regionId,
        active: false, level: null, title: gatewayOnlineTitle(c.enterpriseName, c.gatewayId), at: receivedAt, receivedAt })
      warned.get(`${c.gatewayId}|gateway_offline`)!.on = false
    }
  }

  /** The sensors the offline tracker watches: all of them, or (partitioned) those of owned enterprises. */
  function tracked(): CompiledSensor[] {
    const out: CompiledSensor[] = []
    if (!partitioned) { for (const s of slots.values()) out.push(s.compiled); return out }
    for (const e of owned.keys()) for (const id of sensorsByEnterprise.get(e) ?? []) { const s = slots.get(id); if (s) out.push(s.compiled) }
    return out
  }

  /** Partitioned: the first batch of an enterprise here. Its sensors start fresh (seeded on their next
   *  reading) and their silence counts from now (the tracker starts new sensors at its watermark). */
  function takeOver(enterpriseId: string, partition: number): void {
    owned.set(enterpriseId, partition)
    const added: CompiledSensor[] = []
    for (const id of sensorsByEnterprise.get(enterpriseId) ?? []) {
      const s = slots.get(id)
      if (s) { s.state = createSensorState(s.compiled); added.push(s.compiled) }
    }
    // Only this enterprise's sensors join the offline tracker: rebuilding it for every enterprise taken
    // over cost O(enterprises × sensors) — minutes of CPU at 10,000 enterprises after a rebalance.
    tracker?.addSensors(added)
    // One line per enterprise for the first few after an assignment (what an operator follows in a
    // rebalance); at 10,000 enterprises the rest go to debug.
    const line = { enterpriseId, partition, owned: owned.size }
    if (takeoversLogged++ < 50) logger.info(line, 'rules: took over an enterprise')
    else logger.debug(line, 'rules: took over an enterprise')
  }

  function onAssignment(partitions: readonly number[]): void {
    takeoversLogged = 0
    const keep = new Set(partitions)
    let released = 0
    for (const [e, p] of owned) if (!keep.has(p)) { owned.delete(e); released++ }
    if (released) tracker?.setSensors(tracked(), platformRegion, [])
    logger.info({ partitions: [...partitions], released, owned: owned.size }, 'rules: partitions assigned')
  }

  const rulesLatency = metrics.stageLatencySeconds.labels('rules')
  const findingsOf = childrenByLabel((kind) => metrics.findings.labels(kind))
  function publish(out: Finding[]): Promise<void> {
    for (let i = 0; i < out.length; i++) findingsOf(out[i]!.kind).inc()
    return bus.publishMany(topics.findings, out)
  }
  // Over Kafka, awaiting each finding's publish inside the readings handler stalled its partition for a
  // produce round trip per finding (at 5,000 readings/s the group fell seconds behind). There findings
  // go through a pipelined publisher and the readings' offsets are committed only once everything
  // published before is acknowledged (beforeCommit). In-process the publish stays inside the handler:
  // it costs no round trip, and the journal's pipeline tracker attributes it to its reading there.
  const pipelined = bus.kind === 'memory' ? null : createPipelinedPublisher({
    publish,
    isRunning: () => running,
    onRetry: (err, attempt) => {
      lastError = errorMessage(err)
      if (attempt === 1 || attempt % 20 === 0) logger.warn({ err: lastError, attempt }, 'rules: publishing findings failed; retrying (their readings stay uncommitted)')
    },
  })

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
    const byEnt = new Map<string, string[]>()
    for (const c of next.sensors.values()) {
      const l = byEnt.get(c.enterpriseId)
      if (l) l.push(c.sensorId); else byEnt.set(c.enterpriseId, [c.sensorId])
    }
    sensorsByEnterprise = byEnt
    platformRegion = next.platformRegionId
    tracker?.setSensors(tracked(), next.platformRegionId, out)
    logger.info({ version: next.version, sensors: next.sensors.size, problems: next.problems.length }, 'rules: compiled registry')
    return out
  }

  // Not an async function: a batch that raises no finding (nearly all) costs no promise.
  function onReadings(batch: ReadingBatch, meta: MessageMeta): void | Promise<void> {
    const receivedAt = batch.receivedAt
    const t = tracker
    t?.observe(receivedAt)
    if (partitioned && owned.get(batch.enterpriseId) !== meta.partition) takeOver(batch.enterpriseId, meta.partition)
    const out: Finding[] = []
    const items = batch.items
    for (let i = 0; i < items.length; i++) {
      const r = items[i]!
      const slot = slots.get(r.sensorId)
      if (!slot) continue
      if (slot.state.lastTs === -Infinity) seed(slot, r.ts, receivedAt, out)
      evaluate(slot.compiled, slot.state, r, receivedAt, out)
      if (t) t.onReading(r.sensorId, receivedAt, out)
    }
    const observe = (): void => { rulesLatency.observe(Math.max(0, clock.now() - receivedAt) / 1000) }
    const wait = out.length ? (pipelined ? pipelined.add(out) : publish(out)) : undefined
    if (wait) return wait.then(observe)
    observe()
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
      // Every instance follows every warning (its own group) and every ingest heartbeat (the watermark is global).
      subs.push(await bus.subscribe(topics.warnings, { group: `rules-warnings-${instance}` }, onWarning))
      if (deps.openWarnings) {
        try { for (const w of await deps.openWarnings()) onWarning(w) } catch (err) {
          lastError = errorMessage(err)
          logger.warn({ err: lastError }, 'rules: cannot load open warnings; takeovers start from an idle state')
        }
      }
      subs.push(await bus.subscribe(topics.heartbeats, { group: `rules-heartbeats-${instance}` }, onHeartbeat))
      subs.push(await bus.subscribe(topics.readings, { group: RULES_GROUP, onAssignment, ...(pipelined ? { beforeCommit: () => pipelined.settled() } : {}) }, onReadings))
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
      await pipelined?.settled().catch(() => undefined)
    },
    health() {
      if (!running) return { ok: false, detail: 'stopped' }
      const t = tracker
      if (t?.platformSilent()) return { ok: false, detail: 'no readings or heartbeats from ingest' }
      return { ok: true, detail: `${slots.size} sensors, ${t?.offlineCount() ?? 0} offline${lastError ? `, last error: ${lastError}` : ''}` }
    },
  }
}
