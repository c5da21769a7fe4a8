// Start-up registry: the file (or the generated demo province) is upserted into the registry store at
// every start — its entities replace those with the same id, entities added through the API stay —
// and from then on the store is the source of truth.
import { randomBytes } from 'node:crypto'
import type { RegistryDoc } from '../core/contracts/registry.js'
import type { KeyValueStore, RegistryStore } from '../core/store/ports.js'
import { loadRegistryFile } from '../core/registry/load-registry.js'
import { assertRegistry } from '../core/registry/validate-registry.js'
import { weakSecretProblems } from '../core/registry/weak-secrets.js'
import { AppError } from '../core/runtime/errors.js'
import type { Logger } from '../core/runtime/logger.js'
import { generateDemoProvince } from '../simulators/demo-province.js'

export function upsertRegistry(stored: RegistryDoc | undefined, incoming: RegistryDoc): RegistryDoc {
  if (!stored) return incoming
  const merge = <T>(a: readonly T[] | undefined, b: readonly T[] | undefined, id: (t: T) => string): T[] => {
    const m = new Map<string, T>()
    for (const x of a ?? []) m.set(id(x), x)
    for (const x of b ?? []) m.set(id(x), x)
    return [...m.values()]
  }
  return {
    regions: merge(stored.regions, incoming.regions, (r) => r.id),
    enterprises: merge(stored.enterprises, incoming.enterprises, (e) => e.id),
    sensors: merge(stored.sensors, incoming.sensors, (s) => s.id),
    gateways: merge(stored.gateways, incoming.gateways, (g) => g.id),
    users: merge(stored.users, incoming.users, (u) => u.username),
  }
}

export async function demoSecret(kv: KeyValueStore): Promise<string> {
  let s = await kv.get('demo.secret')
  if (!s) { s = randomBytes(24).toString('hex'); await kv.set('demo.secret', s) }
  return s
}

export async function bootstrapRegistry(opts: {
  registryFile?: string
  demo: boolean
  store: RegistryStore
  kv: KeyValueStore
  logger: Logger
  demoEnterprises?: number
}): Promise<{ doc: RegistryDoc; version: number }> {
  const { store, logger } = opts
  let incoming: RegistryDoc | undefined
  let source = ''
  if (opts.registryFile) {
    incoming = await loadRegistryFile(opts.registryFile)
    source = opts.registryFile
  } else if (opts.demo) {
    incoming = generateDemoProvince({ seed: 7, enterprises: opts.demoEnterprises ?? 72, secret: await demoSecret(opts.kv) })
    source = 'demo province'
  }
  const stored = await store.load()
  if (!incoming && !stored) {
    throw new AppError('REGISTRY_INVALID', 'no registry: give --registry FILE (or YUJING_REGISTRY), or run the demo (YUJING_DEMO=1)')
  }
  let doc = stored?.doc
  let version = stored?.version ?? 0
  if (incoming) {
    const merged = upsertRegistry(stored?.doc, incoming)
    assertRegistry(merged, `registry (${source} upserted into the stored registry)`)
    if (!stored || JSON.stringify(merged) !== JSON.stringify(stored.doc)) {
      version = await store.save(merged, { by: 'system', action: 'registry.upsert', target: source })
      logger.info({ version, source }, 'registry upserted into the store')
    }
    doc = merged
  }
  if (!opts.demo) {
    const weak = weakSecretProblems(doc!)
    if (weak.length) {
      const lines = weak.slice(0, 10).map((p) => `  ${p.path}: ${p.message}`).join('\n')
      throw new AppError('REGISTRY_INVALID', `registry has default or weak passwords/tokens (allowed only in the demo):\n${lines}`)
    }
  }
  return { doc: doc!, version }
}
