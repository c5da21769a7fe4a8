// The alerting stage: findings → lifecycle → WarningStore → `warnings` (every change, at once);
// commands → lifecycle → `commandResults`; escalation timer; webhooks; risk roll-up on `risk`.
// Invariants: a change is persisted before it is published; a finding that changes nothing costs no
// store write and no publish; one task at a time per dedup key.
import { Compile } from 'typebox/compile'
import type { WarningLevel } from '../core/contracts/levels.js'
import { Finding } from '../core/contracts/finding.js'
import { WarningCommand, type CommandResult } from '../core/contracts/command.js'
import type { EscalationTier, Warning, WarningEvent } from '../core/contracts/warning.js'
import { topics } from '../core/contracts/topics.js'
import type { Bus, Subscription } from '../core/bus/bus.js'
import type { RegistryHolder } from '../core/registry/registry-holder.js'
import type { Clock, TimerHandle } from '../core/runtime/clock.js'
import type { Logger } from '../core/runtime/logger.js'
import type { Metrics } from '../core/runtime/metrics.js'
import type { Stage } from '../core/runtime/stage.js'
import { errorMessage, isRetriable } from '../core/runtime/errors.js'
import type { KeyValueStore, RiskStore, WarningStore } from '../core/store/ports.js'
import type { ScoringParams } from '../core/scoring/params.js'
import { DEFAULT_SCORING } from '../core/scoring/params.js'
import { apply, DEFAULT_ACK_TIMEOUT_MS, DEFAULT_MAINTENANCE_MUTE_MS, episodeOf, type LifecyclePolicy, type PreviousEpisode } from './lifecycle.js'
import { createEscalator, DEFAULT_RENOTIFY_MS, escalationStep, type EscalationPolicy } from './escalation.js'
import { createWebhookNotifier, notificationFor, type WebhookConfig, type WebhookDeliveryOptions } from './notifiers.js'
import { createRiskTracker, type RiskTracker } from './risk-tracker.js'
import { createKeyedLock } from './keyed-lock.js'

export interface AlertingOptions {
  /** Time to acknowledge by level (1 red … 4 blue); defaults 5 / 15 / 30 / 60 min. */
  ackTimeoutMs?: Partial<Record<WarningLevel, number>>
  /** Re-notification interval of unacknowledged warnings by level; defaults 1 / 5 / 15 / 30 min. */
  renotifyMs?: Partial<Record<WarningLevel, number>>
  /** Time to acknowledge after escalating to a tier; default the level's ack timeout. */
  tierTimeoutMs?: Partial<Record<Exclude<EscalationTier, 'enterprise'>, number>>
  /** Mute of a key after a close with outcome `maintenance` (default 2 h). */
  maintenanceMuteMs?: number
  webhooks?: readonly WebhookConfig[]
  webhookDelivery?: Partial<WebhookDeliveryOptions>
  /** Interval at which changed risk states are published (default 500 ms). */
  riskCoalesceMs?: number
  /** Alarm burst: this many level-1 warnings in 24 h raise an enterprise one level (default 3). */
  burstN?: number
  /** Region score = max + λ·ln(1 + Σ) (default 5). */
  lambda?: number
  /** Any other scoring parameter (R0 by level, weights…). */
  scoring?: Partial<ScoringParams>
  /** Escalation check interval (default 1 s). */
  escalationCheckMs?: number
  /** Bound on a warning's `events` (default 1000; repeatable events are trimmed first). */
  maxEvents?: number
  /** Processed command ids kept in memory (they are also kept in the KeyValueStore). */
  rememberedCommands?: number
}

export interface AlertingDeps {
  bus: Bus
  registry: RegistryHolder
  stores: { warnings: WarningStore; risk: RiskStore; kv: KeyValueStore }
  metrics: Metrics
  logger: Logger
  clock: Clock
  options?: AlertingOptions
}

export interface AlertingStage extends Stage {
  /** Resolves when every task taken so far (findings, commands, timer steps) has finished. */
  settle(): Promise<void>
  /** The warnings that are not closed (the working set). */
  openWarnings(): Warning[]
  readonly risk: RiskTracker
}

const checkFinding = Compile(Finding)
const checkCommand = Compile(WarningCommand)
const KV_COMMAND_PREFIX = 'alerting.command.'
const MAX_TAILS = 100_000
/** Partitions of `findings` alerting handles at once (on the in-process bus; Kafka has its own setting). */
export const FINDING_CONCURRENCY = 8

function byLevel(over: Partial<Record<WarningLevel, number>> | undefined, def: Readonly<Record<WarningLevel, number>>): Record<WarningLevel, number> {
  return { 1: over?.[1] ?? def[1], 2: over?.[2] ?? def[2], 3: over?.[3] ?? def[3], 4: over?.[4] ?? def[4] }
}

