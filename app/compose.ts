// The composition root: config → stores → bus → registry → stages by role, started consumers first
// and stopped in reverse so nothing taken is lost. The only module that imports the stages.
import { randomBytes } from 'node:crypto'
import type { Config } from '../core/config/config-schema.js'
import { topics } from '../core/contracts/topics.js'
import { indexRegistry } from '../core/registry/registry-index.js'
import { createRegistryHolder, type RegistryHolder } from '../core/registry/registry-holder.js'
import { systemClock, type Clock } from '../core/runtime/clock.js'
import { createLogger, stageLogger, type Logger } from '../core/runtime/logger.js'
import { createMetrics, type Metrics } from '../core/runtime/metrics.js'
import type { Stage } from '../core/runtime/stage.js'
import type { Bus } from '../core/bus/bus.js'
import type { Stores } from '../core/store/ports.js'
import { createBus, openStores } from './adapters.js'
import { bootstrapRegistry } from './registry-bootstrap.js'
import { createHistoryWriter } from './history-writer.js'
import { startOpsServer, type OpsServer } from './ops-server.js'
import { createDurableIngest, type DurableIngest, type DurableIngestOptions } from './durable-ingest.js'
import { createIngestStage } from '../ingest/ingest-stage.js'
import { createRulesStage } from '../rules/rules-stage.js'
import { createAlertingStage } from '../alerting/alerting-stage.js'
import { createDashboardServer } from '../dashboard/server/dashboard-server.js'
import type { BaseMapOption } from '../dashboard/server/routes/client-config.js'
import { AppError } from '../core/runtime/errors.js'
import { createSimulator } from '../simulators/simulator.js'
import { DEMO_USERS } from '../simulators/demo-province.js'

export interface RunningSystem {
  config: Config
  logger: Logger
  metrics: Metrics
  bus: Bus
  stores: Stores
  registry: RegistryHolder
  httpPort?: number
  mqttPort?: number
  health(): HealthReport
  stop(): Promise<void>
}

export interface HealthReport { status: 'ok' | 'degraded'; checks: Record<string, { ok: boolean; detail?: string }> }

/** The token secret: configured, or kept in the KV store so every dashboard instance on the same store
 *  signs and verifies with the same one. Two instances creating it at once: the re-read after a short
 *  settle makes both use the one that was written last (set YUJING_TOKEN_SECRET to avoid the race). */
async function tokenSecret(cfg: Config, stores: Stores): Promise<string> {
  if (cfg.http.tokenSecret) return cfg.http.tokenSecret
  const s = await stores.kv.get('auth.tokenSecret')
  if (s) return s
  await stores.kv.set('auth.tokenSecret', randomBytes(32).toString('base64url'))
  if (cfg.store.kind !== 'sqlite') await new Promise((r) => setTimeout(r, 300))
  return (await stores.kv.get('auth.tokenSecret'))!
}

export interface StartOptions {
  clock?: Clock
  logger?: Logger
  /**
   * The embedded-mode ingest journal (crash safety): on by default with the in-process bus when this
   * process runs both ingest and rules (history); `false` turns it off (benchmarks).
   */
  journal?: DurableIngestOptions | false
}

