// The dashboard's live state, fed by the bus: not-closed warnings (newest version wins), the latest
// RiskState per region/enterprise, the latest reading per sensor and reading rates. Every dashboard
// instance subscribes with its own group (`dashboard-<instanceId>`) so each sees every message.
import { Compile } from 'typebox/compile'
import type { Bus, Subscription } from '../../core/bus/bus.js'
import { topics } from '../../core/contracts/topics.js'
import { Warning } from '../../core/contracts/warning.js'
import { RiskState } from '../../core/contracts/risk.js'
import type { Quality, ReadingBatch } from '../../core/contracts/reading.js'
import type { WarningLevel } from '../../core/contracts/levels.js'
import type { RegistryHolder } from '../../core/registry/registry-holder.js'
import type { Stores } from '../../core/store/ports.js'
import type { Clock } from '../../core/runtime/clock.js'
import type { Logger } from '../../core/runtime/logger.js'
import type { Metrics } from '../../core/runtime/metrics.js'
import { createRateCounter, type RateCounter } from './rate-counter.js'

export interface LatestReading { ts: number; value: number; quality: Quality; receivedAt: number }

export type SensorState =
  | { state: 'normal' }
  | { state: 'alarm'; level: WarningLevel; warningIds: string[] }
  | { state: 'offline'; warningId: string }
  | { state: 'fault'; warningId?: string }

export interface LiveView {
  start(): Promise<void>
  stop(): Promise<void>
  /** Every warning not closed. */
  warnings(): IterableIterator<Warning>
  warning(id: string): Warning | undefined
  risk(kind: 'region' | 'enterprise', id: string): RiskState | undefined
  latest(sensorId: string): LatestReading | undefined
  /** Readings per second over the last 10 s, for the given enterprises (null = all). */
  readingsPerSecond(enterpriseIds: readonly string[] | null): number
  /** Sensors with an active offline warning, or behind a gateway with an active gateway-offline warning. */
  offlineSensors(): ReadonlyMap<string, string /* warning id */>
  sensorState(sensorId: string): SensorState
  onWarning(cb: (w: Warning) => void): () => void
  onRisk(cb: (r: RiskState) => void): () => void
  onReadings(cb: (b: ReadingBatch) => void): () => void
}

export interface LiveViewDeps {
  bus: Bus
  registry: RegistryHolder
  stores: Pick<Stores, 'warnings' | 'risk'>
  clock: Clock
  logger: Logger
  metrics?: Metrics
  instanceId: string
}

const checkWarning = Compile(Warning)
const checkRisk = Compile(RiskState)

/** A gateway-offline warning: kind offline, about a gateway, not a single sensor. */
export function isGatewayOffline(w: Warning): boolean {
  return w.kind === 'offline' && !w.sensorId && !!w.gatewayId
}

