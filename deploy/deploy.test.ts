// Checks the deployment files against the code they deploy: YAML parses; every environment variable set
// for a yujing process is one core/config/load-config.ts reads (and the result passes loadConfig);
// images' own variables match their image; entrypoints, commands, health paths and roles are real.
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { parseAllDocuments } from 'yaml'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { ROLES } from '../core/config/config-schema.js'
import { loadConfig } from '../core/config/load-config.js'

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 })

const root = resolve(fileURLToPath(new URL('..', import.meta.url)))
const read = (p: string): string => readFileSync(join(root, p), 'utf8')
type Json = Record<string, unknown>
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

// ---- what the code offers ------------------------------------------------------------------------
const appEnv = new Set([...read('core/config/load-config.ts').matchAll(/\benv\.([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]!))
/** Variables a yujing container may carry besides the app's own. */
const runtimeEnv = new Set(['NODE_ENV'])
/** Each third-party image's own variables. */
const imageEnv: { image: RegExp; allowed: RegExp }[] = [
  { image: /^apache\/kafka:/, allowed: /^(KAFKA_[A-Z0-9_]+|CLUSTER_ID)$/ },
  { image: /^postgres:/, allowed: /^POSTGRES_[A-Z_]+$/ },
  { image: /^influxdb:2/, allowed: /^DOCKER_INFLUXDB_INIT_[A-Z_]+$/ },
  { image: /^redis:/, allowed: /^$/ },
  { image: /^eclipse-mosquitto:2/, allowed: /^$/ },
]
const cliCommands = new Set([...read('app/cli.ts').matchAll(/\.command\('([a-z-]+)'\)/g)].map((m) => m[1]!))
const healthRoutes = new Set(readdirSync(join(root, 'dashboard/server/routes')).filter((f) => f.endsWith('.ts'))
  .flatMap((f) => [...read(`dashboard/server/routes/${f}`).matchAll(/app\.get\('([^']+)'/g)].map((m) => m[1]!)))

// ---- the deployment files -------------------------------------------------------------------------
function yamlFiles(dir: string): string[] {
  return readdirSync(join(root, dir)).filter((f) => /\.ya?ml$/.test(f)).map((f) => `${dir}/${f}`)
}
function parseYaml(path: string): unknown[] {
  const docs = parseAllDocuments(read(path), { merge: true })
  const list = Array.isArray(docs) ? docs : [docs]
  for (const d of list) if (d.errors.length) throw new Error(`${path}: ${d.errors.map((e) => e.message).join('; ')}`)
  return list.map((d) => d.toJS({ maxAliasCount: -1 }) as unknown).filter((d) => d !== null)
}
const composeFiles = yamlFiles('deploy/compose')
const k8sFiles = yamlFiles('deploy/k8s')
const k8sDocs = k8sFiles.flatMap((f) => parseYaml(f).map((doc) => ({ file: f, doc: doc as Json })))

const envExample = new Map(read('deploy/compose/.env.example').split('\n')
  .filter((l) => /^[A-Z][A-Z0-9_]*=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const))

/** Compose interpolation: ${X}, ${X:-default}, ${X:?error}, and $$ for a literal $. */
function interpolate(s: string, vars: Map<string, string>): string {
  return s.replace(/\$\$|\$\{([A-Z_][A-Z0-9_]*)(?::([-?])([^}]*))?\}/g, (all, name: string | undefined, op: string | undefined, arg: string | undefined) => {
    if (all === '$$') return '$'
    const v = vars.get(name!)
    if (v !== undefined && v !== '') return v
    if (op === '-') return arg ?? ''
    throw new Error(`compose variable ${name} is not set (${arg ?? 'no default'})`)
  })
}

interface ComposeService { file: string; name: string; svc: Json; env: Record<string, string> }
function composeServices(): ComposeService[] {
  return composeFiles.flatMap((file) => {
    const doc = parseYaml(file)[0] as Json
    return Object.entries(doc.services as Json).map(([name, svc]) => {
      const s = svc as Json
      const raw = s.environment
      const env: Record<string, string> = {}
      if (Array.isArray(raw)) for (const l of raw as string[]) env[l.split('=')[0]!] = l.includes('=') ? l.slice(l.indexOf('=') + 1) : ''
      else if (isObj(raw)) for (const [k, v] of Object.entries(raw)) env[k] = String(v)
      return { file, name, svc: s, env }
    })
  })
}
const isYujing = (s: Json): boolean => 'build' in s || String(s.image ?? '').startsWith('yujing')

interface K8sContainer { file: string; deployment: string; c: Json; envNames: string[]; env: Record<string, string> }
function k8sContainers(): K8sContainer[] {
  const configMaps = new Map(k8sDocs.filter((d) => d.doc.kind === 'ConfigMap').map((d) => [(d.doc.metadata as Json).name as string, d.doc.data as Record<string, string>]))
  const secret = k8sDocs.find((d) => d.doc.kind === 'Secret')?.doc.stringData as Record<string, string> | undefined
  return k8sDocs.filter((d) => d.doc.kind === 'Deployment').flatMap(({ file, doc }) => {
    const pod = ((doc.spec as Json).template as Json).spec as Json
    return (pod.containers as Json[]).map((c) => {
      const envNames: string[] = []
      const env: Record<string, string> = {}
      for (const from of (c.envFrom as Json[] | undefined) ?? []) {
        const ref = (from.configMapRef as Json | undefined)?.name as string | undefined
        const data = ref ? configMaps.get(ref) : undefined
        if (ref && !data) throw new Error(`${file}: envFrom ConfigMap ${ref} is not defined in deploy/k8s`)
        for (const [k, v] of Object.entries(data ?? {})) { envNames.push(k); env[k] = v }
      }
      for (const e of (c.env as Json[] | undefined) ?? []) {
        const name = e.name as string
        envNames.push(name)
        const from = e.valueFrom as Json | undefined
        const secretKey = (from?.secretKeyRef as Json | undefined)?.key as string | undefined
        if (secretKey !== undefined) {
          if (secret?.[secretKey] === undefined) throw new Error(`${file}: secret key ${secretKey} is not in secret.example.yaml`)
          env[name] = secret[secretKey]
        } else env[name] = from ? `${(doc.metadata as Json).name as string}-pod-1` : String(e.value)
      }
      return { file, deployment: (doc.metadata as Json).name as string, c, envNames, env }
    })
  })
}

// Dockerfile instructions (continuation lines joined).
const dockerfile = read('deploy/docker/Dockerfile').replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
const instr = (name: string): string[] => dockerfile.filter((l) => l.startsWith(`${name} `)).map((l) => l.slice(name.length + 1).trim())

describe('deployment files', () => {
  it('read the app\'s environment variables and routes from the source (so the checks below are not vacuous)', () => {
    for (const v of ['YUJING_ROLES', 'YUJING_INSTANCE', 'KAFKA_BROKERS', 'DATABASE_URL', 'INFLUX_TOKEN', 'MQTT_URL', 'YUJING_TOKEN_SECRET', 'PORT']) expect(appEnv).toContain(v)
    expect(appEnv.has('KAFKA_BROKER')).toBe(false)
    expect(cliCommands).toContain('start')
    expect(healthRoutes).toContain('/api/health')
    expect(composeFiles).toEqual(expect.arrayContaining(['deploy/compose/all-in-one.yml', 'deploy/compose/scaled.yml']))
    expect(k8sFiles).toContain('deploy/k8s/kustomization.yaml')
  })

  it.each([...composeFiles, ...k8sFiles])('%s parses as YAML', (file) => {
    expect(parseYaml(file).length).toBeGreaterThan(0)
  })

  it('compose: every variable set on a yujing service is one the app reads; other images get only their own', () => {
    const services = composeServices()
    expect(services.filter((s) => isYujing(s.svc)).length).toBeGreaterThanOrEqual(5)
    for (const { file, name, svc, env } of services) {
      for (const k of Object.keys(env)) {
        if (isYujing(svc)) {
          expect(appEnv.has(k) || runtimeEnv.has(k), `${file} ${name}: ${k} is not read by core/config/load-config.ts`).toBe(true)
        } else {
          const rule = imageEnv.find((r) => r.image.test(String(svc.image)))
          expect(rule, `${file} ${name}: image ${String(svc.image)} has no allow-list`).toBeDefined()
          expect(rule!.allowed.test(k), `${file} ${name}: ${k} is not a variable of ${String(svc.image)}`).toBe(true)
        }
      }
    }
  })

  it('compose: each yujing service\'s environment (with .env.example) is a valid configuration', () => {
    for (const { file, name, svc, env } of composeServices().filter((s) => isYujing(s.svc))) {
      const resolved = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(v, envExample)]))
      const config = loadConfig({}, { ...resolved, YUJING_DATA_DIR: '/data', HOST: '0.0.0.0', MQTT_HOST: '0.0.0.0' })
      if (file.endsWith('scaled.yml')) {
        expect(config.bus.kind, `${name}`).toBe('kafka')
        expect(config.store.kind, `${name}`).toBe('postgres')
        expect(config.telemetry.kind, `${name}`).toBe('influx')
        expect(config.roles, `${name}: one role per service`).toEqual([name])
        expect(config.demo, `${name}: a real registry, never the demo`).toBe(false)
      }
      if (config.roles.includes('ingest') && file.endsWith('scaled.yml')) expect(config.mqtt.mode).toBe('external')
      if (config.roles.includes('dashboard') && file.endsWith('scaled.yml')) expect(config.http.tokenSecret).toBeDefined()
      void svc
    }
  })

  it('compose: .env.example holds exactly the variables the compose files require, and no real secret', () => {
    const text = composeFiles.map(read).join('\n')
    const required = new Set([...text.matchAll(/\$\{([A-Z_][A-Z0-9_]*):\?/g)].map((m) => m[1]!))
    expect(required.size).toBeGreaterThan(0)
    for (const r of required) expect(envExample.has(r), `.env.example lacks ${r}`).toBe(true)
    for (const k of envExample.keys()) expect(text.includes(`\${${k}`), `.env.example sets ${k}, which no compose file uses`).toBe(true)
    for (const [k, v] of envExample) if (/PASSWORD|SECRET|TOKEN/.test(k)) expect(v, k).toMatch(/change-me/)
  })

  it('k8s: every env name, envFrom ConfigMap key and ConfigMap key is one the app reads, and the result loads', () => {
    const containers = k8sContainers()
    expect(containers.length).toBe(ROLES.length)
    for (const { file, deployment, envNames, env } of containers) {
      for (const k of envNames) expect(appEnv.has(k) || runtimeEnv.has(k), `${file} ${deployment}: ${k} is not read by the app`).toBe(true)
      const config = loadConfig({}, { ...env, YUJING_DATA_DIR: '/data', HOST: '0.0.0.0' })
      expect(config.bus.kind).toBe('kafka')
      expect(config.store.kind).toBe('postgres')
      expect(config.telemetry.kind).toBe('influx')
      expect(config.instanceId).toBe(`${deployment}-pod-1`)
    }
    for (const { doc, file } of k8sDocs.filter((d) => d.doc.kind === 'ConfigMap')) {
      for (const k of Object.keys((doc.data as Json | undefined) ?? {})) expect(appEnv.has(k), `${file}: ConfigMap key ${k} is not read by the app`).toBe(true)
    }
  })

  it('k8s: kustomization lists files that exist, and every Deployment has probes and resources', () => {
    const kust = parseYaml('deploy/k8s/kustomization.yaml')[0] as Json
    for (const r of kust.resources as string[]) expect(existsSync(join(root, 'deploy/k8s', r)), r).toBe(true)
    expect(kust.resources as string[]).not.toContain('secret.example.yaml')
    const deployments = k8sDocs.filter((d) => d.doc.kind === 'Deployment').map((d) => d.file.replace('deploy/k8s/', ''))
    expect([...deployments].sort()).toEqual(k8sFiles.filter((f) => f.includes('deployment-')).map((f) => f.replace('deploy/k8s/', '')).sort())
    for (const d of deployments) expect(kust.resources as string[]).toContain(d)
    for (const { c, deployment } of k8sContainers()) {
      for (const p of ['livenessProbe', 'readinessProbe', 'startupProbe']) expect(c[p], `${deployment} ${p}`).toBeDefined()
      const res = c.resources as Json
      expect(isObj(res.requests) && isObj(res.limits), `${deployment} resources`).toBe(true)
    }
  })

  it('roles: every role named is one of core/config ROLES, and every role is deployed in compose and k8s', () => {
    const composeRoles = composeServices().flatMap((s) => (s.env.YUJING_ROLES ?? '').split(',').filter(Boolean))
    const k8sRoles = k8sContainers().flatMap((c) => (c.env.YUJING_ROLES ?? '').split(',').filter(Boolean))
    for (const r of [...composeRoles, ...k8sRoles]) expect(ROLES as readonly string[]).toContain(r)
    for (const r of ROLES) { expect(composeRoles).toContain(r); expect(k8sRoles).toContain(r) }
  })

  it('Dockerfile: ENTRYPOINT runs a file of the repo, CMD is a CLI command, ENV names are app settings', () => {
    const entry = JSON.parse(instr('ENTRYPOINT').at(-1)!) as string[]
    const cmd = JSON.parse(instr('CMD').at(-1)!) as string[]
    expect(entry[0]).toBe('node')
    expect(existsSync(join(root, entry[1]!)), entry[1]).toBe(true)
    expect(JSON.parse(read('package.json')).bin.yujing).toBe(entry[1])
    expect(cliCommands).toContain(cmd[0])
    const envNames = instr('ENV').flatMap((l) => [...l.matchAll(/([A-Z][A-Z0-9_]*)=/g)].map((m) => m[1]!))
    expect(envNames).toEqual(expect.arrayContaining(['YUJING_DATA_DIR', 'HOST', 'MQTT_HOST']))
    for (const k of envNames) expect(appEnv.has(k) || runtimeEnv.has(k), k).toBe(true)
    expect(instr('USER').at(-1)).not.toMatch(/^(root|0)$/)
    // Every file the runtime stage copies from the sources exists (dist/ and node_modules are built).
    for (const l of instr('COPY').filter((c) => c.startsWith('--from=build'))) {
      const src = l.split(/\s+/).find((w) => w.startsWith('/app/'))!.slice('/app/'.length)
      if (!['node_modules', 'dist', 'dashboard/web/dist'].includes(src)) expect(existsSync(join(root, src)), src).toBe(true)
    }
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
    for (const needed of ['bin', 'deploy/docker', 'package-lock.json', 'core', 'dashboard/web/src']) expect(ignored).not.toContain(needed)
  })

  it('entrypoints: compose and k8s start a real CLI command; probes and health checks use a real route', () => {
    const health = instr('HEALTHCHECK').at(-1)!
    const probeFile = /node", "([^"]+)"/.exec(health)?.[1]
    expect(probeFile && existsSync(join(root, probeFile)), health).toBe(true)
    expect(read(probeFile!)).toContain('/api/health')
    for (const { name, svc } of composeServices().filter((s) => isYujing(s.svc))) {
      const line = [svc.entrypoint, svc.command].flat().filter(Boolean).join(' ')
      const m = /bin\/yujing\.js (\S+)/.exec(line)
      const command = m ? m[1] : (svc.command as string[] | undefined)?.[0] ?? 'start'
      expect(cliCommands, `${name}: ${line}`).toContain(command)
    }
    for (const { c, deployment } of k8sContainers()) {
      expect(cliCommands, deployment).toContain((c.args as string[])[0])
      for (const p of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
        const probe = c[p] as Json
        const path = (probe.httpGet as Json | undefined)?.path as string | undefined
        if (path) expect(healthRoutes, `${deployment} ${p}`).toContain(path.split('?')[0])
        else expect((probe.exec as Json).command, `${deployment} ${p}`).toEqual(['node', probeFile])
      }
      const http = Object.values(c).some((v) => isObj(v) && isObj(v.httpGet))
      expect(http, `${deployment}: httpGet probes exactly when the role serves HTTP`).toBe((c.env as Json[]).some((e) => e.name === 'YUJING_ROLES' && String(e.value).split(',').includes('dashboard')))
    }
  })

  it('compose: the Mosquitto mounts match the paths deploy/mosquitto/mosquitto.conf names', () => {
    const conf = join(root, 'deploy/mosquitto/mosquitto.conf')
    if (!existsSync(conf)) return void console.warn('deploy/mosquitto/mosquitto.conf not written yet: mount check skipped')
    const text = readFileSync(conf, 'utf8')
    const mosq = composeServices().find((s) => s.name === 'mosquitto')!.svc
    const targets = (mosq.volumes as string[]).map((v) => v.split(':')[1]!)
    for (const key of ['password_file', 'acl_file']) {
      const path = new RegExp(`^\\s*${key}\\s+(\\S+)`, 'm').exec(text)?.[1]
      if (path) expect(targets, `${key} ${path}`).toContain(path)
    }
  })
})

// ---- the probe, against a real process --------------------------------------------------------------
const probePath = join(root, 'deploy/docker/probe.mjs')
function runProbe(env: Record<string, string>, args: string[] = []): Promise<{ code: number; out: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [probePath, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      res({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}${stderr}` })
    })
  })
}

describe('deploy/docker/probe.mjs', () => {
  const dirs: string[] = []
  const tmp = (): string => { const d = mkdtempSync(join(tmpdir(), 'yujing-deploy-')); dirs.push(d); return d }
  afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }) })
  const silent = pino({ level: 'silent' })

  it('dashboard role: passes while /api/health answers, fails once the process is gone', async () => {
    const { startSystem } = await import('../app/compose.js')
    const config = loadConfig({ dataDir: tmp(), port: 0, mqttPort: 0 }, { HOST: '127.0.0.1', MQTT_HOST: '127.0.0.1' })
    const system = await startSystem(config, { logger: silent })
    const env = { PORT: String(system.httpPort), YUJING_ROLES: 'ingest,rules,alerting,dashboard' }
    try {
      const live = await runProbe(env)
      expect(live.code, live.out).toBe(0)
      expect(live.out).toContain('/api/health answered 200')
      const ready = await runProbe(env, ['--ready'])
      expect(ready.out).toContain('/api/health?strict=1 answered')
    } finally {
      await system.stop()
    }
    const gone = await runProbe(env)
    expect(gone.code).toBe(1)
    expect(gone.out).toContain('fetch failed')
  })

  const brokers = process.env.KAFKA_BROKERS
  const required = process.env.CI === 'true' || process.env.YUJING_REQUIRE_SERVICES === '1'
  if (!brokers && required) it('headless role probe needs KAFKA_BROKERS', () => { throw new Error('KAFKA_BROKERS is not set (CI requires the Kafka probe test)') })
  it.skipIf(!brokers)('headless role (rules on Kafka): passes while its consumer is live, fails for another instance and after stop', async () => {
    const { startSystem } = await import('../app/compose.js')
    const run = `t${process.pid}${Date.now().toString(36)}`
    const env = { KAFKA_BROKERS: brokers!, KAFKA_TOPIC_PREFIX: `yujing.${run}.`, YUJING_INSTANCE: `rules-${run}`, YUJING_ROLES: 'rules' }
    const config = loadConfig({ dataDir: tmp(), port: 0, mqttPort: 0 }, env)
    const system = await startSystem(config, { logger: silent })
    try {
      let live = await runProbe(env)
      for (let i = 0; i < 20 && live.code !== 0; i++) { await new Promise((r) => setTimeout(r, 500)); live = await runProbe(env) }
      expect(live.code, live.out).toBe(0)
      expect(live.out).toContain(`yujing.${run}.registry-rules-${run}.registry.changed`)
      const other = await runProbe({ ...env, YUJING_INSTANCE: `rules-${run}-other` })
      expect(other.code).toBe(1)
      expect(other.out).toContain('no live member')
    } finally {
      await system.stop()
    }
    const after = await runProbe(env)
    expect(after.code, after.out).toBe(1)
  })
})
