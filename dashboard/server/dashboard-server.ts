// The dashboard server: fastify (HTTP API, OpenAPI at /docs, the built web client at /) and
// socket.io on the same port. Built without listening (fastify testing style); `start()` loads the
// live state and subscribes to the bus; it never changes a warning itself (commands go to alerting).
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import type { AddressInfo } from 'node:net'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import helmet from '@fastify/helmet'
import cors from '@fastify/cors'
import fastifyStatic from '@fastify/static'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Bus } from '../../core/bus/bus.js'
import type { RegistryHolder } from '../../core/registry/registry-holder.js'
import type { Stores } from '../../core/store/ports.js'
import type { Metrics } from '../../core/runtime/metrics.js'
import type { Logger } from '../../core/runtime/logger.js'
import type { Clock } from '../../core/runtime/clock.js'
import { AppError } from '../../core/runtime/errors.js'
import { createAuth, registerAuthHook } from './auth.js'
import { createCommandClient } from './command-client.js'
import { installErrorHandlers } from './http-errors.js'
import { createLiveView } from './live-view.js'
import type { LoginRateLimitOptions } from './login-rate-limit.js'
import { createRealtime } from './realtime.js'
import { createEnterpriseLevelIndex } from './enterprise-level-index.js'
import { createRegistryAdmin } from './registry-admin.js'
import type { HealthFn, RouteContext, TypedApp } from './routes/context.js'
import { enterpriseRoutes } from './routes/enterprises.js'
import { healthRoutes } from './routes/health.js'
import { loginRoutes } from './routes/login.js'
import { regionRoutes } from './routes/regions.js'
import { registryRoutes } from './routes/registry.js'
import { rejectionRoutes } from './routes/rejections.js'
import { sensorRoutes } from './routes/sensors.js'
import { statsRoutes } from './routes/stats.js'
import { warningRoutes } from './routes/warnings.js'
import { clientConfigRoutes, type BaseMapOption } from './routes/client-config.js'

export interface DashboardOptions {
  /** HMAC secret for session tokens (at least 16 characters); the composition root loads or generates it. */
  tokenSecret: string
  /** Session lifetime; default 12 h. */
  tokenTtlSeconds?: number
  /** Browser origins allowed cross-origin (HTTP and socket.io); default none = same origin only. */
  corsOrigins?: string[]
  /** GET /metrics without a token; default true (Prometheus scraping on a private network).
   * Set false when the port is reachable from untrusted networks: then /metrics needs a Bearer token. */
  metricsPublic?: boolean
  /** Base map for the web client; default none (offline, the registry's boundaries). Its origin must be in cspExtraOrigins. */
  baseMap?: BaseMapOption
  /** The built web client, served at / with SPA fallback when it contains index.html. */
  staticDir?: string
  /** Unique per dashboard process: its bus consumer group is `dashboard-<instanceId>`. */
  instanceId: string
  /** Coalescing period of socket `risk` and `readings` pushes; default 250 ms. */
  coalesceMs?: number
  /** Period of socket `stats` pushes; default 1000 ms. */
  statsIntervalMs?: number
  /** How long to wait for alerting to answer a command before 503; default 10 s. */
  commandTimeoutMs?: number
  /** Accept registry edits with default or weak plain passwords/tokens (the demo); default false. */
  allowWeakSecrets?: boolean
  /** Request body limit in bytes; default 1 MiB (PUT /api/registry: registryBodyLimit, default 32 MiB). */
  bodyLimit?: number
  registryBodyLimit?: number
  /** Trust X-Forwarded-For (behind a reverse proxy) for the client ip used by login throttling. */
  trustProxy?: boolean
  loginRateLimit?: LoginRateLimitOptions
  /** Extra origins for CSP connect-src / img-src (e.g. https://api.mapbox.com for mapbox tiles). */
  cspExtraOrigins?: string[]
}

export interface DashboardDeps {
  bus: Bus
  registry: RegistryHolder
  stores: Stores
  metrics: Metrics
  logger: Logger
  clock: Clock
  health: HealthFn
  options: DashboardOptions
}

export interface DashboardServer {
  app: FastifyInstance
  /** Loads warnings and risk from the stores and subscribes to the bus (idempotent). */
  start(): Promise<void>
  /** Listens (calls start() first if needed); returns the actual port (0 picks a free one). */
  listen(host: string, port: number): Promise<number>
  close(): Promise<void>
}

