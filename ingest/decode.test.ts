import { describe, expect, it } from 'vitest'
import { decodeMessage, type DecodeContext } from './decode.js'
import { createDeduplicator } from './dedup.js'
import { createRateLimiter } from './rate-limit.js'
import { parseIsoTimestamp, TS_NO_OFFSET } from './timestamp.js'
import { indexRegistry } from '../core/registry/registry-index.js'
import { REJECTION_REASONS, type RejectionReason } from '../core/contracts/reading.js'
import { testRegistryDoc } from './testing/fixtures.js'

const NOW = Date.parse('2026-11-28T00:00:00.000Z')
const registry = indexRegistry(testRegistryDoc())

function ctx(over: Partial<DecodeContext> = {}): DecodeContext {
  return { registry, dedup: createDeduplicator(), ...over }
}

function decode(topic: string, payload: string | Buffer, c: DecodeContext = ctx(), gatewayId = 'gw-E1') {
  return decodeMessage({ topic, payload: typeof payload === 'string' ? Buffer.from(payload) : payload, gatewayId, receivedAt: NOW }, c)
}

const T = '"2026-11-28T08:00:00.000+08:00"' // = NOW
const single = 'sensors/E1/E1-CH4-01'

describe('decodeMessage: one rejection per reason', () => {
  const cases: { reason: RejectionReason; topic: string; payload: string | Buffer; ctx?: () => DecodeContext; mentions: string; gatewayId?: string }[] = [
    { reason: 'bad_json', topic: single, payload: '{"ts": 1, "value": ', mentions: 'not valid JSON' },
    { reason: 'bad_shape', topic: single, payload: '[1,2]', mentions: 'array' },
    { reason: 'bad_shape', topic: single, payload: `{"ts": ${T}, "value": 0.5, "quality": "great"}`, mentions: 'quality "great"' },
    { reason: 'bad_shape', topic: single, payload: `{"ts": ${T}, "value": true}`, mentions: 'value true' },
    { reason: 'bad_shape', topic: 'sensors/E1', payload: `{"ts": ${T}, "value": 1}`, mentions: 'JSON array' },
    { reason: 'missing_value', topic: single, payload: `{"ts": ${T}}`, mentions: 'value is missing' },
    { reason: 'non_finite_value', topic: single, payload: `{"ts": ${T}, "value": NaN}`, mentions: 'NaN' },
    { reason: 'non_finite_value', topic: single, payload: `{"ts": ${T}, "value": "0.82"}`, mentions: '"0.82" is a string' },
    { reason: 'non_finite_value', topic: single, payload: `{"ts": ${T}, "value": 1e400}`, mentions: 'Infinity' },
    { reason: 'bad_timestamp', topic: single, payload: '{"ts": "yesterday", "value": 1}', mentions: '"yesterday"' },
    { reason: 'bad_timestamp', topic: single, payload: '{"ts": "2026-02-30T08:00:00+08:00", "value": 1}', mentions: '2026-02-30' },
    { reason: 'timestamp_no_offset', topic: single, payload: '{"ts": "2026-11-28T08:00:00.000", "value": 1}', mentions: 'offset' },
    { reason: 'timestamp_in_future', topic: single, payload: `{"ts": ${NOW + 6 * 60_000}, "value": 1}`, mentions: '360 s ahead' },
    { reason: 'timestamp_too_old', topic: single, payload: `{"ts": ${Math.floor(NOW / 1000)}, "value": 1}`, mentions: 'epoch seconds' },
    { reason: 'unknown_sensor', topic: 'sensors/E1/E1-XX-99', payload: `{"ts": ${T}, "value": 1}`, mentions: '"E1-XX-99"' },
    { reason: 'foreign_sensor', topic: 'sensors/E1/E2-GAS-01', payload: `{"ts": ${T}, "value": 1}`, mentions: 'enterprise "E2"' },
    { reason: 'type_mismatch', topic: single, payload: `{"ts": ${T}, "value": 1, "type": "co"}`, mentions: 'registered as "ch4"' },
    { reason: 'unit_mismatch', topic: single, payload: `{"ts": ${T}, "value": 1, "unit": "ppm"}`, mentions: '"%CH4"' },
    { reason: 'oversize_payload', topic: single, payload: Buffer.alloc(600 * 1024, 32), mentions: '614400 bytes' },
    { reason: 'batch_too_large', topic: 'sensors/E1', payload: JSON.stringify(Array.from({ length: 1001 }, (_, i) => ({ sensorId: 'E1-CO-01', ts: NOW - i, value: 1 }))), mentions: '1001' },
    { reason: 'bad_topic', topic: 'sensors/E1/a/b', payload: '{}', mentions: 'sensors/{enterpriseId}' },
    { reason: 'unknown_enterprise', topic: 'sensors/E9/E9-1', payload: `{"ts": ${T}, "value": 1}`, mentions: '"E9"', gatewayId: 'anonymous' },
    { reason: 'topic_forbidden', topic: 'sensors/E2/E2-GAS-01', payload: `{"ts": ${T}, "value": 1}`, mentions: 'gateway "gw-E1" belongs to enterprise "E1"' },
    { reason: 'rate_limited', topic: single, payload: `{"ts": ${T}, "value": 1}`, ctx: () => ctx({ limiter: createRateLimiter({ rateOf: () => 1, burstFactor: 0 }) }), mentions: 'rate limit' },
  ]

  it.each(cases)('$reason: $mentions', ({ reason, topic, payload, ctx: mk, mentions, gatewayId = 'gw-E1' }) => {
    const res = decode(topic, payload, mk ? mk() : ctx(), gatewayId)
    expect(res.batch).toBeNull()
    expect(res.rejections).toHaveLength(1)
    const r = res.rejections[0]!
    expect(r.reason).toBe(reason)
    expect(r.message).toContain(mentions)
    expect(r.topic).toBe(topic)
    expect(r.gatewayId).toBe(gatewayId)
    expect(r.at).toBe(NOW)
    expect(r.raw.length).toBeLessThanOrEqual(513)
    expect(r.id).toMatch(/^rj-/)
  })

  it('covers every reason except duplicate (counted, not rejected) and overloaded (the ingest stage sheds, see its test)', () => {
    const covered = new Set(cases.map((c) => c.reason))
    expect(REJECTION_REASONS.filter((r) => !covered.has(r))).toEqual(['duplicate', 'overloaded'])
  })
})

