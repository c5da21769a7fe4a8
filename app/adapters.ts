// The only switch on adapter kind: heavy clients load only when their adapter is selected.
import type { Config } from '../core/config/config-schema.js'
import type { Bus } from '../core/bus/bus.js'
import type { Stores } from '../core/store/ports.js'
import type { Logger } from '../core/runtime/logger.js'
import type { Metrics } from '../core/runtime/metrics.js'
import { AppError } from '../core/runtime/errors.js'

export async function createBus(cfg: Config['bus'], deps: { logger: Logger; metrics: Metrics; instanceId: string }): Promise<Bus> {
  switch (cfg.kind) {
    case 'memory': {
      const { createMemoryBus } = await import('../core/bus/memory-bus.js')
      return createMemoryBus({
        highWaterMark: cfg.highWaterMark,
        onDeadLetter: (l) => deps.logger.error({ topic: l.topic, key: l.key, error: l.error, attempts: l.attempts }, 'message dead-lettered'),
      })
    }
    case 'kafka':
      throw new AppError('CONFIG_INVALID', 'the Kafka bus is not available in this build (unset KAFKA_BROKERS to use the in-process bus)')
  }
}

export async function openStores(cfg: Config, deps: { logger: Logger; metrics: Metrics }): Promise<Stores> {
  if (cfg.store.kind !== 'sqlite' || cfg.telemetry.kind !== 'sqlite') {
    throw new AppError('CONFIG_INVALID', 'PostgreSQL and InfluxDB stores are not available in this build (unset DATABASE_URL / INFLUX_URL to use embedded storage)')
  }
  const { openSqliteStores } = await import('../core/store/sqlite-stores.js')
  return openSqliteStores({ dataDir: cfg.dataDir, logger: deps.logger })
}
