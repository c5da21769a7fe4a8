// The only switch on adapter kind: heavy clients load only when their adapter is selected.
import type { Config } from '../core/config/config-schema.js'
import type { Bus } from '../core/bus/bus.js'
import { topics } from '../core/contracts/topics.js'
import type { ReadingBatch } from '../core/contracts/reading.js'
import type { Stores, TelemetryStore } from '../core/store/ports.js'
import type { Logger } from '../core/runtime/logger.js'
import type { Metrics } from '../core/runtime/metrics.js'

export async function createBus(cfg: Config['bus'], deps: { logger: Logger; metrics: Metrics; instanceId: string }): Promise<Bus> {
  switch (cfg.kind) {
    case 'memory': {
      const { createMemoryBus } = await import('../core/bus/memory-bus.js')
      return createMemoryBus({
        highWaterMark: cfg.highWaterMark,
        weigh: (topic, msg) => (topic === topics.readings.name ? (msg as Partial<ReadingBatch>).items?.length ?? 1 : 1),
        onDeadLetter: (l) => deps.logger.error({ topic: l.topic, key: l.key, error: l.error, attempts: l.attempts }, 'message dead-lettered'),
      })
    }
    case 'kafka': {
      const { createKafkaBus } = await import('../core/bus/kafka-bus.js')
      return createKafkaBus({
        brokers: cfg.brokers,
        clientId: `${cfg.clientId}-${deps.instanceId}`,
        topicPrefix: cfg.topicPrefix,
        partitions: cfg.partitions,
        replicationFactor: cfg.replicationFactor,
        ...(cfg.sessionTimeoutMs !== undefined ? { sessionTimeoutMs: cfg.sessionTimeoutMs } : {}),
        ...(cfg.commitIntervalMs !== undefined ? { commitIntervalMs: cfg.commitIntervalMs } : {}),
        logger: deps.logger,
        // `<topic>.dlq` is the contract's rejection stream for readings; the bus's own dead letters
        // (messages a consumer kept failing on) go to `<topic>.deadletter`.
        deadLetterTopic: (name) => `${name}.deadletter`,
        onDeadLetter: (l) => deps.logger.error({ topic: l.topic, key: l.key, error: l.error, attempts: l.attempts }, 'message dead-lettered'),
      })
    }
  }
}

export async function openStores(cfg: Config, deps: { logger: Logger; metrics: Metrics }): Promise<Stores> {
  const { openSqliteStores } = await import('../core/store/sqlite-stores.js')
  if (cfg.store.kind === 'sqlite' && cfg.telemetry.kind === 'sqlite') return openSqliteStores({ dataDir: cfg.dataDir, logger: deps.logger, telemetryWorker: true, walCheckpointWorker: true })
  // Telemetry: InfluxDB when configured, else the embedded SQLite history in the data directory.
  let telemetry: TelemetryStore
  let embedded: Stores | undefined
  if (cfg.telemetry.kind === 'influx') {
    const { createInfluxTelemetry } = await import('../core/store/influx-telemetry.js')
    telemetry = createInfluxTelemetry({ url: cfg.telemetry.url, token: cfg.telemetry.token, org: cfg.telemetry.org, bucket: cfg.telemetry.bucket, logger: deps.logger })
  } else {
    embedded = await openSqliteStores({ dataDir: cfg.dataDir, logger: deps.logger, telemetryWorker: true, walCheckpointWorker: true })
    telemetry = embedded.telemetry
  }
  if (cfg.store.kind === 'postgres') {
    const { openPostgresStores } = await import('../core/store/postgres-stores.js')
    const pg = await openPostgresStores({ url: cfg.store.url, ...(cfg.store.schema ? { schema: cfg.store.schema } : {}), telemetry, logger: deps.logger })
    if (!embedded) return pg
    const closePg = pg.close.bind(pg)
    return { ...pg, close: async () => { await closePg(); await embedded!.close() } }
  }
  // SQLite for warnings and registry, InfluxDB for readings.
  const sqlite = embedded ?? (await openSqliteStores({ dataDir: cfg.dataDir, logger: deps.logger, telemetryWorker: true, walCheckpointWorker: true }))
  const closeSqlite = sqlite.close.bind(sqlite)
  return {
    ...sqlite,
    telemetry,
    health: () => sqlite.health(),
    close: async () => { await telemetry.close(); await closeSqlite() },
  }
}
