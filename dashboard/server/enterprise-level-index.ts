// Every enterprise's current risk colour, kept up to date from the live view's warnings and risk
// states, for the header stats pushed every second: counting 10,000 enterprises by looking each one up
// in the live view walked objects spread over a 400 MB heap and held the event loop 3–8 ms a push
// (measured in the benchmark's latency phase). Here the colours sit in one byte array in registry
// order, recomputed only for enterprises whose warnings or risk changed (all of them when the registry
// changes), and each jurisdiction's enterprises are one byte mask, made once per registry version.
import { COLORS, type Color } from '../../core/contracts/levels.js'
import type { LevelCounts } from '../../core/contracts/api.js'
import type { Warning } from '../../core/contracts/warning.js'
import type { RegistryHolder } from '../../core/registry/registry-holder.js'
import type { RegistryIndex } from '../../core/registry/registry-index.js'
import type { Jurisdiction } from './jurisdiction.js'
import type { LiveView } from './live-view.js'
import { enterpriseRiskLevel, warningsByEnterprise } from './views.js'

export interface EnterpriseLevelIndex {
  /** Enterprises of the registry the jurisdiction sees, by current risk colour. */
  counts(j: Jurisdiction): LevelCounts
  /** Stops following the live view. */
  stop(): void
}

const CODE = new Map<Color, number>(COLORS.map((c, i) => [c, i]))

interface Built {
  idx: RegistryIndex
  ids: string[]
  pos: Map<string, number>
  /** Index into COLORS, per enterprise in `ids` order. */
  level: Uint8Array
  /** Not-closed warnings per enterprise (what an enterprise without a risk state is coloured by). */
  open: Map<string, Map<string, Warning>>
  masks: Map<string, Uint8Array>
}

export function createEnterpriseLevelIndex(live: LiveView, registry: RegistryHolder): EnterpriseLevelIndex {
  let built: Built | undefined
  const dirty = new Set<string>()

  function levelOf(b: Built, id: string): number {
    const e = b.idx.enterprises.get(id)!
    const open = b.open.get(id)
    return CODE.get(enterpriseRiskLevel(live, e, open ? [...open.values()] : undefined))!
  }

  function build(idx: RegistryIndex): Built {
    const ids = [...idx.enterprises.keys()]
    const pos = new Map(ids.map((id, i) => [id, i]))
    const open = new Map<string, Map<string, Warning>>()
    for (const [eid, ws] of warningsByEnterprise(live)) open.set(eid, new Map(ws.map((w) => [w.id, w])))
    const b: Built = { idx, ids, pos, level: new Uint8Array(ids.length), open, masks: new Map() }
    for (let i = 0; i < ids.length; i++) b.level[i] = levelOf(b, ids[i]!)
    dirty.clear()
    return b
  }

  function current(): Built {
    const idx = registry.current()
    if (!built || built.idx !== idx) built = build(idx)
    else if (dirty.size) {
      for (const id of dirty) {
        const i = built.pos.get(id)
        if (i !== undefined) built.level[i] = levelOf(built, id)
      }
      dirty.clear()
    }
    return built
  }

  const unlisten = [
    live.onWarning((w) => {
      if (!built) return // built later from live.warnings()
      let m = built.open.get(w.enterpriseId)
      if (w.status === 'closed') {
        m?.delete(w.id)
        if (m?.size === 0) built.open.delete(w.enterpriseId)
      } else {
        if (!m) built.open.set(w.enterpriseId, (m = new Map()))
        m.set(w.id, w)
      }
      dirty.add(w.enterpriseId)
    }),
    live.onRisk((r) => { if (built && r.kind === 'enterprise') dirty.add(r.id) }),
  ]

  return {
    counts(j) {
      const b = current()
      const n = [0, 0, 0, 0]
      if (j.unrestricted) {
        for (let i = 0; i < b.level.length; i++) n[b.level[i]!]!++
      } else {
        let mask = b.masks.get(j.key)
        if (!mask) {
          mask = new Uint8Array(b.ids.length)
          for (let i = 0; i < b.ids.length; i++) mask[i] = j.seesEnterprise(b.ids[i]!) ? 1 : 0
          b.masks.set(j.key, mask)
        }
        for (let i = 0; i < b.level.length; i++) if (mask[i]) n[b.level[i]!]!++
      }
      return { red: n[0]!, orange: n[1]!, yellow: n[2]!, blue: n[3]! }
    },
    stop() { for (const u of unlisten) u() },
  }
}
