// Keeps the not-closed warnings per enterprise and the risk of every enterprise and region. A warning
// change marks its enterprise dirty; every `coalesceMs` the dirty enterprises and their ancestor chains
// (not the whole province) are recomputed, and the states that changed are persisted, then published.
import type { RiskState } from '../core/contracts/risk.js'
import { topics } from '../core/contracts/topics.js'
import type { Warning } from '../core/contracts/warning.js'
import type { Bus } from '../core/bus/bus.js'
import type { RegistryHolder } from '../core/registry/registry-holder.js'
import type { Clock, TimerHandle } from '../core/runtime/clock.js'
import type { Logger } from '../core/runtime/logger.js'
import { errorMessage } from '../core/runtime/errors.js'
import type { RiskStore } from '../core/store/ports.js'
import { scoringParams, type ScoringParams } from '../core/scoring/params.js'
import type { RegionRollup } from '../core/scoring/region-rollup.js'
import { computeRegistryRisk, rollUpRegistryRegion, scoreRegistryEnterprise, type RiskInputs } from '../core/scoring/registry-risk.js'

export interface RiskTrackerOptions {
  /** Publish interval for changed states (default 500 ms). */
  coalesceMs?: number
  scoring?: Partial<ScoringParams>
}

export interface RiskTracker {
  /** Load the working set (not-closed warnings, plus recently closed level-1 ones for the burst
   * count), compute everything, persist and publish all, and start the coalescing timer. */
  start(notClosed: readonly Warning[], recentLevel1?: readonly Warning[]): Promise<void>
  /** A warning changed (any status). Cheap: marks its enterprise dirty. */
  update(w: Warning): void
  /** Recompute everything at the next flush (registry change). */
  invalidateAll(): void
  /** Recompute what is dirty; persist and publish what changed. */
  flush(): Promise<void>
  stop(): Promise<void>
  /** Latest state of an enterprise or region. */
  get(kind: RiskState['kind'], id: string): RiskState | undefined
  all(): RiskState[]
}

const EMPTY: readonly Warning[] = []