export function createLiveView(deps: LiveViewDeps): LiveView {
  const { bus, registry, stores, clock, logger } = deps
  const group = `dashboard-${deps.instanceId}`
  const open = new Map<string, Warning>()
  const closedVersions = new Map<string, number>()
  const risks = new Map<string, RiskState>()
  const latest = new Map<string, LatestReading>()
  const total = createRateCounter()
  const perEnterprise = new Map<string, RateCounter>()
  const warningListeners = new Set<(w: Warning) => void>()
  const riskListeners = new Set<(r: RiskState) => void>()
  const readingListeners = new Set<(b: ReadingBatch) => void>()
  let subs: Subscription[] = []
  let offlineCache: Map<string, string> | undefined
  let offlineCacheRegistry: unknown

  function applyWarning(w: Warning): boolean {
    const cur = open.get(w.id)
    const closedAt = closedVersions.get(w.id)
    if ((cur && cur.version > w.version) || (closedAt !== undefined && closedAt >= w.version)) return false
    if (w.status === 'closed') {
      open.delete(w.id)
      closedVersions.set(w.id, w.version)
      if (closedVersions.size > 50_000) closedVersions.delete(closedVersions.keys().next().value as string)
    } else {
      open.set(w.id, w)
    }
    offlineCache = undefined
    return true
  }

  function applyRisk(r: RiskState): boolean {
    const k = `${r.kind}:${r.id}`
    const cur = risks.get(k)
    if (cur && cur.at > r.at) return false
    risks.set(k, r)
    return true
  }

  function emit<T>(set: Set<(x: T) => void>, x: T): void {
    for (const cb of set) {
      try { cb(x) } catch (err) { logger.error({ err }, 'live view listener failed') }
    }
  }

  function computeOffline(): Map<string, string> {
    const idx = registry.current()
    if (offlineCache && offlineCacheRegistry === idx) return offlineCache
    const out = new Map<string, string>()
    const gatewaysDown = new Map<string, string>()
    for (const w of open.values()) {
      if (w.kind !== 'offline' || !w.active) continue
      if (w.sensorId) out.set(w.sensorId, w.id)
      else if (w.gatewayId) gatewaysDown.set(w.gatewayId, w.id)
    }
    if (gatewaysDown.size) {
      for (const s of idx.sensors.values()) {
        const g = idx.gatewayOf(s)
        const wid = g ? gatewaysDown.get(g.id) : undefined
        if (wid && !out.has(s.id)) out.set(s.id, wid)
      }
    }
    offlineCache = out
    offlineCacheRegistry = idx
    deps.metrics?.sensorsOffline.set(out.size)
    return out
  }

  return {
    async start() {
      subs.push(await bus.subscribe(topics.warnings, { group }, (msg) => {
        if (!checkWarning.Check(msg)) { logger.warn({ id: (msg as { id?: unknown })?.id }, 'dashboard dropped an invalid warning message'); return }
        if (applyWarning(msg)) emit(warningListeners, msg)
      }))
      subs.push(await bus.subscribe(topics.risk, { group }, (msg) => {
        if (!checkRisk.Check(msg)) { logger.warn('dashboard dropped an invalid risk message'); return }
        if (applyRisk(msg)) emit(riskListeners, msg)
      }))
      subs.push(await bus.subscribe(topics.readings, { group }, (batch) => {
        if (!batch || !Array.isArray(batch.items)) return
        const now = clock.now()
        let n = 0
        for (const it of batch.items) {
          if (typeof it?.sensorId !== 'string' || typeof it.value !== 'number') continue
          n++
          // Updated in place: one object per sensor for its life, instead of a new one per reading that
          // lives until the sensor's next reading (long enough to reach V8's old generation, whose
          // collections then pause the pipeline — measured in the soak run at 100,000 sensors).
          const prev = latest.get(it.sensorId)
          if (!prev) latest.set(it.sensorId, { ts: it.ts, value: it.value, quality: it.quality, receivedAt: batch.receivedAt })
          else if (prev.ts <= it.ts) { prev.ts = it.ts; prev.value = it.value; prev.quality = it.quality; prev.receivedAt = batch.receivedAt }
        }
        total.add(n, now)
        let rc = perEnterprise.get(batch.enterpriseId)
        if (!rc) { rc = createRateCounter(); perEnterprise.set(batch.enterpriseId, rc) }
        rc.add(n, now)
        emit(readingListeners, batch)
      }))
      const [ws, rs] = await Promise.all([stores.warnings.notClosed(), stores.risk.all()])
      for (const w of ws) applyWarning(w)
      for (const r of rs) applyRisk(r)
      computeOffline()
    },
    async stop() {
      const s = subs
      subs = []
      await Promise.all(s.map((x) => x.unsubscribe()))
    },
    warnings: () => open.values(),
    warning: (id) => open.get(id),
    risk: (kind, id) => risks.get(`${kind}:${id}`),
    latest: (sensorId) => latest.get(sensorId),
    readingsPerSecond(enterpriseIds) {
      const now = clock.now()
      if (enterpriseIds === null) return total.rate(now)
      let sum = 0
      for (const id of enterpriseIds) sum += perEnterprise.get(id)?.rate(now) ?? 0
      return sum
    },
    offlineSensors: computeOffline,
    sensorState(sensorId) {
      const off = computeOffline().get(sensorId)
      if (off) return { state: 'offline', warningId: off }
      let fault: Warning | undefined
      let level: WarningLevel | null = null
      const ids: string[] = []
      for (const w of open.values()) {
        if (w.sensorId !== sensorId || !w.active) continue
        if (w.kind === 'fault') fault = w
        else if ((w.kind === 'threshold' || w.kind === 'rate' || w.kind === 'composite') && w.currentLevel !== null) {
          ids.push(w.id)
          if (level === null || w.currentLevel < level) level = w.currentLevel
        }
      }
      if (fault) return { state: 'fault', warningId: fault.id }
      if (latest.get(sensorId)?.quality === 'fault') return { state: 'fault' }
      if (level !== null) return { state: 'alarm', level, warningIds: ids }
      return { state: 'normal' }
    },
    onWarning(cb) { warningListeners.add(cb); return () => warningListeners.delete(cb) },
    onRisk(cb) { riskListeners.add(cb); return () => riskListeners.delete(cb) },
    onReadings(cb) { readingListeners.add(cb); return () => readingListeners.delete(cb) },
  }
}
