// Decodes one MQTT message into a ReadingBatch plus rejections (contracts.md §3). Pure apart from
// the injected de-duplication memory and rate limiter; never throws on bad input: every rejected
// reading becomes a Rejection with a reason, a readable message and the raw text; the rest still passes.
import { MAX_BATCH_ITEMS, QUALITIES, type Quality, type Reading, type ReadingBatch, type Rejection, type RejectionReason } from '../core/contracts/reading.js'
import { SENSOR_UNITS, type Sensor } from '../core/contracts/registry.js'
import { parseSensorTopic, type ParsedTopic } from '../core/contracts/mqtt-topics.js'
import type { RegistryIndex } from '../core/registry/registry-index.js'
import type { Deduplicator } from './dedup.js'
import { TS_NO_OFFSET, parseIsoTimestamp } from './timestamp.js'

export interface DecodeInput {
  topic: string
  payload: Buffer
  gatewayId: string
  /** When ingest received the message, epoch ms; also "now" for the future/too-old checks. */
  receivedAt: number
}

/** Admission control (rate limit): how many of `n` readings a gateway may send now. */
export interface Admission {
  take(gatewayId: string, n: number, now: number): number
}

export interface DecodeContext {
  registry: RegistryIndex
  dedup: Deduplicator
  /** Default 5 minutes. */
  maxFutureMs?: number
  /** Default 24 hours. */
  maxAgeMs?: number
  /** Default 512 KiB. */
  maxPayloadBytes?: number
  limiter?: Admission
  /** Rejection ids; default `rj-<receivedAt base36>-<counter>`. */
  newId?: () => string
}

/** 'shed': a QoS 0 message not decoded because the pipeline was saturated (see the ingest stage). */
export type MessageKind = 'single' | 'batch' | 'invalid' | 'shed'

export interface DecodeResult {
  batch: ReadingBatch | null
  rejections: Rejection[]
  duplicates: number
  /** Readings the message carried (a batch's items one by one; 1 for a message that could not be split). */
  received: number
  kind: MessageKind
}

export const DEFAULT_MAX_FUTURE_MS = 5 * 60_000
export const DEFAULT_MAX_AGE_MS = 24 * 3_600_000
export const DEFAULT_MAX_PAYLOAD_BYTES = 512 * 1024
export const RAW_MAX_CHARS = 512

const NONFINITE_MARK = '\u0000'
let idCounter = 0

function truncate(s: string): string {
  return s.length > RAW_MAX_CHARS ? `${s.slice(0, RAW_MAX_CHARS)}…` : s
}

function rawOfPayload(payload: Buffer): string {
  return truncate(payload.subarray(0, RAW_MAX_CHARS * 4).toString('utf8'))
}

function rawOfItem(item: unknown): string {
  let s: string
  try {
    s = JSON.stringify(item) ?? String(item)
  } catch {
    // Deeply nested input overflows the stack in JSON.stringify and String() alike.
    try { s = String(item) } catch { s = Array.isArray(item) ? '[…]' : typeof item }
  }
  return truncate(s.replace(/"\\u0000(NaN|-?Infinity)"/g, '$1'))
}

function show(v: unknown): string {
  if (typeof v === 'string') {
    if (v.charCodeAt(0) === 0) return v.slice(1)
    return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)
  }
  if (v === undefined) return 'undefined'
  if (typeof v === 'number') return String(v)
  try {
    const s = JSON.stringify(v)
    return s.length > 40 ? `${s.slice(0, 40)}…` : s
  } catch {
    return typeof v
  }
}

/**
 * JSON has no NaN/Infinity, but gateways send them. To reject only the readings concerned (not the
 * whole batch), bare NaN/Infinity/-Infinity tokens outside strings are re-quoted as marked strings.
 */
function quoteNonFinite(text: string): string | null {
  let out = ''
  let last = 0
  let inStr = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inStr) {
      if (c === 92) i++
      else if (c === 34) inStr = false
      continue
    }
    if (c === 34) { inStr = true; continue }
    let tok = ''
    if (c === 78 && text.startsWith('NaN', i)) tok = 'NaN'
    else if (c === 73 && text.startsWith('Infinity', i)) tok = 'Infinity'
    else if (c === 45 && text.startsWith('-Infinity', i)) tok = '-Infinity'
    if (tok) {
      out += `${text.slice(last, i)}"\\u0000${tok}"`
      i += tok.length - 1
      last = i + 1
    }
  }
  return last === 0 ? null : out + text.slice(last)
}

