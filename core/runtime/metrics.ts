// Prometheus metrics: one registry per process, with every metric name defined here once.
import { Counter, Gauge, Registry } from 'prom-client'
import { createFastHistogram, type FastHistogram } from './fast-histogram.js'
import { registerProcessMetrics } from './process-metrics.js'

export interface Metrics {
  registry: Registry
  /** Labelled by `gateway` only when created with perGateway (10,000 gateways make /metrics a 50 ms render). */
  readingsReceived: TalliedCounter<string>
  readonly perGateway: boolean
  readingsAccepted: TalliedCounter<string>
  readingsRejected: Counter<'reason'>
  readingsDuplicate: Counter
  mqttMessages: TalliedCounter<'kind'>
  /** Times the embedded broker stopped reading from its clients because the pipeline was saturated. */
  ingestReadPauses: Counter
  ingestPending: Gauge
  /** Read when /metrics is scraped (values that change on every message are not pushed per message). */
  sources: { ingestPending: () => number }
  findings: Counter<'kind'>
  warningsRaised: Counter<'level' | 'kind'>
  warningChanges: Counter<'type'>
  notificationsSent: Counter<'channel' | 'result'>
  /** Time from MQTT arrival at ingest to the warning change being published. */
  arrivalToWarningSeconds: FastHistogram
  /** Labelled by `stage`. */
  stageLatencySeconds: FastHistogram
  busLag: Gauge
  telemetryBuffered: Gauge
  telemetryDropped: Counter
  historyBackpressure: Counter
  socketClients: Gauge
  sensorsOffline: Gauge
}

export function createMetrics(opts: { defaults?: boolean; perGateway?: boolean } = {}): Metrics {
  const perGateway = opts.perGateway === true
  const registry = new Registry()
  if (opts.defaults !== false) registerProcessMetrics(registry, 'yujing_process_')
  const r = [registry]
  const sources: Metrics['sources'] = { ingestPending: () => 0 }
  return {
    registry,
    sources,
    perGateway,
    readingsReceived: talliedCounter({ name: 'yujing_readings_received_total', help: `Readings received over MQTT (batch items counted one by one)${perGateway ? ', by gateway' : ''}`, labelNames: perGateway ? ['gateway'] : [], registers: r }),
    readingsAccepted: talliedCounter({ name: 'yujing_readings_accepted_total', help: 'Readings that passed validation and went on the bus', registers: r }),
    readingsRejected: new Counter({ name: 'yujing_readings_rejected_total', help: 'Readings rejected, by reason', labelNames: ['reason'], registers: r }),
    readingsDuplicate: new Counter({ name: 'yujing_readings_duplicate_total', help: 'Duplicate readings (same seq, or same sensor and ts) counted once', registers: r }),
    mqttMessages: talliedCounter({ name: 'yujing_mqtt_messages_total', help: 'MQTT messages received, by kind (single, batch, invalid, shed)', labelNames: ['kind'], registers: r }),
    ingestReadPauses: new Counter({ name: 'yujing_ingest_read_pauses_total', help: 'Times the embedded broker stopped reading from its clients (TCP backpressure) because the pipeline was saturated', registers: r }),
    ingestPending: new Gauge({ name: 'yujing_ingest_pending_messages', help: 'MQTT messages received and not yet acknowledged (held while the bus or journal cannot take them; bounded by the gateways\' in-flight windows)', registers: r, collect() { this.set(sources.ingestPending()) } }),
    findings: new Counter({ name: 'yujing_findings_total', help: 'Rule findings sent to alerting, by kind', labelNames: ['kind'], registers: r }),
    warningsRaised: new Counter({ name: 'yujing_warnings_raised_total', help: 'Warnings raised, by level and kind', labelNames: ['level', 'kind'], registers: r }),
    warningChanges: new Counter({ name: 'yujing_warning_changes_total', help: 'Warning changes, by event type', labelNames: ['type'], registers: r }),
    notificationsSent: new Counter({ name: 'yujing_notifications_total', help: 'Notifications, by channel and result', labelNames: ['channel', 'result'], registers: r }),
    arrivalToWarningSeconds: createFastHistogram({ name: 'yujing_arrival_to_warning_seconds', help: 'Time from MQTT arrival at ingest to the warning change published', buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: r }),
    stageLatencySeconds: createFastHistogram({ name: 'yujing_stage_latency_seconds', help: 'Time from MQTT arrival at ingest to the end of each stage', labelNames: ['stage'], buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5], registers: r }),
    busLag: new Gauge({ name: 'yujing_bus_lag', help: 'Messages waiting on the bus', registers: r }),
    telemetryBuffered: new Gauge({ name: 'yujing_telemetry_buffered', help: 'Readings buffered for the history store', registers: r }),
    telemetryDropped: new Counter({ name: 'yujing_telemetry_dropped_total', help: 'Readings the history store dropped (buffer full)', registers: r }),
    historyBackpressure: new Counter({ name: 'yujing_history_backpressure_total', help: 'Times the history writer held its consumer because the store was behind', registers: r }),
    socketClients: new Gauge({ name: 'yujing_socket_clients', help: 'Connected socket.io clients', registers: r }),
    sensorsOffline: new Gauge({ name: 'yujing_sensors_offline', help: 'Sensors currently offline', registers: r }),
  }
}

/** A metric's children by label value, each made once: prom-client hashes the labels on every
 *  `labels()` / `inc({…})` call, which is measurable at 100,000 calls a second. */
export function childrenByLabel<C>(make: (label: string) => C): (label: string) => C {
  const made = new Map<string, C>()
  return (label) => {
    let c = made.get(label)
    if (!c) { c = make(label); made.set(label, c) }
    return c
  }
}

/** A counter that can also be counted by tallies: plain numbers added to per message and folded into
 *  the counter when it is read (/metrics, get()). prom-client's inc() hashes the labels (an empty
 *  object too) on every call; ingest counts three times a message. */
export type TalliedCounter<L extends string> = Counter<L> & {
  /** A tally of the series with these label values (in labelNames order; none for an unlabelled counter). */
  tally(...labelValues: string[]): { inc(n?: number): void }
}

function talliedCounter<L extends string>(cfg: ConstructorParameters<typeof Counter<L>>[0]): TalliedCounter<L> {
  const tallies: { add(n: number): void; n: number }[] = []
  const c = new Counter<L>({
    ...cfg,
    collect() {
      for (const t of tallies) if (t.n) { const n = t.n; t.n = 0; t.add(n) }
    },
  }) as TalliedCounter<L>
  c.tally = (...labelValues: string[]) => {
    const child = labelValues.length ? c.labels(...labelValues) : c
    const t = { add: (n: number) => child.inc(n), n: 0 }
    tallies.push(t)
    return { inc: (n = 1) => { if (!(n >= 0)) throw new Error(`${cfg.name}: a counter cannot decrease (inc(${n}))`); t.n += n } }
  }
  return c
}
