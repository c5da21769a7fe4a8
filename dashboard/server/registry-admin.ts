// Admin changes to the registry: validate (shape and references, errors name the field path; plain
// weak secrets refused unless allowed; threshold colours in order), save through RegistryStore with
// an audit entry, then announce `registryChanged` on the bus. Secrets are never sent back in clear.
import type { Bus } from '../../core/bus/bus.js'
import { topics } from '../../core/contracts/topics.js'
import type { FlatThresholds, RegistryDoc, Thresholds } from '../../core/contracts/registry.js'
import type { RegistryIndex } from '../../core/registry/registry-index.js'
import { registryProblems, type RegistryProblem } from '../../core/registry/validate-registry.js'
import { weakSecretProblems } from '../../core/registry/weak-secrets.js'
import type { RegistryStore } from '../../core/store/ports.js'
import type { Clock } from '../../core/runtime/clock.js'
import { AppError } from '../../core/runtime/errors.js'

/** Stands for "unchanged" in GET /api/registry output and PUT input. */
export const REDACTED = '<redacted>'

export function redactRegistry(doc: RegistryDoc): RegistryDoc {
  const out: RegistryDoc = { ...doc }
  if (doc.users) out.users = doc.users.map((u) => ({ ...u, password: REDACTED }))
  if (doc.gateways) out.gateways = doc.gateways.map((g) => ({ ...g, token: REDACTED }))
  return out
}

/** Puts the current secrets back where the document says REDACTED; unknown owners are problems. */
export function restoreSecrets(doc: unknown, current: RegistryIndex): { doc: unknown; problems: RegistryProblem[] } {
  const problems: RegistryProblem[] = []
  if (!doc || typeof doc !== 'object') return { doc, problems }
  const d = { ...(doc as Record<string, unknown>) }
  if (Array.isArray(d.users)) {
    d.users = d.users.map((u: unknown, i) => {
      if (!u || typeof u !== 'object' || (u as { password?: unknown }).password !== REDACTED) return u
      const prev = current.users.get(String((u as { username?: unknown }).username))
      if (!prev) { problems.push({ path: `/users/${i}/password`, message: `"${REDACTED}" keeps an existing password, but this user is new: give a password` }); return u }
      return { ...u, password: prev.password }
    })
  }
  if (Array.isArray(d.gateways)) {
    d.gateways = d.gateways.map((g: unknown, i) => {
      if (!g || typeof g !== 'object' || (g as { token?: unknown }).token !== REDACTED) return g
      const prev = current.gateways.get(String((g as { id?: unknown }).id))
      if (!prev) { problems.push({ path: `/gateways/${i}/token`, message: `"${REDACTED}" keeps an existing token, but this gateway is new: give a token` }); return g }
      return { ...g, token: prev.token }
    })
  }
  return { doc: d, problems }
}

const ORDER = ['blue', 'yellow', 'orange', 'red'] as const

function flatOrderProblems(t: FlatThresholds, path: string): RegistryProblem[] {
  const low = t.direction === 'low'
  const present = ORDER.filter((c) => t[c] !== undefined)
  const out: RegistryProblem[] = []
  for (let i = 1; i < present.length; i++) {
    const a = present[i - 1]!
    const b = present[i]!
    const va = t[a]!
    const vb = t[b]!
    if (low ? vb > va : vb < va) {
      out.push({ path: `${path}/${b}`, message: `${b} (${vb}) must be ${low ? 'at or below' : 'at or above'} ${a} (${va}) for direction "${low ? 'low' : 'high'}"` })
    }
  }
  return out
}

/** Colour values must be ordered blue → red in the threshold's direction. */
export function thresholdOrderProblems(t: Thresholds, path: string): RegistryProblem[] {
  if ('low' in t || 'high' in t) {
    const two = t as { low?: FlatThresholds; high?: FlatThresholds }
    return [
      ...(two.low ? flatOrderProblems({ direction: 'low', ...two.low }, `${path}/low`) : []),
      ...(two.high ? flatOrderProblems({ direction: 'high', ...two.high }, `${path}/high`) : []),
    ]
  }
  return flatOrderProblems(t as FlatThresholds, path)
}

function allThresholdProblems(doc: RegistryDoc): RegistryProblem[] {
  const out: RegistryProblem[] = []
  doc.sensors.forEach((s, i) => { if (s.thresholds) out.push(...thresholdOrderProblems(s.thresholds, `/sensors/${i}/thresholds`)) })
  doc.enterprises.forEach((e, i) => { for (const [k, t] of Object.entries(e.thresholds ?? {})) out.push(...thresholdOrderProblems(t, `/enterprises/${i}/thresholds/${k}`)) })
  doc.regions.forEach((r, i) => { for (const [k, t] of Object.entries(r.thresholds ?? {})) out.push(...thresholdOrderProblems(t, `/regions/${i}/thresholds/${k}`)) })
  return out
}

export function invalid(problems: RegistryProblem[], what = 'registry'): AppError {
  const shown = problems.slice(0, 20).map((p) => `${p.path}: ${p.message}`).join('; ')
  return new AppError('REGISTRY_INVALID', `${what} is invalid: ${shown}`, { details: { problems } })
}

export interface RegistryAdmin {
  /** Validates and saves; returns the new version. Throws REGISTRY_INVALID (400) naming paths. */
  save(doc: unknown, audit: { by: string; action: string; target: string; detail?: string }): Promise<number>
}

export function createRegistryAdmin(deps: { store: RegistryStore; bus: Bus; clock: Clock; allowWeakSecrets: boolean }): RegistryAdmin {
  return {
    async save(doc, audit) {
      const problems = registryProblems(doc)
      if (problems.length) throw invalid(problems)
      const valid = doc as RegistryDoc
      const more = [...allThresholdProblems(valid), ...(deps.allowWeakSecrets ? [] : weakSecretProblems(valid))]
      if (more.length) throw invalid(more)
      const at = deps.clock.now()
      const version = await deps.store.save(valid, { ...audit, at })
      await deps.bus.publish(topics.registryChanged, { version, at, by: audit.by })
      return version
    },
  }
}
