// Validates a registry document: shape (unknown fields are errors, with the path named) and
// references (parents, regions, enterprises and gateways that must exist; unique ids; no cycles).
import { Compile } from 'typebox/compile'
import { RegistryDoc } from '../contracts/registry.js'
import { AppError } from '../runtime/errors.js'

const check = Compile(RegistryDoc)

export interface RegistryProblem { path: string; message: string }

export function registryProblems(doc: unknown): RegistryProblem[] {
  if (!check.Check(doc)) {
    const seen = new Set<string>()
    const out: RegistryProblem[] = []
    for (const e of check.Errors(doc)) {
      const extra = (e.params as { additionalProperties?: string[] }).additionalProperties
      const path = extra ? `${e.instancePath}/${extra.join(',')}` : e.instancePath || '/'
      const message = extra ? `unknown field "${extra.join('", "')}"` : e.message
      const k = path + message
      if (e.keyword === 'boolean' || seen.has(k)) continue
      seen.add(k)
      out.push({ path, message })
      if (out.length >= 20) break
    }
    return out
  }
  return referenceProblems(doc)
}

function referenceProblems(doc: RegistryDoc): RegistryProblem[] {
  const out: RegistryProblem[] = []
  const dup = (kind: string, ids: string[]): Set<string> => {
    const seen = new Set<string>()
    ids.forEach((id, i) => { if (seen.has(id)) out.push({ path: `/${kind}/${i}/id`, message: `duplicate id "${id}"` }); seen.add(id) })
    return seen
  }
  const regionIds = dup('regions', doc.regions.map((r) => r.id))
  const enterpriseIds = dup('enterprises', doc.enterprises.map((e) => e.id))
  dup('sensors', doc.sensors.map((s) => s.id))
  const gatewayIds = dup('gateways', (doc.gateways ?? []).map((g) => g.id))
  const usernames = new Set<string>()
  ;(doc.users ?? []).forEach((u, i) => { if (usernames.has(u.username)) out.push({ path: `/users/${i}/username`, message: `duplicate username "${u.username}"` }); usernames.add(u.username) })
  const parent = new Map(doc.regions.map((r) => [r.id, r.parentId]))
  doc.regions.forEach((r, i) => {
    if (r.parentId && !regionIds.has(r.parentId)) out.push({ path: `/regions/${i}/parentId`, message: `unknown region "${r.parentId}"` })
    const seen = new Set<string>([r.id])
    let p = r.parentId
    while (p) {
      if (seen.has(p)) { out.push({ path: `/regions/${i}/parentId`, message: `region "${r.id}" is its own ancestor` }); break }
      seen.add(p)
      p = parent.get(p)
    }
  })
  doc.enterprises.forEach((e, i) => {
    if (!regionIds.has(e.regionId)) out.push({ path: `/enterprises/${i}/regionId`, message: `unknown region "${e.regionId}"` })
  })
  doc.sensors.forEach((s, i) => {
    if (!enterpriseIds.has(s.enterpriseId)) out.push({ path: `/sensors/${i}/enterpriseId`, message: `unknown enterprise "${s.enterpriseId}"` })
    if (s.gatewayId && !gatewayIds.has(s.gatewayId)) out.push({ path: `/sensors/${i}/gatewayId`, message: `unknown gateway "${s.gatewayId}"` })
  })
  ;(doc.gateways ?? []).forEach((g, i) => {
    if (!enterpriseIds.has(g.enterpriseId)) out.push({ path: `/gateways/${i}/enterpriseId`, message: `unknown enterprise "${g.enterpriseId}"` })
  })
  ;(doc.users ?? []).forEach((u, i) => {
    u.regionIds?.forEach((r, j) => { if (!regionIds.has(r)) out.push({ path: `/users/${i}/regionIds/${j}`, message: `unknown region "${r}"` }) })
    u.enterpriseIds?.forEach((e, j) => { if (!enterpriseIds.has(e)) out.push({ path: `/users/${i}/enterpriseIds/${j}`, message: `unknown enterprise "${e}"` }) })
  })
  return out
}

/** Throws REGISTRY_INVALID naming every problem (path and message). */
export function assertRegistry(doc: unknown, source = 'registry'): RegistryDoc {
  const problems = registryProblems(doc)
  if (problems.length) {
    const lines = problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')
    throw new AppError('REGISTRY_INVALID', `${source} is invalid:\n${lines}`, { details: problems })
  }
  return doc as RegistryDoc
}
