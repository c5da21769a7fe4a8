// Readings: the MQTT payload a gateway sends (contracts.md §3) and the validated batch ingest puts on
// the bus. On the bus, times are epoch milliseconds; `receivedAt` is when ingest got the MQTT message.
import Type, { type Static } from 'typebox'
import { SensorType } from './registry.js'

export const QUALITIES = ['ok', 'fault', 'maintenance', 'calibrating'] as const
export const Quality = Type.Enum(QUALITIES)
export type Quality = (typeof QUALITIES)[number]

/** The fields of a reading as a gateway publishes it. */
const payloadFields = {
  ts: Type.Union([Type.String({ maxLength: 64 }), Type.Number()]),
  value: Type.Number(),
  type: Type.Optional(Type.String({ maxLength: 64 })),
  unit: Type.Optional(Type.String({ maxLength: 32 })),
  quality: Type.Optional(Quality),
  seq: Type.Optional(Type.Integer({ minimum: 0 })),
}

/** One reading as published on `sensors/{enterpriseId}/{sensorId}`. */
export const ReadingPayload = Type.Object(payloadFields)
export type ReadingPayload = Static<typeof ReadingPayload>

/** One item of a batch published on `sensors/{enterpriseId}`. */
export const BatchItemPayload = Type.Object({ sensorId: Type.String({ minLength: 1, maxLength: 128 }), ...payloadFields })
export type BatchItemPayload = Static<typeof BatchItemPayload>
export const MAX_BATCH_ITEMS = 1000

/** A validated reading. */
export const Reading = Type.Object({
  sensorId: Type.String(),
  type: SensorType,
  ts: Type.Number({ description: 'reading time, epoch ms' }),
  value: Type.Number(),
  quality: Quality,
  seq: Type.Optional(Type.Integer()),
})
export type Reading = Static<typeof Reading>

/** What ingest publishes on `readings`: the valid readings of one MQTT message (key enterpriseId). */
export const ReadingBatch = Type.Object({
  enterpriseId: Type.String(),
  gatewayId: Type.String(),
  receivedAt: Type.Number({ description: 'when ingest received the MQTT message, epoch ms' }),
  items: Type.Array(Reading),
})
export type ReadingBatch = Static<typeof ReadingBatch>

export const REJECTION_REASONS = [
  'bad_json', 'bad_shape', 'missing_value', 'non_finite_value', 'bad_timestamp', 'timestamp_no_offset',
  'timestamp_in_future', 'timestamp_too_old', 'unknown_sensor', 'foreign_sensor', 'type_mismatch',
  'unit_mismatch', 'oversize_payload', 'batch_too_large', 'bad_topic', 'unknown_enterprise', 'rate_limited',
  'duplicate', 'topic_forbidden', 'overloaded',
] as const
export const RejectionReason = Type.Enum(REJECTION_REASONS)
export type RejectionReason = (typeof REJECTION_REASONS)[number]

/** A rejected reading (or whole message), on the `readingsDlq` topic and at /api/ingest/rejections. */
export const Rejection = Type.Object({
  id: Type.String(),
  at: Type.Number({ description: 'epoch ms' }),
  reason: RejectionReason,
  message: Type.String(),
  topic: Type.String(),
  gatewayId: Type.Optional(Type.String()),
  enterpriseId: Type.Optional(Type.String()),
  sensorId: Type.Optional(Type.String()),
  /** Index in the batch, when the message was a batch. */
  index: Type.Optional(Type.Integer()),
  /** The raw payload (or the batch item), truncated. */
  raw: Type.String(),
  /** How many readings this rejection stands for when more than one (e.g. rate_limited, batch_too_large). */
  count: Type.Optional(Type.Integer({ minimum: 1 })),
})
export type Rejection = Static<typeof Rejection>

/** Ingest's heartbeat: lets rules tell a silent sensor from a silent pipeline. */
export const IngestHeartbeat = Type.Object({
  instance: Type.String(),
  at: Type.Number({ description: 'epoch ms' }),
})
export type IngestHeartbeat = Static<typeof IngestHeartbeat>