export async function createDashboardServer(deps: DashboardDeps): Promise<DashboardServer> {
  const { bus, registry, stores, metrics, logger, clock, options } = deps
  const auth = createAuth({
    secret: options.tokenSecret, clock, registry,
    ...(options.tokenTtlSeconds !== undefined ? { ttlSeconds: options.tokenTtlSeconds } : {}),
    ...(options.loginRateLimit ? { rateLimit: options.loginRateLimit } : {}),
  })
  const live = createLiveView({ bus, registry, stores, clock, logger, metrics, instanceId: options.instanceId })
  const levels = createEnterpriseLevelIndex(live, registry)
  const commands = createCommandClient({ bus, clock, instanceId: options.instanceId, ...(options.commandTimeoutMs !== undefined ? { timeoutMs: options.commandTimeoutMs } : {}) })
  const admin = createRegistryAdmin({ store: stores.registry, bus, clock, allowWeakSecrets: options.allowWeakSecrets ?? false })

  const fastify = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    trustProxy: options.trustProxy ?? false,
    return503OnClosing: true,
    forceCloseConnections: true,
    // One line per HTTP request drowns the pipeline's own logs at monitoring-centre rates; failed
    // requests are still logged by the error handler (http-errors.ts).
    logController: new LogController({ disableRequestLogging: true }),
  })
  fastify.setValidatorCompiler(TypeBoxValidatorCompiler)
  const app: TypedApp = fastify.withTypeProvider<TypeBoxTypeProvider>()

  const extra = options.cspExtraOrigins ?? []
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        workerSrc: ["'self'", 'blob:'],
        childSrc: ["'self'", 'blob:'],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'blob:', ...extra],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'", ...extra],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'self'"],
      },
    },
    // Served over plain HTTP on private networks too: do not force https upgrades or HSTS here.
    strictTransportSecurity: false,
  })
  await app.register(cors, { origin: options.corsOrigins?.length ? options.corsOrigins : false, credentials: false })
  await app.register(swagger, {
    openapi: {
      info: { title: 'yujing dashboard API', version: '1', description: 'Real-time safety-production risk monitoring (contracts.md §4). Times are ISO-8601 UTC with milliseconds; errors are {error: {code, message}}.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })

  const staticRoot = options.staticDir ? resolve(options.staticDir) : undefined
  const serveStatic = !!staticRoot && existsSync(resolve(staticRoot, 'index.html'))
  installErrorHandlers(app, { spaIndex: serveStatic })
  registerAuthHook(app, auth)

  const ctx: RouteContext = {
    auth, registry, stores, live, levels, commands, bus, metrics, clock, health: deps.health,
    metricsPublic: options.metricsPublic ?? true,
    allowWeakSecrets: options.allowWeakSecrets ?? false,
    registryBodyLimit: options.registryBodyLimit ?? 32 * 1024 * 1024,
  }
  healthRoutes(app, ctx)
  clientConfigRoutes(app, options.baseMap ?? { kind: 'none' })
  loginRoutes(app, ctx)
  regionRoutes(app, ctx)
  enterpriseRoutes(app, ctx)
  sensorRoutes(app, ctx, admin)
  warningRoutes(app, ctx)
  rejectionRoutes(app, ctx)
  statsRoutes(app, ctx)
  registryRoutes(app, ctx, admin)

  if (staticRoot && serveStatic) {
    await app.register(fastifyStatic, { root: staticRoot, wildcard: true, index: 'index.html', maxAge: '1h' })
  } else if (staticRoot) {
    logger.info({ staticDir: staticRoot }, 'web client not built (no index.html): serving the API only')
  }

  const realtime = createRealtime({
    httpServer: fastify.server, auth, registry, live, levels, clock, metrics, logger,
    options: {
      ...(options.coalesceMs !== undefined ? { coalesceMs: options.coalesceMs } : {}),
      ...(options.statsIntervalMs !== undefined ? { statsIntervalMs: options.statsIntervalMs } : {}),
      ...(options.corsOrigins ? { corsOrigins: options.corsOrigins } : {}),
    },
  })

  let started: Promise<void> | undefined
  let closing: Promise<void> | undefined
  fastify.addHook('preClose', async () => { await realtime.stop() })
  fastify.addHook('onClose', async () => { levels.stop(); await Promise.all([commands.stop(), live.stop()]) })

  const start = (): Promise<void> => {
    started ??= (async () => {
      await commands.start()
      await live.start()
      realtime.start()
    })()
    return started
  }

  return {
    app: fastify,
    start,
    async listen(host, port) {
      await start()
      try {
        await fastify.listen({ host, port })
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
          throw new AppError('PORT_IN_USE', `HTTP port ${port} is already in use (set PORT or --port; 0 picks a free port)`, { cause: err })
        }
        throw err
      }
      return (fastify.server.address() as AddressInfo).port
    },
    close() {
      closing ??= fastify.close()
      return closing
    },
  }
}
