// Builds the configuration: defaults ← config file ← environment ← CLI flags. The only module that
// reads process.env. Unknown keys and bad values stop start-up with the path named.
import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import { Compile } from 'typebox/compile'
import { AppError } from '../runtime/errors.js'
import { Config, ROLES, defaultConfig, type Role } from './config-schema.js'

const check = Compile(Config)

export interface CliOverrides {
  config?: string
  registry?: string
  dataDir?: string
  roles?: string
  port?: number
  mqttPort?: number
  simulate?: boolean
  rate?: number
}

type Json = Record<string, unknown>

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Deep merge: objects merge, everything else replaces. A `mode`/`kind` change replaces the object. */
export function mergeConfig(base: unknown, over: unknown): unknown {
  if (!isObject(base) || !isObject(over)) return over === undefined ? base : over
  if (('mode' in over && over.mode !== base.mode) || ('kind' in over && over.kind !== base.kind)) return { ...over }
  const out: Json = { ...base }
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? mergeConfig(base[k], v) : v
  return out
}

function parseRoles(s: string): Role[] {
  const roles = s.split(',').map((r) => r.trim()).filter(Boolean)
  for (const r of roles) if (!(ROLES as readonly string[]).includes(r)) throw new AppError('CONFIG_INVALID', `unknown role "${r}" (roles: ${ROLES.join(', ')})`)
  return roles as Role[]
}

function num(name: string, v: string): number {
  const n = Number(v)
  if (!Number.isFinite(n)) throw new AppError('CONFIG_INVALID', `${name}="${v}" is not a number`)
  return n
}

function bool(v: string): boolean {
  return ['1', 'true', 'yes', 'on'].includes(v.toLowerCase())
}

/** The environment variables we read, each mapped onto the config. */
function fromEnv(env: NodeJS.ProcessEnv, cfg: Json): Json {
  let c: unknown = cfg
  const set = (patch: Json): void => { c = mergeConfig(c, patch) }
  if (env.YUJING_ROLES) set({ roles: parseRoles(env.YUJING_ROLES) })
  if (env.YUJING_INSTANCE) set({ instanceId: env.YUJING_INSTANCE })
  if (env.YUJING_DATA_DIR) set({ dataDir: env.YUJING_DATA_DIR })
  if (env.YUJING_REGISTRY) set({ registryFile: env.YUJING_REGISTRY, demo: false })
  if (env.YUJING_DEMO) set({ demo: bool(env.YUJING_DEMO) })
  if (env.YUJING_SIMULATE) set({ simulate: bool(env.YUJING_SIMULATE) })
  if (env.YUJING_SIM_RATE) set({ simulateRate: num('YUJING_SIM_RATE', env.YUJING_SIM_RATE) })
  if (env.LOG_LEVEL) set({ logLevel: env.LOG_LEVEL })
  if (env.YUJING_JOURNAL) set({ ingest: { journal: bool(env.YUJING_JOURNAL) } })
  if (env.YUJING_METRICS_PER_GATEWAY) set({ ingest: { metricsPerGateway: bool(env.YUJING_METRICS_PER_GATEWAY) } })
  if (env.YUJING_JOURNAL_FSYNC) set({ ingest: { journalFsync: bool(env.YUJING_JOURNAL_FSYNC) } })
  if (env.YUJING_JOURNAL_GROUP_COMMIT_MS) set({ ingest: { journalGroupCommitMs: num('YUJING_JOURNAL_GROUP_COMMIT_MS', env.YUJING_JOURNAL_GROUP_COMMIT_MS) } })
  if (env.HOST) set({ http: { host: env.HOST } })
  if (env.PORT) set({ http: { port: num('PORT', env.PORT) } })
  if (env.YUJING_TOKEN_SECRET) set({ http: { tokenSecret: env.YUJING_TOKEN_SECRET } })
  if (env.YUJING_STATIC_DIR) set({ http: { staticDir: env.YUJING_STATIC_DIR } })
  if (env.MAPBOX_TOKEN) set({ http: { map: { kind: 'mapbox', token: env.MAPBOX_TOKEN } } })
  if (env.YUJING_MAP) set({ http: { map: { kind: env.YUJING_MAP } } })
  if (env.YUJING_MAP_STYLE) set({ http: { map: { style: env.YUJING_MAP_STYLE } } })
  if (env.YUJING_MAP_TILES) set({ http: { map: { tiles: env.YUJING_MAP_TILES } } })
  if (env.MQTT_URL) {
    set({ mqtt: { mode: 'external', url: env.MQTT_URL, clientId: `yujing-ingest-${(c as Config).instanceId}`, group: 'yujing-ingest', shared: true } })
    if (env.MQTT_USERNAME) set({ mqtt: { username: env.MQTT_USERNAME } })
    if (env.MQTT_PASSWORD) set({ mqtt: { password: env.MQTT_PASSWORD } })
    if (env.MQTT_SHARED) set({ mqtt: { shared: bool(env.MQTT_SHARED) } })
  } else {
    if (env.MQTT_HOST) set({ mqtt: { host: env.MQTT_HOST } })
    if (env.MQTT_PORT) set({ mqtt: { port: num('MQTT_PORT', env.MQTT_PORT) } })
  }
  if (env.KAFKA_BROKERS) set({ bus: { kind: 'kafka', brokers: env.KAFKA_BROKERS.split(',').map((b) => b.trim()), clientId: 'yujing', topicPrefix: env.KAFKA_TOPIC_PREFIX ?? 'yujing.', partitions: env.KAFKA_PARTITIONS ? num('KAFKA_PARTITIONS', env.KAFKA_PARTITIONS) : 6, replicationFactor: env.KAFKA_REPLICATION_FACTOR ? num('KAFKA_REPLICATION_FACTOR', env.KAFKA_REPLICATION_FACTOR) : 1, ...(env.KAFKA_SESSION_TIMEOUT_MS ? { sessionTimeoutMs: num('KAFKA_SESSION_TIMEOUT_MS', env.KAFKA_SESSION_TIMEOUT_MS) } : {}), ...(env.KAFKA_COMMIT_INTERVAL_MS ? { commitIntervalMs: num('KAFKA_COMMIT_INTERVAL_MS', env.KAFKA_COMMIT_INTERVAL_MS) } : {}) } })
  if (env.DATABASE_URL) set({ store: { kind: 'postgres', url: env.DATABASE_URL, ...(env.DATABASE_SCHEMA ? { schema: env.DATABASE_SCHEMA } : {}) } })
  if (env.INFLUX_URL) set({ telemetry: { kind: 'influx', url: env.INFLUX_URL, token: env.INFLUX_TOKEN ?? '', org: env.INFLUX_ORG ?? 'yujing', bucket: env.INFLUX_BUCKET ?? 'yujing' } })
  if (env.YUJING_WEBHOOKS) {
    let hooks: unknown
    try { hooks = JSON.parse(env.YUJING_WEBHOOKS) } catch { throw new AppError('CONFIG_INVALID', 'YUJING_WEBHOOKS is not a JSON array') }
    set({ alerting: { webhooks: hooks } })
  }
  return c as Json
}