export async function startSystem(config: Config, opts: StartOptions = {}): Promise<RunningSystem> {
  const clock = opts.clock ?? systemClock()
  const logger = opts.logger ?? createLogger({ level: config.logLevel })
  const metrics = createMetrics({ perGateway: config.ingest.metricsPerGateway })
  const roles = new Set(config.roles)
  const stages: Stage[] = []
  const started: Stage[] = []
  let stopping: Promise<void> | undefined

  const stores = await openStores(config, { logger: stageLogger(logger, 'store'), metrics })
  const rawBus = await createBus(config.bus, { logger: stageLogger(logger, 'bus'), metrics, instanceId: config.instanceId })
  // With Kafka, Kafka is the durable log; the in-process bus needs the journal to survive a crash.
  const durable: DurableIngest | undefined = rawBus.kind === 'memory' && roles.has('ingest') && roles.has('rules') && opts.journal !== false && config.ingest.journal
    ? createDurableIngest({ bus: rawBus, rejections: stores.rejections, dataDir: config.dataDir, clock, logger: stageLogger(logger, 'journal'), options: opts.journal || { fsync: config.ingest.journalFsync, groupCommitMs: config.ingest.journalGroupCommitMs } })
    : undefined
  if (rawBus.kind === 'memory' && roles.has('ingest') && roles.has('rules') && !config.ingest.journal) {
    logger.warn('ingest journal off (YUJING_JOURNAL=0): a crash loses readings that were already acknowledged')
  }
  const bus = durable?.bus ?? rawBus
  const boot = await bootstrapRegistry({ registryFile: config.registryFile, demo: config.demo, store: stores.registry, kv: stores.kv, logger: stageLogger(logger, 'registry') })
  const registry = createRegistryHolder(indexRegistry(boot.doc, boot.version))
  const registrySub = await bus.subscribe(topics.registryChanged, { group: `registry-${config.instanceId}` }, async (msg) => {
    const loaded = await stores.registry.load()
    if (loaded && loaded.version >= msg.version && loaded.version !== registry.current().version) {
      registry.set(indexRegistry(loaded.doc, loaded.version))
      logger.info({ version: loaded.version, by: msg.by }, 'registry reloaded')
    }
  })
  const lagTimer = clock.setInterval(() => metrics.busLag.set(bus.lag()), 1000)

  const deps = { bus, registry, metrics, clock }
  let ingest: ReturnType<typeof createIngestStage> | undefined
  let dashboard: Awaited<ReturnType<typeof createDashboardServer>> | undefined
  let ops: OpsServer | undefined

  const health = (): HealthReport => {
    const checks: HealthReport['checks'] = { bus: bus.health(), store: stores.health() }
    for (const s of started) if (s.health) checks[s.name] = s.health()
    const ok = Object.values(checks).every((c) => c.ok)
    return { status: ok ? 'ok' : 'degraded', checks }
  }

  if (roles.has('alerting')) {
    stages.push(createAlertingStage({
      ...deps, logger: stageLogger(logger, 'alerting'), stores: { warnings: stores.warnings, risk: stores.risk, kv: stores.kv },
      options: {
        ackTimeoutMs: minutesByLevel(config.alerting.ackTimeoutMinutes),
        renotifyMs: minutesByLevel(config.alerting.renotifyMinutes),
        maintenanceMuteMs: config.alerting.maintenanceMuteMinutes * 60_000,
        webhooks: config.alerting.webhooks,
      },
    }))
  }
  if (roles.has('rules')) {
    stages.push(createRulesStage({
      ...deps, logger: stageLogger(logger, 'rules'),
      // Open warnings rebuild the condition state of enterprises taken over from another rules instance.
      openWarnings: () => stores.warnings.notClosed(),
      options: {
        defaultMaxSilenceSeconds: config.rules.defaultMaxSilenceSeconds,
        offlineCheckIntervalMs: config.rules.offlineCheckIntervalMs,
        platformSilenceMs: config.rules.platformSilenceSeconds * 1000,
        instance: config.instanceId,
        // Over Kafka each rules instance owns the enterprises of its partitions only.
        partitioned: bus.kind !== 'memory',
      },
    }))
    stages.push(createHistoryWriter({
      bus, telemetry: stores.telemetry, clock, logger: stageLogger(logger, 'history'), metrics,
      options: { ...config.retention, group: 'history' },
      ...(durable ? { checkpoint: durable.historyCheckpoint } : {}),
    }))
  }
  if (roles.has('ingest')) {
    const mq = config.mqtt
    ingest = createIngestStage({
      ...deps, logger: stageLogger(logger, 'ingest'), rejections: stores.rejections,
      ...(durable ? { journal: durable.journal } : {}),
      options: {
        ...(mq.mode === 'embedded'
          ? { mode: 'embedded' as const, host: mq.host, port: mq.port, allowAnonymous: mq.allowAnonymous }
          : { mode: 'external' as const, url: mq.url, username: mq.username, password: mq.password, clientId: mq.clientId, group: mq.group, shared: mq.shared }),
        maxFutureMs: config.ingest.maxFutureSeconds * 1000,
        maxAgeMs: config.ingest.maxAgeSeconds * 1000,
        maxPayloadBytes: config.ingest.maxPayloadBytes,
        defaultGatewayRate: config.ingest.defaultGatewayRate,
        heartbeatIntervalMs: config.ingest.heartbeatIntervalMs,
        qos0ShedAboveReadings: config.ingest.qos0ShedAboveReadings,
        pauseReadingAboveReadings: config.ingest.pauseReadingAboveReadings,
        instance: config.instanceId,
      },
    })
    if (durable) stages.push(durable.stage) // replays before ingest takes connections
    stages.push(ingest)
  }

  const stop = async (): Promise<void> => {
    stopping ??= (async () => {
      logger.info('stopping')
      await simulator?.stop().catch((err: unknown) => logger.error({ err }, 'simulator stop failed'))
      // Producers first (ingest stops taking readings), then let the bus drain into the consumers.
      for (const s of [...started].reverse()) {
        try { await s.stop() } catch (err) { logger.error({ err, stage: s.name }, 'stage stop failed') }
        if (s.name === 'ingest') await bus.drain(15_000).catch((err: unknown) => logger.warn({ err }, 'bus did not drain'))
      }
      await dashboard?.close().catch((err: unknown) => logger.error({ err }, 'dashboard close failed'))
      await ops?.close().catch(() => undefined)
      await registrySub.unsubscribe()
      clock.clear(lagTimer)
      await bus.drain(5_000).catch(() => undefined)
      await bus.close()
      await stores.close()
      logger.info('stopped')
    })()
    return stopping
  }

  let simulator: ReturnType<typeof createSimulator> | undefined
  try {
    for (const s of stages) { await s.start(); started.push(s) }
    let httpPort: number | undefined
    if (roles.has('dashboard')) {
      dashboard = await createDashboardServer({
        ...deps, logger: stageLogger(logger, 'dashboard'), stores, health,
        options: {
          tokenSecret: await tokenSecret(config, stores),
          tokenTtlSeconds: config.http.tokenTtlSeconds,
          corsOrigins: config.http.corsOrigins,
          metricsPublic: config.http.metricsPublic,
          staticDir: config.http.staticDir ?? 'dashboard/web/dist',
          instanceId: config.instanceId,
          allowWeakSecrets: config.demo,
          ...baseMapOptions(config.http.map),
        },
      })
      await dashboard.start()
      httpPort = await dashboard.listen(config.http.host, config.http.port)
      logger.info({ port: httpPort, url: `http://${config.http.host}:${httpPort}` }, 'dashboard listening')
    } else {
      // Processes without the dashboard still answer /api/health and /metrics (probes, scraping).
      ops = await startOpsServer({ host: config.http.host, port: config.http.port, metrics, health })
      httpPort = ops.port
      logger.info({ port: httpPort }, 'health and metrics listening')
    }
    const mqttPort = ingest?.mqttPort()
    if (mqttPort !== undefined) logger.info({ port: mqttPort }, 'embedded MQTT broker listening')
    if (config.simulate) {
      const url = config.mqtt.mode === 'embedded' ? `mqtt://127.0.0.1:${mqttPort}` : config.mqtt.url
      simulator = createSimulator({ mqttUrl: url, registry: registry.current().doc, rate: config.simulateRate, scenarios: 'demo', seed: 42, logger: stageLogger(logger, 'simulator') })
      await simulator.start()
      logger.info({ rate: config.simulateRate }, 'simulator publishing the demo province')
    }
    // Readiness line for supervisors and the process harness (every role set logs it, with or without HTTP).
    if (config.demo && httpPort !== undefined && roles.has('dashboard')) {
      const logins = Object.entries(DEMO_USERS).map(([u, d]) => `${u} / ${d.password} (${d.role})`).join(', ')
      logger.info({ url: `http://${config.http.host}:${httpPort}`, logins }, 'demo province: open the dashboard and log in (demo passwords work only in the demo)')
    }
    logger.info({ roles: [...roles], instance: config.instanceId, bus: bus.kind, store: config.store.kind, telemetry: config.telemetry.kind, mqtt: config.mqtt.mode, ...(httpPort !== undefined ? { port: httpPort } : {}), ...(mqttPort !== undefined ? { mqttPort } : {}) }, 'yujing started')
    return { config, logger, metrics, bus, stores, registry, httpPort, mqttPort, health, stop }
  } catch (err) {
    await stop().catch(() => undefined)
    throw err
  }
}