export function createAlertingStage(deps: AlertingDeps): AlertingStage {
  const { bus, registry, stores, metrics, logger, clock } = deps
  const o = deps.options ?? {}
  const ackTimeoutMs = byLevel(o.ackTimeoutMs, DEFAULT_ACK_TIMEOUT_MS)
  const maxEvents = o.maxEvents ?? 1000
  const policy: LifecyclePolicy = { ackTimeoutMs, maintenanceMuteMs: o.maintenanceMuteMs ?? DEFAULT_MAINTENANCE_MUTE_MS, maxEvents }
  const escPolicy: EscalationPolicy = { ackTimeoutMs, renotifyMs: byLevel(o.renotifyMs, DEFAULT_RENOTIFY_MS), tierTimeoutMs: { ...o.tierTimeoutMs }, maxEvents }
  const scoring: Partial<ScoringParams> = {
    ...o.scoring,
    ...(o.burstN !== undefined ? { burstN: o.burstN } : {}),
    ...(o.lambda !== undefined ? { lambda: o.lambda } : {}),
  }
  const burstWindowMs = scoring.burstWindowMs ?? DEFAULT_SCORING.burstWindowMs
  const rememberedMax = o.rememberedCommands ?? 10_000

  const byKey = new Map<string, Warning>() // dedupKey -> the not-closed warning
  const byId = new Map<string, Warning>() // id -> not-closed warning
  const tails = new Map<string, PreviousEpisode>() // dedupKey -> last episode, when none is open
  const commands = new Map<string, Pick<CommandResult, 'ok' | 'error'>>() // commandId -> outcome
  const unpublished = new Map<string, Warning>() // persisted but not yet on the bus
  let stopped = false
  const escalating = new Set<string>()
  const inflight = new Set<Promise<unknown>>()
  const locks = createKeyedLock()
  const subs: Subscription[] = []
  let timer: TimerHandle | undefined
  let started = false
  let invalidFindings = 0

  const risk = createRiskTracker({ bus, registry, store: stores.risk, clock, logger, options: { ...(o.riskCoalesceMs !== undefined ? { coalesceMs: o.riskCoalesceMs } : {}), scoring } })
  const webhooks = createWebhookNotifier({ webhooks: o.webhooks ?? [], metrics, logger, clock, ...(o.webhookDelivery ? { options: o.webhookDelivery } : {}) })
  const escalator = createEscalator({
    clock, policy: escPolicy, registry: () => registry.current(), warnings: () => byId.values(), due: escalate,
  })

  function tracked<T>(p: Promise<T>): Promise<T> {
    inflight.add(p)
    const done = (): void => { inflight.delete(p) }
    p.then(done, done)
    return p
  }

  function index(w: Warning): void {
    if (w.status === 'closed') return
    byId.set(w.id, w)
    const cur = byKey.get(w.dedupKey)
    if (!cur || episodeOf(cur.id) <= episodeOf(w.id)) byKey.set(w.dedupKey, w)
  }

  function setTail(key: string, p: PreviousEpisode): void {
    tails.delete(key)
    tails.set(key, p)
    if (tails.size > MAX_TAILS) tails.delete(tails.keys().next().value!)
  }

  async function previousEpisode(key: string): Promise<PreviousEpisode> {
    const cached = tails.get(key)
    if (cached) return cached
    const [n, last] = await untilStored('episode lookup', () => Promise.all([stores.warnings.episodes(key), stores.warnings.lastClosed(key)]))
    const p: PreviousEpisode = { episode: Math.max(n, last ? episodeOf(last.id) : 0) }
    if (last?.closedAt) p.closedAtMs = Date.parse(last.closedAt)
    if (last?.outcome) p.outcome = last.outcome
    setTail(key, p)
    return p
  }

  async function publishWarning(w: Warning): Promise<void> {
    try {
      await bus.publish(topics.warnings, w)
      const pending = unpublished.get(w.id)
      if (pending && pending.version <= w.version) unpublished.delete(w.id) // an older failed version is superseded
    } catch (err) {
      // keep only the newest version; the timer retries
      const pending = unpublished.get(w.id)
      if (!pending || pending.version <= w.version) unpublished.set(w.id, w)
      logger.error({ id: w.id, err: errorMessage(err) }, 'warning change persisted but not published; will retry')
    }
  }

  // A warning change is published without holding the consumer for the bus's acknowledgement (over
  // Kafka that was a produce round trip per finding, and the findings group fell behind at a few hundred
  // warnings a second). The bus takes publishes in call order, so versions of a warning stay in order;
  // the input offsets are committed only once the publishes before them are acknowledged (beforeCommit).
  const publishing = new Set<Promise<void>>()
  function publishSoon(w: Warning): void {
    const p = publishWarning(w) // never rejects: a failure is kept in `unpublished` and retried by the timer
    publishing.add(p)
    void tracked(p).then(() => { publishing.delete(p) })
  }
  const published = async (): Promise<void> => { if (publishing.size) await Promise.all([...publishing]) }

  /** A store that is down (PostgreSQL restarting, a network cut) must delay a warning, never lose it:
   * retry retriable store errors with backoff for as long as it takes, holding this consumer (so order
   * and backpressure hold), until the stage stops. Non-retriable errors go to the bus's dead letters. */
  async function untilStored<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1, delay = 100; ; attempt++, delay = Math.min(delay * 2, 5000)) {
      try {
        const r = await fn()
        if (attempt > 1) logger.info({ what, attempts: attempt }, 'store is back; carried on')
        return r
      } catch (err) {
        if (!isRetriable(err) || stopped) throw err
        if (attempt === 1 || attempt % 20 === 0) logger.warn({ what, attempt, err: errorMessage(err) }, 'store unavailable; retrying (the warning waits, it is not lost)')
        await new Promise((r) => setTimeout(r, delay))
      }
    }
  }

  /** Persist, index, publish, count, notify — in that order. */
  async function commit(w: Warning, events: readonly WarningEvent[], receivedAt?: number): Promise<void> {
    await untilStored('warning', () => stores.warnings.upsert(w))
    if (w.status === 'closed') {
      byId.delete(w.id)
      if (byKey.get(w.dedupKey)?.id === w.id) byKey.delete(w.dedupKey)
      const p: PreviousEpisode = { episode: episodeOf(w.id), closedAtMs: w.closedAt ? Date.parse(w.closedAt) : clock.now() }
      if (w.outcome) p.outcome = w.outcome
      setTail(w.dedupKey, p)
    } else {
      byId.set(w.id, w)
      byKey.set(w.dedupKey, w)
      tails.delete(w.dedupKey)
    }
    risk.update(w)
    publishSoon(w)
    if (events.length) {
      for (const e of events) {
        metrics.warningChanges.inc({ type: e.type })
        if (e.type === 'raised') metrics.warningsRaised.inc({ level: String(w.level), kind: w.kind })
      }
    } else metrics.warningChanges.inc({ type: 'updated' })
    if (receivedAt !== undefined) metrics.arrivalToWarningSeconds.observe(Math.max(0, clock.now() - receivedAt) / 1000)
    const n = notificationFor(w, events, registry.current())
    if (n) webhooks.notify(n)
  }

  // ---- findings -------------------------------------------------------------------------------

  async function processFinding(f: Finding): Promise<void> {
    const cur = byKey.get(f.key)
    let previous: PreviousEpisode | undefined
    if (!cur) {
      if (!f.active) return
      previous = await previousEpisode(f.key)
    }
    const r = apply(cur, { type: 'finding', finding: f, ...(previous ? { previous } : {}) }, clock.now(), policy)
    if (!r.changed || !r.warning) return
    await commit(r.warning, r.events, f.receivedAt)
  }

  function onFinding(f: Finding): void | Promise<void> {
    if (!checkFinding.Check(f) || (f.active && f.level === null)) {
      if (invalidFindings++ % 1000 === 0) logger.warn({ finding: f, invalid: invalidFindings }, 'invalid finding ignored')
      return
    }
    if (!locks.busy(f.key)) {
      // hot path: decide "nothing to do" synchronously, without the lock, a store or the bus
      const cur = byKey.get(f.key)
      if (!cur && !f.active) return
      const previous = cur ? undefined : tails.get(f.key)
      if (cur || previous) {
        const r = apply(cur, { type: 'finding', finding: f, ...(previous ? { previous } : {}) }, clock.now(), policy)
        if (!r.changed) return
      }
    }
    return tracked(locks.run(f.key, () => processFinding(f)))
  }

  // ---- commands -------------------------------------------------------------------------------

  async function recall(commandId: string): Promise<Pick<CommandResult, 'ok' | 'error'> | undefined> {
    const m = commands.get(commandId)
    if (m) return m
    const raw = await stores.kv.get(KV_COMMAND_PREFIX + commandId).catch(() => undefined)
    if (!raw) return undefined
    try { return JSON.parse(raw) as Pick<CommandResult, 'ok' | 'error'> } catch { return undefined }
  }

  async function remember(commandId: string, r: CommandResult): Promise<void> {
    const slim: Pick<CommandResult, 'ok' | 'error'> = { ok: r.ok, ...(r.error ? { error: r.error } : {}) }
    commands.set(commandId, slim)
    if (commands.size > rememberedMax) commands.delete(commands.keys().next().value!)
    await stores.kv.set(KV_COMMAND_PREFIX + commandId, JSON.stringify(slim)).catch((err: unknown) => {
      logger.warn({ commandId, err: errorMessage(err) }, 'command outcome not persisted (idempotency only in memory)')
    })
  }

  const failure = (commandId: string, code: string, status: number, message: string): CommandResult =>
    ({ commandId, ok: false, error: { code, status, message } })

  async function handleCommand(c: WarningCommand): Promise<CommandResult> {
    const done = await recall(c.commandId)
    if (done) {
      // a replayed command changes nothing: answer as before (with the warning as it is now)
      const w = done.ok ? byId.get(c.warningId) ?? (await stores.warnings.get(c.warningId)) : undefined
      return { commandId: c.commandId, ok: done.ok, ...(w ? { warning: w } : {}), ...(done.error ? { error: done.error } : {}) }
    }
    const found = byId.get(c.warningId) ?? (await stores.warnings.get(c.warningId))
    if (!found) return failure(c.commandId, 'NOT_FOUND', 404, `warning ${c.warningId} not found`)
    const result = await locks.run(found.dedupKey, async (): Promise<CommandResult> => {
      const cur = byId.get(found.id) ?? (await stores.warnings.get(found.id))
      const r = apply(cur, { type: 'command', command: c }, clock.now(), policy)
      if (r.error) return failure(c.commandId, r.error.code, r.error.status, r.error.message)
      if (!r.changed || !r.warning) return failure(c.commandId, 'INTERNAL', 500, 'command changed nothing')
      await commit(r.warning, r.events)
      return { commandId: c.commandId, ok: true, warning: r.warning }
    })
    await remember(c.commandId, result)
    return result
  }

  async function onCommand(raw: WarningCommand): Promise<void> {
    let result: CommandResult
    if (!checkCommand.Check(raw)) {
      const id = typeof (raw as { commandId?: unknown } | null)?.commandId === 'string' ? (raw as { commandId: string }).commandId : undefined
      const first = [...checkCommand.Errors(raw)][0]
      logger.warn({ command: raw }, 'invalid command')
      if (!id) return
      result = failure(id, 'BAD_REQUEST', 400, `invalid command${first ? `: ${first.instancePath || '/'} ${first.message}` : ''}`)
    } else {
      result = await tracked(handleCommand(raw))
    }
    await bus.publish(topics.commandResults, result)
  }

  // ---- escalation timer -----------------------------------------------------------------------

  function escalate(w: Warning): void {
    if (escalating.has(w.id)) return
    escalating.add(w.id)
    const p = locks.run(w.dedupKey, async () => {
      const cur = byId.get(w.id)
      if (!cur) return
      const step = escalationStep(cur, clock.now(), registry.current(), escPolicy)
      if (step) await commit(step.warning, [step.event])
    })
    tracked(p).catch((err: unknown) => logger.error({ id: w.id, err: errorMessage(err) }, 'escalation step failed; will retry'))
      .finally(() => escalating.delete(w.id))
  }

  function onTimer(): void {
    escalator.tick()
    for (const w of unpublished.values()) void tracked(publishWarning(w))
  }

  async function settle(): Promise<void> {
    while (inflight.size) await Promise.allSettled([...inflight])
  }

  return {
    name: 'alerting',
    risk,
    async start() {
      if (started) return
      const open = await stores.warnings.notClosed()
      for (const w of open) index(w)
      let recent: Warning[] = []
      try {
        recent = await stores.warnings.list({ status: ['closed'], level: [1], since: clock.now() - burstWindowMs, limit: 1000 })
      } catch (err) { logger.warn({ err: errorMessage(err) }, 'recent level-1 warnings not loaded: burst count starts at zero') }
      await risk.start(open, recent)
      // Findings of up to FINDING_CONCURRENCY partitions at once (per-key order holds): each waits for its
      // warning's group commit, which then takes the changes of all of them in one transaction.
      subs.push(await bus.subscribe(topics.findings, { group: 'alerting', beforeCommit: published, concurrency: FINDING_CONCURRENCY }, onFinding))
      subs.push(await bus.subscribe(topics.commands, { group: 'alerting', beforeCommit: published }, onCommand))
      timer = clock.setInterval(onTimer, o.escalationCheckMs ?? 1000)
      started = true
      logger.info({ open: byId.size }, 'alerting started')
    },
    async stop() {
      stopped = true
      if (timer) { clock.clear(timer); timer = undefined }
      for (const s of subs.splice(0)) await s.unsubscribe()
      await settle()
      await risk.stop()
      await webhooks.stop()
      started = false
    },
    health() {
      const s = webhooks.stats()
      return { ok: started && unpublished.size === 0, detail: `open ${byId.size}, unpublished ${unpublished.size}, webhook queue ${s.queued + s.waitingRetry}, webhook failed ${s.failed}` }
    },
    settle,
    openWarnings: () => [...byId.values()],
  }
}