describe('decodeMessage: valid readings', () => {
  it('accepts a single reading with ISO offset time, optional fields and seq', () => {
    const res = decode(single, `{"ts": "2026-11-28T08:00:01.5+08:00", "value": 0.82, "type": "ch4", "unit": "%ch4", "quality": "calibrating", "seq": 7}`)
    expect(res.rejections).toEqual([])
    expect(res.batch).toEqual({
      enterpriseId: 'E1', gatewayId: 'gw-E1', receivedAt: NOW,
      items: [{ sensorId: 'E1-CH4-01', type: 'ch4', ts: NOW + 1500, value: 0.82, quality: 'calibrating', seq: 7 }],
    })
    expect(res.kind).toBe('single')
  })

  it('passes the valid items of a batch and rejects the others with their index', () => {
    const payload = `[
      {"sensorId": "E1-CH4-01", "ts": ${NOW - 1000}, "value": 0.4},
      {"sensorId": "E1-CO-01", "ts": ${T}, "value": NaN},
      {"sensorId": "E1-NOPE", "ts": ${NOW}, "value": 1},
      {"sensorId": "E1-CO-01", "ts": "2026-11-28T00:00:00Z", "value": 3, "unit": "ppm"},
      "garbage"
    ]`
    const res = decode('sensors/E1', payload)
    expect(res.kind).toBe('batch')
    expect(res.received).toBe(5)
    expect(res.batch?.items.map((i) => [i.sensorId, i.value, i.ts])).toEqual([['E1-CH4-01', 0.4, NOW - 1000], ['E1-CO-01', 3, NOW]])
    expect(res.rejections.map((r) => [r.index, r.reason, r.sensorId])).toEqual([
      [1, 'non_finite_value', 'E1-CO-01'], [2, 'unknown_sensor', 'E1-NOPE'], [4, 'bad_shape', undefined],
    ])
    expect(res.rejections[0]!.raw).toBe(`{"sensorId":"E1-CO-01","ts":"2026-11-28T08:00:00.000+08:00","value":NaN}`)
    expect(res.rejections[0]!.message).toMatch(/^item 1: /)
  })

  it('de-duplicates by seq: a re-delivery is dropped and counted, not rejected', () => {
    const c = ctx()
    const p = `{"ts": ${NOW - 5000}, "value": 0.5, "seq": 42}`
    expect(decode(single, p, c).batch?.items).toHaveLength(1)
    const again = decode(single, p, c)
    expect(again.batch).toBeNull()
    expect(again.duplicates).toBe(1)
    expect(again.rejections).toEqual([])
    // Same seq on another sensor is not a duplicate.
    expect(decode('sensors/E1/E1-CO-01', p, c).batch?.items).toHaveLength(1)
    // A newer reading re-using an old seq means the gateway's counter restarted: kept.
    expect(decode(single, `{"ts": ${NOW}, "value": 0.6, "seq": 42}`, c).batch?.items).toHaveLength(1)
  })

  it('de-duplicates by (sensorId, ts) without seq, also inside one batch', () => {
    const c = ctx()
    const item = { sensorId: 'E1-CO-01', ts: NOW - 100, value: 3 }
    const res = decode('sensors/E1', JSON.stringify([item, item, { ...item, ts: NOW - 50 }]), c)
    expect(res.batch?.items.map((i) => i.ts)).toEqual([NOW - 100, NOW - 50])
    expect(res.duplicates).toBe(1)
    const res2 = decode('sensors/E1/E1-CO-01', JSON.stringify({ ts: '2026-11-28T07:59:59.900+08:00', value: 9 }), c)
    expect(res2.duplicates).toBe(1)
  })

  it('rate limit admits the first readings of a batch and rejects the rest as one counted rejection', () => {
    const c = ctx({ limiter: createRateLimiter({ rateOf: () => 2, burstFactor: 1 }) })
    const items = Array.from({ length: 5 }, (_, i) => ({ sensorId: 'E1-CO-01', ts: NOW - i, value: i }))
    const res = decode('sensors/E1', JSON.stringify(items), c)
    expect(res.batch?.items).toHaveLength(2)
    expect(res.rejections).toHaveLength(1)
    expect(res.rejections[0]).toMatchObject({ reason: 'rate_limited', count: 3, index: 2 })
  })

  it('an empty batch is neither a batch nor a rejection', () => {
    const res = decode('sensors/E1', '[]')
    expect(res).toMatchObject({ batch: null, rejections: [], duplicates: 0, received: 0 })
  })
})

describe('parseIsoTimestamp', () => {
  it.each([
    ['2026-11-28T08:00:00.000+08:00', NOW],
    ['2026-11-28T00:00:00Z', NOW],
    ['2026-11-28 00:00:00.123456z', NOW + 123],
    ['2026-11-28T05:30-0230', NOW + 8 * 3_600_000],
    ['2026-11-28T08:00+08', NOW],
    ['2024-02-29T00:00:00Z', Date.parse('2024-02-29T00:00:00Z')],
  ])('%s', (s, want) => expect(parseIsoTimestamp(s)).toBe(want))
  it.each(['2026-11-28T08:00:00', '2026-11-28T08:00'])('%s has no offset', (s) => expect(parseIsoTimestamp(s)).toBe(TS_NO_OFFSET))
  it.each(['2026-11-28', '2026-13-01T00:00Z', '2025-02-29T00:00Z', '2026-11-28T24:00Z', '2026-11-28T08:00:00+8', '2026-11-28T08:00:00Zx', '20261128T080000Z', '2026-11-28T08:00:00.Z'])(
    '%s is invalid', (s) => expect(parseIsoTimestamp(s)).toBeNaN())
})
