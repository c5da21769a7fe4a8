// The ingest stage: MQTT (embedded broker or external source) → decode → `readings` on the bus;
// rejections → `readingsDlq` and the RejectionStore; heartbeats on `heartbeats`. Bad input never stops
// it. A message is acknowledged (QoS 1) only after its batch was published on the bus.
import { hostname } from 'node:os'
import { performance } from 'node:perf_hooks'
import type { Bus } from '../core/bus/bus.js'
import { topics } from '../core/contracts/topics.js'
import type { ReadingBatch, Rejection } from '../core/contracts/reading.js'
import type { RegistryHolder } from '../core/registry/registry-holder.js'
import type { RejectionStore } from '../core/store/ports.js'
import { childrenByLabel, type Metrics } from '../core/runtime/metrics.js'
import type { Logger } from '../core/runtime/logger.js'
import type { Clock, TimerHandle } from '../core/runtime/clock.js'
import type { Stage } from '../core/runtime/stage.js'
import { errorMessage } from '../core/runtime/errors.js'
import type { ParsedTopic } from '../core/contracts/mqtt-topics.js'
import { decodeMessage, type DecodeContext, type DecodeResult } from './decode.js'
import { createDeduplicator } from './dedup.js'
import { createRateLimiter, registryRates, DEFAULT_GATEWAY_RATE } from './rate-limit.js'
import { createEmbeddedBroker, type EmbeddedBroker } from './embedded-broker.js'
import { createMqttSource, type MqttSource } from './mqtt-source.js'

export type IngestOptions = (
  | { mode: 'embedded'; host: string; port: number; allowAnonymous?: boolean }
  | { mode: 'external'; url: string; username?: string; password?: string; clientId: string; group: string; shared: boolean }
) & {
  /** Default 5 min. */
  maxFutureMs?: number
  /** Default 24 h. */
  maxAgeMs?: number
  /** Default 512 KiB. */
  maxPayloadBytes?: number
  /** Readings/s of a gateway without maxRate. Default 5000 (burst 2×). */
  defaultGatewayRate?: number
  /** Default 1000. */
  heartbeatIntervalMs?: number
  /** Instance name in heartbeats; default "{hostname}:{pid}". */
  instance?: string
  /** Rate-limited rejections kept (DLQ/store) per gateway per second, and overloaded ones per second in all; all are counted. Default 10. */
  rateLimitedKeptPerSecond?: number
  /** QoS 0 messages arriving while more readings than this wait for room on the bus are shed, counted and
   *  recorded as `overloaded` (QoS 0 is at most once; holding them would grow memory without bound under
   *  a flood). QoS 1 messages are held, unacknowledged, instead. Default 50,000. */
  qos0ShedAboveReadings?: number
  /** Embedded broker: while more readings than this wait for room on the bus, it stops reading from its
   *  clients (TCP backpressure: what gateways send, QoS 0 too, waits in their sockets instead of being
   *  read and shed); it reads again once they are down to half. Default: half of qos0ShedAboveReadings. */
  pauseReadingAboveReadings?: number
}

/** Made durable synchronously before a batch is published (and so before the QoS 1 PUBACK); throwing refuses the message. */
export interface IngestJournal {
  /** Queues the entry (group commit); throws when the journal is closed. */
  record(batch: ReadingBatch | null, rejections: readonly Rejection[]): void
  /** Resolves once everything recorded so far is written; the message is acknowledged only after it. */
  durable(): Promise<void>
}

export interface IngestDeps {
  bus: Bus
  registry: RegistryHolder
  rejections: RejectionStore
  metrics: Metrics
  logger: Logger
  clock: Clock
  options: IngestOptions
  /** Embedded mode: the crash-safety journal (see ingest/reading-journal.ts). */
  journal?: IngestJournal
}

export type IngestStage = Stage & {
  mqttPort(): number | undefined
  /** The message handler (what the broker/source calls); exposed for benchmarks and tests. QoS defaults to 1. */
  handle(gatewayId: string, topic: string, payload: Buffer, qos?: number, parsedTopic?: ParsedTopic): Promise<void>
}