function minutesByLevel(m: { red: number; orange: number; yellow: number; blue: number }): Record<1 | 2 | 3 | 4, number> {
  return { 1: m.red * 60_000, 2: m.orange * 60_000, 3: m.yellow * 60_000, 4: m.blue * 60_000 }
}

/** The client's base map and the origins the page's CSP must allow for it. */
function baseMapOptions(map: Config['http']['map']): { baseMap: BaseMapOption; cspExtraOrigins: string[] } {
  const origin = (u?: string): string[] => {
    if (!u) return []
    try { return [new URL(u.replace(/[{}]/g, '')).origin] } catch { return [] }
  }
  switch (map.kind) {
    case 'none': return { baseMap: { kind: 'none' }, cspExtraOrigins: [] }
    case 'maplibre':
      return {
        baseMap: { kind: 'maplibre', ...(map.style ? { style: map.style } : {}), ...(map.tiles ? { tiles: map.tiles } : {}), ...(map.attribution ? { attribution: map.attribution } : {}) },
        cspExtraOrigins: [...origin(map.style), ...origin(map.tiles)],
      }
    case 'mapbox':
      if (!map.token) throw new AppError('CONFIG_INVALID', 'http.map.kind "mapbox" needs a token (MAPBOX_TOKEN)')
      return {
        baseMap: { kind: 'mapbox', token: map.token, ...(map.style ? { style: map.style } : {}) },
        cspExtraOrigins: ['https://api.mapbox.com', 'https://events.mapbox.com', 'https://*.tiles.mapbox.com', ...origin(map.style)],
      }
  }
}
