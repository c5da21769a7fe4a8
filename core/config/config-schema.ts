// One typed configuration. Defaults are the embedded one-process mode; every field can come from a
// config file (YAML/JSON), and the listed environment variables and CLI flags override it.
import Type, { type Static } from 'typebox'

const closed = { additionalProperties: false } as const
const Port = Type.Integer({ minimum: 0, maximum: 65535 })

export const ROLES = ['ingest', 'rules', 'alerting', 'dashboard'] as const
export const Role = Type.Enum(ROLES)
export type Role = (typeof ROLES)[number]

export const Webhook = Type.Object({
  url: Type.String({ pattern: '^https?://' }),
  minLevel: Type.Optional(Type.Integer({ minimum: 1, maximum: 4 })),
  headers: Type.Optional(Type.Record(Type.String(), Type.String())),
}, closed)

export const Config = Type.Object({
  roles: Type.Array(Role, { minItems: 1, description: 'Stages this process runs (YUJING_ROLES, --roles)' }),
  instanceId: Type.String({ description: 'Name of this process in logs, consumer groups and heartbeats (YUJING_INSTANCE)' }),
  dataDir: Type.String({ description: 'Embedded storage directory (YUJING_DATA_DIR, --data-dir)' }),
  registryFile: Type.Optional(Type.String({ description: 'Registry file, JSON or YAML (YUJING_REGISTRY, --registry)' })),
  demo: Type.Boolean({ description: 'Generate the demo province when no registry is given; allows demo passwords (YUJING_DEMO)' }),
  simulate: Type.Boolean({ description: 'Run the simulators in this process (YUJING_SIMULATE, --simulate)' }),
  simulateRate: Type.Number({ minimum: 1, description: 'Simulated readings per second (YUJING_SIM_RATE)' }),
  logLevel: Type.String({ description: 'pino level (LOG_LEVEL)' }),
  http: Type.Object({
    host: Type.String({ description: 'HTTP bind address (HOST)' }),
    port: Type.Union([Port], { description: 'HTTP port, 0 = pick a free one (PORT, --port)' }),
    tokenSecret: Type.Optional(Type.String({ minLength: 16, description: 'Token signing secret (YUJING_TOKEN_SECRET); generated and kept in the data dir when absent' })),
    tokenTtlSeconds: Type.Integer({ minimum: 60 }),
    corsOrigins: Type.Array(Type.String()),
    metricsPublic: Type.Boolean(),
    staticDir: Type.Optional(Type.String()),
    /** Base map under the deck.gl layers: none (offline, default), a MapLibre style/tile URL (e.g. a local 天地图 or OSM tile server), or mapbox with a token. */
    map: Type.Object({
      kind: Type.Union([Type.Literal('none'), Type.Literal('maplibre'), Type.Literal('mapbox')], { description: 'YUJING_MAP (none | maplibre | mapbox)' }),
      style: Type.Optional(Type.String({ description: 'Style URL (YUJING_MAP_STYLE)' })),
      tiles: Type.Optional(Type.String({ description: 'Raster tile URL template with {z}/{x}/{y} (YUJING_MAP_TILES)' })),
      attribution: Type.Optional(Type.String()),
      token: Type.Optional(Type.String({ description: 'Mapbox access token (MAPBOX_TOKEN)' })),
    }, closed),
  }, closed),
  mqtt: Type.Union([
    Type.Object({
      mode: Type.Literal('embedded'),
      host: Type.String({ description: 'Embedded broker bind address (MQTT_HOST)' }),
      port: Type.Union([Port], { description: 'Embedded broker port, 0 = pick a free one (MQTT_PORT, --mqtt-port)' }),
      allowAnonymous: Type.Boolean({ description: 'Accept MQTT clients without credentials (demo only)' }),
    }, closed),
    Type.Object({
      mode: Type.Literal('external'),
      url: Type.String({ description: 'External broker (MQTT_URL)' }),
      username: Type.Optional(Type.String({ description: 'MQTT_USERNAME' })),
      password: Type.Optional(Type.String({ description: 'MQTT_PASSWORD' })),
      clientId: Type.String(),
      group: Type.String(),
      shared: Type.Boolean({ description: 'MQTT_SHARED (default true): $share/{group}/sensors/# so several ingest instances split the load; false = a plain persistent subscription for one ingest instance, which the broker keeps (and queues for) across its own restarts' }),
    }, closed),
  ]),
  bus: Type.Union([
    Type.Object({ kind: Type.Literal('memory'), highWaterMark: Type.Integer({ minimum: 100 }) }, closed),
    Type.Object({
      kind: Type.Literal('kafka'),
      brokers: Type.Array(Type.String(), { minItems: 1, description: 'KAFKA_BROKERS (comma-separated)' }),
      clientId: Type.String(),
      topicPrefix: Type.String(),
      partitions: Type.Integer({ minimum: 1 }),
      replicationFactor: Type.Integer({ minimum: 1 }),
      /** How long a silent consumer keeps its partitions (KAFKA_SESSION_TIMEOUT_MS): the bound on how long
       * a crashed rules instance's enterprises wait for another instance. */
      sessionTimeoutMs: Type.Optional(Type.Integer({ minimum: 6000, maximum: 300_000 })),
      /** How often consumers commit handled offsets (KAFKA_COMMIT_INTERVAL_MS, default 1000): at most this
       * much is handled again after a crash; committing after every batch costs a round trip per hop. */
      commitIntervalMs: Type.Optional(Type.Integer({ minimum: 10, maximum: 60_000 })),
    }, closed),
  ]),
  store: Type.Union([
    Type.Object({ kind: Type.Literal('sqlite') }, closed),
    Type.Object({
      kind: Type.Literal('postgres'),
      url: Type.String({ description: 'DATABASE_URL' }),
      schema: Type.Optional(Type.String({ pattern: '^[a-z_][a-z0-9_]*$', maxLength: 63, description: 'Schema holding the tables (DATABASE_SCHEMA), default "yujing"' })),
    }, closed),
  ]),
  telemetry: Type.Union([
    Type.Object({ kind: Type.Literal('sqlite') }, closed),
    Type.Object({
      kind: Type.Literal('influx'),
      url: Type.String({ description: 'INFLUX_URL' }),
      token: Type.String({ description: 'INFLUX_TOKEN' }),
      org: Type.String({ description: 'INFLUX_ORG' }),
      bucket: Type.String({ description: 'INFLUX_BUCKET' }),
    }, closed),
  ]),
  ingest: Type.Object({
    maxFutureSeconds: Type.Number({ minimum: 0 }),
    maxAgeSeconds: Type.Number({ minimum: 1 }),
    maxPayloadBytes: Type.Integer({ minimum: 256 }),
    defaultGatewayRate: Type.Number({ minimum: 1 }),
    heartbeatIntervalMs: Type.Integer({ minimum: 100 }),
    /** QoS 0 messages arriving while more readings than this wait for room on the bus are shed (counted
     * and recorded as `overloaded`); QoS 1 messages are held instead, unacknowledged. */
    qos0ShedAboveReadings: Type.Integer({ minimum: 1 }),
    /** Embedded broker: while more readings than this wait for room on the bus it stops reading from the
     * gateways (TCP backpressure), and reads again at half; default half of qos0ShedAboveReadings. */
    pauseReadingAboveReadings: Type.Optional(Type.Integer({ minimum: 1 })),
    /** yujing_readings_received_total by gateway (YUJING_METRICS_PER_GATEWAY). Off by default: one series per
     * gateway is unbounded cardinality for Prometheus and, at 10,000 gateways, a 30–60 ms /metrics render
     * that stalls the pipeline on every scrape. Gateway silence is watched by the offline rules either way. */
    metricsPerGateway: Type.Boolean(),
    /** fsync the embedded-mode ingest journal after every append: survives a power loss, not only a
     * process crash, at a large cost per message (YUJING_JOURNAL_FSYNC). */
    journalFsync: Type.Boolean(),
    /** How long a journal append may wait for others to share its write (and fsync), in ms
     * (YUJING_JOURNAL_GROUP_COMMIT_MS, default 2; 0 = one event-loop turn). Delays acknowledgements only. */
    journalGroupCommitMs: Type.Integer({ minimum: 0, maximum: 1000 }),
    /** The embedded-mode ingest journal (YUJING_JOURNAL, default on). Off only to measure what it buys:
     * without it a crash loses readings that were already acknowledged. */
    journal: Type.Boolean(),
  }, closed),
  rules: Type.Object({
    defaultMaxSilenceSeconds: Type.Number({ minimum: 1 }),
    offlineCheckIntervalMs: Type.Integer({ minimum: 100 }),
    platformSilenceSeconds: Type.Number({ minimum: 1 }),
  }, closed),
  alerting: Type.Object({
    ackTimeoutMinutes: Type.Object({ red: Type.Number(), orange: Type.Number(), yellow: Type.Number(), blue: Type.Number() }, closed),
    renotifyMinutes: Type.Object({ red: Type.Number(), orange: Type.Number(), yellow: Type.Number(), blue: Type.Number() }, closed),
    maintenanceMuteMinutes: Type.Number({ minimum: 0 }),
    webhooks: Type.Array(Webhook, { description: 'YUJING_WEBHOOKS (JSON array)' }),
  }, closed),
  retention: Type.Object({
    rawDays: Type.Number({ minimum: 1 }),
    aggregateDays: Type.Number({ minimum: 1 }),
    pruneIntervalMinutes: Type.Number({ minimum: 1 }),
  }, closed),
}, closed)
export type Config = Static<typeof Config>