export function createIngestStage(deps: IngestDeps): IngestStage {
  const { bus, registry, rejections: store, metrics, logger, clock, options } = deps
  const dedup = createDeduplicator()
  const limiter = createRateLimiter({
    defaultRate: options.defaultGatewayRate ?? DEFAULT_GATEWAY_RATE,
    rateOf: registryRates(registry, options.defaultGatewayRate ?? DEFAULT_GATEWAY_RATE),
  })
  let unsubscribeRegistry: (() => void) | undefined
  const ctxBase: Omit<DecodeContext, 'registry'> = {
    dedup,
    limiter,
    maxFutureMs: options.maxFutureMs,
    maxAgeMs: options.maxAgeMs,
    maxPayloadBytes: options.maxPayloadBytes,
  }
  const instance = options.instance ?? `${hostname()}:${process.pid}`
  const keptPerSecond = options.rateLimitedKeptPerSecond ?? 10
  const sampleCounts = new Map<string, { second: number; n: number }>()
  let decodeFailures = 0

  const received = childrenByLabel((gateway) => metrics.readingsReceived.tally(gateway))
  const receivedAll = metrics.perGateway ? undefined : metrics.readingsReceived.tally()
  const accepted = metrics.readingsAccepted.tally()
  const rejected = childrenByLabel((reason) => metrics.readingsRejected.labels(reason))
  const kinds = childrenByLabel((kind) => metrics.mqttMessages.tally(kind))
  const latency = metrics.stageLatencySeconds.labels('ingest')

  /** At most keptPerSecond per key and second pass (the rest are only counted). */
  function sampled(key: string, at: number): boolean {
    const second = Math.floor(at / 1000)
    let s = sampleCounts.get(key)
    if (!s || s.second !== second) {
      if (sampleCounts.size > 10_000) sampleCounts.clear()
      s = { second, n: 0 }
      sampleCounts.set(key, s)
    }
    return ++s.n <= keptPerSecond
  }
  /** Rate-limited rejections are sampled per gateway; every other one is kept. */
  const keep = (r: Rejection): boolean => r.reason !== 'rate_limited' || sampled(r.gatewayId ?? '', r.at)

  /** Into the rejection store and onto the dead-letter stream (not awaited: the message does not wait for it). */
  function keepRejections(kept: Rejection[]): void {
    for (const r of kept) {
      try {
        store.add(r)
      } catch (err) {
        logger.warn({ err: errorMessage(err) }, 'rejection store add failed')
      }
    }
    bus.publishMany(topics.readingsDlq, kept).catch((err: unknown) => logger.warn({ err: errorMessage(err) }, 'publishing rejections failed'))
  }

  let pending = 0
  metrics.sources.ingestPending = () => pending
  /** Readings decoded and waiting for their bus publish to resolve (the bus's backpressure). */
  let held = 0
  const shedAbove = Math.max(1, options.qos0ShedAboveReadings ?? 50_000)
  let shedSeq = 0
  /** One context for every message (the registry is refreshed per message: it can be replaced). */
  const ctx: DecodeContext = { ...ctxBase, registry: registry.current() }
  const pauseAbove = Math.max(1, options.pauseReadingAboveReadings ?? Math.floor(shedAbove / 2))
  const resumeAt = Math.floor(pauseAbove / 2)
  let readingPaused = false
  const readPauses = metrics.ingestReadPauses
  /** Called after held went up: from pauseAbove on, the embedded broker stops reading from its clients. */
  function saturatedNow(): void {
    if (readingPaused || held < pauseAbove || !broker) return
    readingPaused = true
    readPauses.inc()
    broker.pauseReading()
  }
  /** Called after held went down: at resumeAt, it reads again. */
  function relieved(): void {
    if (readingPaused && held <= resumeAt) { readingPaused = false; broker?.resumeReading() }
  }

  // Shedding must cost less than handling, or a flood of QoS 0 (10,000 connections can put millions of
  // readings in the kernel's socket buffers) keeps the process busy long after it stopped: counted per
  // message, and only a sample of them (10 a second in all) becomes a recorded rejection.
  const shedMessages = kinds('shed')
  const shedRejected = rejected('overloaded')
  function shed(gatewayId: string, topic: string, payload: Buffer, receivedAt: number): void {
    shedMessages.inc()
    shedRejected.inc()
    if (!sampled('\u0000overloaded', receivedAt)) return // one sample for all gateways
    const enterpriseId = registry.current().gateways.get(gatewayId)?.enterpriseId // the gateway's, not what its topic claims
    const r: Rejection = {
      id: `rj-${receivedAt.toString(36)}-s${(shedSeq = (shedSeq + 1) % 0x7fffffff).toString(36)}`, at: receivedAt, reason: 'overloaded',
      message: `QoS 0 message shed: the pipeline is saturated (${held} readings waiting for room on the bus, limit ${shedAbove}); publish with QoS 1 to be held until there is room`,
      topic, gatewayId, ...(enterpriseId ? { enterpriseId } : {}), raw: payload.subarray(0, 512).toString('utf8'),
    }
    try { deps.journal?.record(null, [r]) } catch { /* the journal is closing; the rejection is still counted and stored */ }
    keepRejections([r])
  }

  async function handle(gatewayId: string, topic: string, payload: Buffer, qos = 1, parsedTopic?: ParsedTopic): Promise<void> {
    pending++
    try {
      const t0 = performance.now()
      const receivedAt = clock.now()
      if (qos === 0 && held >= shedAbove) { shed(gatewayId, topic, payload, receivedAt); return }
      let res: DecodeResult
      try {
        ctx.registry = registry.current()
        res = decodeMessage({ topic, payload, gatewayId, receivedAt }, ctx, parsedTopic)
      } catch (err) {
        // decodeMessage must never throw; if it does, the message becomes a rejection instead of a poison
        // message the gateway would resend forever (a QoS 1 message that throws is never acknowledged).
        logger.error({ err: errorMessage(err), gateway: gatewayId, topic }, 'decoder failed on a message; rejected as bad_shape')
        res = { batch: null, duplicates: 0, received: 1, kind: 'invalid', rejections: [{
          id: `rj-${receivedAt.toString(36)}-x${(decodeFailures++).toString(36)}`, at: receivedAt, reason: 'bad_shape',
          message: `payload could not be decoded: ${errorMessage(err).slice(0, 200)}`, topic, gatewayId,
          raw: payload.subarray(0, 512).toString('utf8'),
        }] }
      }
      kinds(res.kind).inc()
      if (receivedAll) receivedAll.inc(res.received)
      else received(gatewayId).inc(res.received)
      if (res.duplicates) metrics.readingsDuplicate.inc(res.duplicates)
      let kept: Rejection[] | undefined
      for (const r of res.rejections) {
        rejected(r.reason).inc(r.count ?? 1)
        if (keep(r)) (kept ??= []).push(r)
      }
      // Journal first (queued; written with this event-loop turn's other messages): the message is
      // acknowledged only once its entry is written, and if the write fails it is not acknowledged.
      const journaled = deps.journal && (res.batch || kept) ? (deps.journal.record(res.batch, kept ?? []), true) : false
      // Both publishes are enqueued synchronously (per-key order holds across concurrent messages).
      const pBatch = res.batch ? bus.publish(topics.readings, res.batch) : undefined
      if (kept) keepRejections(kept)
      if (pBatch) {
        const n = res.batch!.items.length
        held += n
        saturatedNow()
        try {
          await pBatch
        } catch (err) {
          // Not acknowledged, so the gateway will send it again: that copy must not count as a duplicate.
          for (const r of res.batch!.items) dedup.unmark(r.sensorId, r.seq, r.ts)
          throw err
        } finally {
          held -= n
          relieved()
        }
        accepted.inc(n)
      }
      if (journaled) await deps.journal!.durable()
      latency.observe((performance.now() - t0) / 1000)
    } finally {
      pending--
    }
  }

  let broker: EmbeddedBroker | undefined
  let source: MqttSource | undefined
  let heartbeat: TimerHandle | undefined
  let stopped = false

  const beat = (): void => {
    bus.publish(topics.heartbeats, { instance, at: clock.now() })
      .catch((err: unknown) => logger.warn({ err: errorMessage(err) }, 'heartbeat publish failed'))
  }

  return {
    name: 'ingest',
    handle,
    mqttPort: () => broker?.port,
    async start() {
      stopped = false
      unsubscribeRegistry = registry.onChange(() => limiter.reset())
      if (options.mode === 'embedded') {
        broker = await createEmbeddedBroker({
          host: options.host, port: options.port, registry, allowAnonymous: options.allowAnonymous, onPublish: handle, logger,
        })
      } else {
        source = await createMqttSource({
          url: options.url, username: options.username, password: options.password, clientId: options.clientId,
          group: options.group, shared: options.shared, onMessage: handle, logger,
        })
      }
      beat()
      heartbeat = clock.setInterval(beat, options.heartbeatIntervalMs ?? 1000)
    },
    async stop() {
      if (stopped) return
      stopped = true
      if (heartbeat) clock.clear(heartbeat)
      heartbeat = undefined
      unsubscribeRegistry?.()
      await broker?.close()
      await source?.close()
    },
    health() {
      if (broker) return { ok: true, detail: `embedded MQTT on port ${broker.port}, ${broker.clients()} clients` }
      if (source) return source.connected() ? { ok: true, detail: 'connected to external MQTT' } : { ok: false, detail: 'external MQTT disconnected' }
      return { ok: false, detail: 'not started' }
    },
  }
}