function normalizeUnit(u: string): string {
  return u.trim().toLowerCase().replace(/\s+/g, '').replace(/[μµ]/g, 'u').replace(/³/g, '3').replace(/℃/g, '°c')
    .replace(/^deg(ree)?s?c$/, '°c').replace(/^ue$/, 'uε')
}

class Fail {
  constructor(readonly reason: RejectionReason, readonly message: string) {}
}

const QUALITY_SET: ReadonlySet<string> = new Set(QUALITIES)

interface Limits { now: number; maxFuture: number; maxAge: number }

function checkTs(ts: unknown, lim: Limits): number | Fail {
  let t: number
  if (typeof ts === 'number') {
    if (!Number.isFinite(ts)) return new Fail('bad_timestamp', `ts ${ts} is not a finite number (use epoch milliseconds or ISO-8601 with an offset)`)
    t = ts
  } else if (typeof ts === 'string') {
    if (ts.charCodeAt(0) === 0) return new Fail('bad_timestamp', `ts ${ts.slice(1)} is not a time (use epoch milliseconds or ISO-8601 with an offset)`)
    t = parseIsoTimestamp(ts)
    if (t === TS_NO_OFFSET) return new Fail('timestamp_no_offset', `ts ${show(ts)} has no UTC offset: add "Z" or e.g. "+08:00"`)
    if (Number.isNaN(t)) {
      const hint = /^\d+(\.\d+)?$/.test(ts) ? ' (send epoch milliseconds as a JSON number, not a string)' : ''
      return new Fail('bad_timestamp', `ts ${show(ts)} is not ISO-8601 with an offset or epoch milliseconds${hint}`)
    }
  } else if (ts === undefined) {
    return new Fail('bad_timestamp', 'ts is missing (ISO-8601 with an offset, or epoch milliseconds)')
  } else {
    return new Fail('bad_timestamp', `ts ${show(ts)} must be an ISO-8601 string with an offset or epoch milliseconds`)
  }
  if (t > lim.now + lim.maxFuture) {
    return new Fail('timestamp_in_future', `ts ${show(ts)} is ${Math.round((t - lim.now) / 1000)} s ahead of the server clock (limit ${Math.round(lim.maxFuture / 1000)} s)`)
  }
  if (t < lim.now - lim.maxAge) {
    const secs = typeof ts === 'number' && Math.abs(ts * 1000 - lim.now) < lim.maxAge ? ' — it looks like epoch seconds; ts must be epoch milliseconds' : ''
    return new Fail('timestamp_too_old', `ts ${show(ts)} is ${Math.round((lim.now - t) / 1000)} s behind the server clock (limit ${Math.round(lim.maxAge / 1000)} s)${secs}`)
  }
  return t
}