export function defaultConfig(): Config {
  return {
    roles: [...ROLES],
    instanceId: 'yujing-1',
    dataDir: './data',
    demo: true,
    simulate: false,
    simulateRate: 200,
    logLevel: 'info',
    http: { host: '127.0.0.1', port: 8080, tokenTtlSeconds: 12 * 3600, corsOrigins: [], metricsPublic: true, map: { kind: 'none' } },
    mqtt: { mode: 'embedded', host: '127.0.0.1', port: 1883, allowAnonymous: false },
    bus: { kind: 'memory', highWaterMark: 50_000 },
    store: { kind: 'sqlite' },
    telemetry: { kind: 'sqlite' },
    ingest: { maxFutureSeconds: 300, maxAgeSeconds: 86_400, maxPayloadBytes: 512 * 1024, defaultGatewayRate: 5000, heartbeatIntervalMs: 1000, qos0ShedAboveReadings: 50_000, metricsPerGateway: false, journalFsync: false, journalGroupCommitMs: 2, journal: true },
    rules: { defaultMaxSilenceSeconds: 30, offlineCheckIntervalMs: 1000, platformSilenceSeconds: 15 },
    alerting: {
      ackTimeoutMinutes: { red: 5, orange: 15, yellow: 30, blue: 60 },
      renotifyMinutes: { red: 1, orange: 5, yellow: 15, blue: 30 },
      maintenanceMuteMinutes: 120,
      webhooks: [],
    },
    retention: { rawDays: 90, aggregateDays: 730, pruneIntervalMinutes: 60 },
  }
}