function fromCli(o: CliOverrides, cfg: Json): Json {
  let c: unknown = cfg
  const set = (patch: Json): void => { c = mergeConfig(c, patch) }
  if (o.roles) set({ roles: parseRoles(o.roles) })
  if (o.dataDir) set({ dataDir: o.dataDir })
  if (o.registry) set({ registryFile: o.registry, demo: false })
  if (o.port !== undefined) set({ http: { port: o.port } })
  if (o.mqttPort !== undefined) set({ mqtt: { port: o.mqttPort } })
  if (o.simulate !== undefined) set({ simulate: o.simulate })
  if (o.rate !== undefined) set({ simulateRate: o.rate })
  return c as Json
}

export function loadConfig(cli: CliOverrides = {}, env: NodeJS.ProcessEnv = process.env): Config {
  let c: unknown = defaultConfig()
  const file = cli.config ?? env.YUJING_CONFIG
  if (file) {
    let parsed: unknown
    try {
      const text = readFileSync(file, 'utf8')
      parsed = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text)
    } catch (err) {
      throw new AppError('CONFIG_INVALID', `cannot read config file ${file}: ${(err as Error).message}`, { cause: err })
    }
    if (!isObject(parsed)) throw new AppError('CONFIG_INVALID', `config file ${file} must hold an object`)
    if (typeof parsed.registryFile === 'string' && parsed.demo === undefined) parsed.demo = false
    c = mergeConfig(c, parsed)
  }
  c = fromEnv(env, c as Json)
  c = fromCli(cli, c as Json)
  return validateConfig(c)
}

export function validateConfig(c: unknown): Config {
  if (!check.Check(c)) {
    const lines: string[] = []
    for (const e of check.Errors(c)) {
      const extra = (e.params as { additionalProperties?: string[] }).additionalProperties
      if (e.keyword === 'boolean') continue
      lines.push(`  ${e.instancePath || '/'}: ${extra ? `unknown key "${extra.join('", "')}"` : e.message}`)
      if (lines.length >= 10) break
    }
    throw new AppError('CONFIG_INVALID', `configuration is invalid:\n${[...new Set(lines)].join('\n')}`)
  }
  return c
}