/** Validates one reading object; `topicSensorId` is set for single-reading topics. */
function checkItem(o: unknown, topicSensorId: string | null, enterpriseId: string, reg: RegistryIndex, lim: Limits): Reading | Fail {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    return new Fail('bad_shape', `a reading must be a JSON object like {"ts": …, "value": …}, got ${Array.isArray(o) ? 'an array' : show(o)}`)
  }
  const r = o as Record<string, unknown>
  let sensorId: string
  if (topicSensorId !== null) {
    sensorId = topicSensorId
    if (r.sensorId !== undefined && r.sensorId !== topicSensorId) {
      return new Fail('bad_shape', `sensorId ${show(r.sensorId)} in the payload differs from the topic's sensor "${topicSensorId}"`)
    }
  } else {
    const sid = r.sensorId
    if (typeof sid !== 'string' || sid.length === 0 || sid.length > 128) {
      return new Fail('bad_shape', `sensorId ${show(sid)} must be a non-empty string`)
    }
    sensorId = sid
  }
  const sensor: Sensor | undefined = reg.sensors.get(sensorId)
  if (!sensor) return new Fail('unknown_sensor', `sensorId "${sensorId}" is not registered`)
  if (sensor.enterpriseId !== enterpriseId) {
    return new Fail('foreign_sensor', `sensorId "${sensorId}" belongs to enterprise "${sensor.enterpriseId}", not "${enterpriseId}" of the topic`)
  }
  const v = r.value
  if (typeof v !== 'number') {
    if (v === undefined) return new Fail('missing_value', 'value is missing')
    if (v === null) return new Fail('missing_value', 'value is null (a sensor without a value should send quality "fault")')
    if (typeof v === 'string') {
      if (v.charCodeAt(0) === 0) return new Fail('non_finite_value', `value is ${v.slice(1)}; it must be a finite number`)
      return new Fail('non_finite_value', `value ${show(v)} is a string; it must be a finite JSON number`)
    }
    return new Fail('bad_shape', `value ${show(v)} must be a number`)
  }
  if (!Number.isFinite(v)) return new Fail('non_finite_value', `value ${v} is not finite`)
  const t = checkTs(r.ts, lim)
  if (typeof t !== 'number') return t
  let quality: Quality = 'ok'
  const q = r.quality
  if (q !== undefined) {
    if (typeof q !== 'string' || !QUALITY_SET.has(q)) return new Fail('bad_shape', `quality ${show(q)} must be one of ${QUALITIES.join(', ')}`)
    quality = q as Quality
  }
  const seq = r.seq
  if (seq !== undefined && (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 0)) {
    return new Fail('bad_shape', `seq ${show(seq)} must be a non-negative integer`)
  }
  const type = r.type
  if (type !== undefined) {
    if (typeof type !== 'string') return new Fail('bad_shape', `type ${show(type)} must be a string`)
    if (type !== sensor.type) return new Fail('type_mismatch', `type "${type}" does not match sensor "${sensorId}" registered as "${sensor.type}"`)
  }
  const unit = r.unit
  if (unit !== undefined) {
    if (typeof unit !== 'string') return new Fail('bad_shape', `unit ${show(unit)} must be a string`)
    const expected = sensor.unit ?? SENSOR_UNITS[sensor.type]
    if (unit !== expected && normalizeUnit(unit) !== normalizeUnit(expected)) {
      return new Fail('unit_mismatch', `unit "${unit}" does not match sensor "${sensorId}" registered in "${expected}"`)
    }
  }
  const reading: Reading = { sensorId, type: sensor.type, ts: t, value: v, quality }
  if (seq !== undefined) reading.seq = seq
  return reading
}

interface RejectExtra { enterpriseId?: string; sensorId?: string; index?: number; count?: number }

/** Appends a rejection of this message to `list` (created on the first one: most messages have none). */
function addRejection(list: Rejection[] | null, input: DecodeInput, ctx: DecodeContext, reason: RejectionReason, message: string, raw: string, extra?: RejectExtra): Rejection[] {
  const id = ctx.newId ? ctx.newId() : `rj-${input.receivedAt.toString(36)}-${(idCounter = (idCounter + 1) % 0x7fffffff).toString(36)}`
  const r: Rejection = { id, at: input.receivedAt, reason, message, topic: input.topic, gatewayId: input.gatewayId, raw }
  if (extra) {
    if (extra.enterpriseId !== undefined) r.enterpriseId = extra.enterpriseId
    if (extra.sensorId !== undefined) r.sensorId = extra.sensorId
    if (extra.index !== undefined) r.index = extra.index
    if (extra.count !== undefined && extra.count > 1) r.count = extra.count
  }
  const out = list ?? []
  out.push(r)
  return out
}

/** Shared by every clean message (frozen: nobody may add to it). */
const NO_REJECTIONS = Object.freeze([]) as readonly Rejection[] as Rejection[]

/** A whole message refused: one rejection, no batch. */
function refused(input: DecodeInput, ctx: DecodeContext, kind: MessageKind, reason: RejectionReason, message: string, extra: RejectExtra): DecodeResult {
  return { batch: null, rejections: addRejection(null, input, ctx, reason, message, rawOfPayload(input.payload), extra), duplicates: 0, received: 1, kind }
}