export function createRiskTracker(deps: {
  bus: Bus
  registry: RegistryHolder
  store: RiskStore
  clock: Clock
  logger: Logger
  options?: RiskTrackerOptions
}): RiskTracker {
  const params = scoringParams(deps.options?.scoring)
  const coalesceMs = deps.options?.coalesceMs ?? 500
  const warnings = new Map<string, Map<string, Warning>>() // enterpriseId -> id -> not-closed warning
  const level1 = new Map<string, Map<string, number>>() // enterpriseId -> warning id -> raisedAt ms
  const enterprises = new Map<string, RiskState>()
  const regions = new Map<string, RegionRollup>()
  const published = new Map<string, string>() // id -> signature of the last persisted state
  const outbox = new Map<string, RiskState>() // changed, not yet persisted/published
  const dirty = new Set<string>()
  let dirtyAll = false
  let timer: TimerHandle | undefined
  let unlisten: (() => void) | undefined
  let flushing: Promise<void> | undefined

  const lists = new Map<string, Warning[]>()
  const inputs: RiskInputs = {
    warnings: (eid) => {
      const m = warnings.get(eid)
      if (!m) return EMPTY
      let l = lists.get(eid)
      if (!l) { l = [...m.values()]; lists.set(eid, l) }
      return l
    },
    level1Raised: (eid) => level1.get(eid)?.size ?? 0,
  }

  function track(w: Warning): void {
    const eid = w.enterpriseId
    lists.delete(eid)
    let m = warnings.get(eid)
    if (w.status === 'closed') { m?.delete(w.id); if (m && !m.size) warnings.delete(eid) }
    else { if (!m) { m = new Map(); warnings.set(eid, m) } m.set(w.id, w) }
    if (w.level === 1) {
      const raised = Date.parse(w.raisedAt)
      if (deps.clock.now() - raised < params.burstWindowMs) {
        let l = level1.get(eid)
        if (!l) { l = new Map(); level1.set(eid, l) }
        l.set(w.id, raised)
      }
    }
    dirty.add(eid)
  }

  /** Drop level-1 raises that left the burst window; their enterprise needs a recompute. */
  function ageBurstWindows(now: number): void {
    for (const [eid, l] of level1) {
      for (const [id, at] of l) if (now - at >= params.burstWindowMs) { l.delete(id); dirty.add(eid) }
      if (!l.size) level1.delete(eid)
    }
  }

  const signature = (s: RiskState): string => JSON.stringify({ ...s, at: 0 })
  const keyOf = (s: Pick<RiskState, 'kind' | 'id'>): string => `${s.kind}:${s.id}`
  function stage(s: RiskState): void {
    const k = keyOf(s)
    if (published.get(k) !== signature(s)) outbox.set(k, s)
  }

  function recompute(now: number): void {
    const reg = deps.registry.current()
    if (dirtyAll) {
      dirtyAll = false
      dirty.clear()
      const snap = computeRegistryRisk(reg, inputs, now, params)
      for (const id of enterprises.keys()) if (!snap.enterprises.has(id)) { enterprises.delete(id); published.delete(`enterprise:${id}`) }
      for (const id of regions.keys()) if (!snap.regions.has(id)) { regions.delete(id); published.delete(`region:${id}`) }
      for (const [id, s] of snap.enterprises) { enterprises.set(id, s); stage(s) }
      for (const [id, r] of snap.regions) { regions.set(id, r); stage(r.state) }
      return
    }
    if (!dirty.size) return
    const affected = new Map<string, number>() // region id -> depth
    for (const eid of dirty) {
      const s = scoreRegistryEnterprise(reg, eid, inputs, now, params)
      if (!s) { enterprises.delete(eid); continue }
      enterprises.set(eid, s)
      stage(s)
      const chain = reg.ancestors(reg.enterprises.get(eid)!.regionId)
      chain.forEach((r, i) => affected.set(r.id, chain.length - i))
    }
    dirty.clear()
    // deepest first, so children are rolled up before their parents
    for (const [rid] of [...affected].sort((a, b) => b[1] - a[1])) {
      const r = rollUpRegistryRegion(reg, rid, enterprises, regions, now, params)
      regions.set(rid, r)
      stage(r.state)
    }
  }

  async function doFlush(): Promise<void> {
    const now = deps.clock.now()
    ageBurstWindows(now)
    recompute(now)
    if (!outbox.size) return
    const out = [...outbox.values()]
    outbox.clear()
    try {
      await deps.store.putMany(out)
      await deps.bus.publishMany(topics.risk, out)
      for (const s of out) published.set(keyOf(s), signature(s))
    } catch (err) {
      for (const s of out) if (!outbox.has(keyOf(s))) outbox.set(keyOf(s), s)
      deps.logger.error({ err: errorMessage(err), states: out.length }, 'risk states not persisted/published; will retry')
    }
  }

  function flush(): Promise<void> {
    const run = (flushing ?? Promise.resolve()).then(doFlush)
    const tail = run.catch(() => undefined)
    flushing = tail
    void tail.then(() => { if (flushing === tail) flushing = undefined })
    return run
  }

  return {
    async start(notClosed, recentLevel1 = []) {
      for (const w of recentLevel1) track(w)
      for (const w of notClosed) track(w)
      dirtyAll = true
      await flush()
      unlisten = deps.registry.onChange(() => { dirtyAll = true })
      timer ??= deps.clock.setInterval(() => { void flush() }, coalesceMs)
    },
    update: track,
    invalidateAll() { dirtyAll = true },
    flush,
    async stop() {
      if (timer) { deps.clock.clear(timer); timer = undefined }
      unlisten?.()
      unlisten = undefined
      await flush()
    },
    get: (kind, id) => (kind === 'enterprise' ? enterprises.get(id) : regions.get(id)?.state),
    all: () => [...enterprises.values(), ...[...regions.values()].map((r) => r.state)],
  }
}