/** Decodes one MQTT message. Never throws. `parsedTopic` saves parsing the topic again when the caller did. */
export function decodeMessage(input: DecodeInput, ctx: DecodeContext, parsedTopic?: ParsedTopic): DecodeResult {
  const { topic, payload, gatewayId, receivedAt } = input
  const parsed = parsedTopic ?? parseSensorTopic(topic)
  if (parsed.kind === 'invalid') {
    return refused(input, ctx, 'invalid', 'bad_topic', `topic "${truncate(topic)}" is not sensors/{enterpriseId}/{sensorId} (one reading) or sensors/{enterpriseId} (a batch)`, {})
  }
  const enterpriseId = parsed.enterpriseId
  const single = parsed.kind === 'single'
  const topicSensorId = parsed.kind === 'single' ? parsed.sensorId : null
  const base: RejectExtra = { enterpriseId, sensorId: topicSensorId ?? undefined }
  const maxPayload = ctx.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES
  if (payload.length > maxPayload) return refused(input, ctx, parsed.kind, 'oversize_payload', `payload of ${payload.length} bytes exceeds the limit of ${maxPayload} bytes`, base)
  const reg = ctx.registry
  // A registered gateway publishes only for its own enterprise (the embedded broker passes refused
  // publishes here so they are acknowledged and recorded instead of looping on reconnects).
  const gw = reg.gateways.get(gatewayId)
  if (gw && gw.enterpriseId !== enterpriseId) return refused(input, ctx, parsed.kind, 'topic_forbidden', `gateway "${gatewayId}" belongs to enterprise "${gw.enterpriseId}" and may not publish to ${truncate(topic)}`, base)
  if (!reg.enterprises.has(enterpriseId)) return refused(input, ctx, parsed.kind, 'unknown_enterprise', `enterprise "${enterpriseId}" in the topic is not registered`, base)
  let rejections: Rejection[] | null = null

  let doc: unknown
  const text = payload.toString('utf8')
  try {
    doc = JSON.parse(text)
  } catch (err) {
    const quoted = quoteNonFinite(text)
    let ok = false
    if (quoted !== null) {
      try { doc = JSON.parse(quoted); ok = true } catch { /* still bad */ }
    }
    if (!ok) return refused(input, ctx, parsed.kind, 'bad_json', `payload is not valid JSON: ${(err as Error).message}`, base)
  }

  let items: readonly unknown[]
  if (single) {
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
      return refused(input, ctx, parsed.kind, 'bad_shape', `topic ${topic} expects one JSON object {"ts": …, "value": …}; got ${Array.isArray(doc) ? 'an array (publish batches to sensors/' + enterpriseId + ')' : show(doc)}`, base)
    }
    items = [doc]
  } else {
    if (!Array.isArray(doc)) {
      return refused(input, ctx, parsed.kind, 'bad_shape', `batch topic ${topic} expects a JSON array of {"sensorId", "ts", "value"}; for one reading publish to ${topic}/{sensorId}`, base)
    }
    if (doc.length > MAX_BATCH_ITEMS) {
      rejections = addRejection(rejections, input, ctx, 'batch_too_large', `batch of ${doc.length} readings exceeds the limit of ${MAX_BATCH_ITEMS}; split it`, rawOfPayload(payload), { enterpriseId, count: doc.length })
      return { batch: null, rejections, duplicates: 0, received: doc.length, kind: 'batch' }
    }
    items = doc
  }
  const n = items.length
  const admitted = ctx.limiter ? Math.min(n, Math.max(0, ctx.limiter.take(gatewayId, n, receivedAt))) : n
  if (admitted < n) {
    rejections = addRejection(rejections, input, ctx, 'rate_limited', `${n - admitted} of ${n} readings over the rate limit of gateway "${gatewayId}"`,
      single ? rawOfPayload(payload) : rawOfItem(items[admitted]), { ...base, index: single ? undefined : admitted, count: n - admitted })
  }
  const lim: Limits = { now: receivedAt, maxFuture: ctx.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS, maxAge: ctx.maxAgeMs ?? DEFAULT_MAX_AGE_MS }
  const out: Reading[] = []
  let duplicates = 0
  for (let i = 0; i < admitted; i++) {
    const item = items[i]
    const res = checkItem(item, topicSensorId, enterpriseId, reg, lim)
    if (res instanceof Fail) {
      const sid = topicSensorId ?? (typeof item === 'object' && item !== null && typeof (item as { sensorId?: unknown }).sensorId === 'string' ? (item as { sensorId: string }).sensorId : undefined)
      rejections = addRejection(rejections, input, ctx, res.reason, single ? res.message : `item ${i}: ${res.message}`, single ? rawOfPayload(payload) : rawOfItem(item), { enterpriseId, sensorId: sid, index: single ? undefined : i })
      continue
    }
    if (ctx.dedup.isDuplicate(res.sensorId, res.seq, res.ts)) { duplicates++; continue }
    out.push(res)
  }
  const batch: ReadingBatch | null = out.length ? { enterpriseId, gatewayId, receivedAt, items: out } : null
  return { batch, rejections: rejections ?? NO_REJECTIONS, duplicates, received: n, kind: parsed.kind }
}
