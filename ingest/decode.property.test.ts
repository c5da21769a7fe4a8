// Property tests of decodeMessage (fast-check): on any input it never throws, every reading it was
// given is accepted, rejected with a contract reason or counted a duplicate (count conservation), and
// accepted readings always have a finite value and a timestamp within the limits.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { decodeMessage, DEFAULT_MAX_AGE_MS, DEFAULT_MAX_FUTURE_MS, type DecodeContext, type DecodeResult } from './decode.js'
import { createDeduplicator } from './dedup.js'
import { createRateLimiter } from './rate-limit.js'
import { indexRegistry } from '../core/registry/registry-index.js'
import { REJECTION_REASONS } from '../core/contracts/reading.js'
import { testRegistryDoc } from './testing/fixtures.js'

const registry = indexRegistry(testRegistryDoc())
const NOW = Date.parse('2026-11-28T08:00:00Z')
const REASONS: ReadonlySet<string> = new Set(REJECTION_REASONS)
const ctx = (over: Partial<DecodeContext> = {}): DecodeContext => ({ registry, dedup: createDeduplicator(), ...over })

function decode(topic: string, payload: Buffer | string, c: DecodeContext = ctx(), gatewayId = 'gw-E1'): DecodeResult {
  let res: DecodeResult | undefined
  expect(() => { res = decodeMessage({ topic, payload: typeof payload === 'string' ? Buffer.from(payload) : payload, gatewayId, receivedAt: NOW }, c) }).not.toThrow()
  return res!
}

/** The invariants every result must satisfy. */
function check(res: DecodeResult): void {
  const accepted = res.batch?.items.length ?? 0
  const rejected = res.rejections.reduce((n, r) => n + (r.count ?? 1), 0)
  expect(accepted + rejected + res.duplicates).toBe(res.received)
  for (const r of res.rejections) {
    expect(REASONS.has(r.reason), r.reason).toBe(true)
    expect(typeof r.message).toBe('string')
    expect(r.message.length).toBeGreaterThan(0)
    expect(r.raw.length).toBeLessThanOrEqual(513)
  }
  for (const it of res.batch?.items ?? []) {
    expect(Number.isFinite(it.value)).toBe(true)
    expect(Number.isFinite(it.ts)).toBe(true)
    expect(it.ts).toBeLessThanOrEqual(NOW + DEFAULT_MAX_FUTURE_MS)
    expect(it.ts).toBeGreaterThanOrEqual(NOW - DEFAULT_MAX_AGE_MS)
  }
}

const topicArb = fc.oneof(
  fc.constantFrom('sensors/E1', 'sensors/E1/E1-CH4-01', 'sensors/E1/E1-CO-01', 'sensors/E2', 'sensors/E2/E2-GAS-01', 'sensors/E1/E2-GAS-01', 'sensors/NOPE', 'sensors', 'sensors/E1/a/b', '', '#'),
  fc.string({ unit: 'binary', maxLength: 300 }).map((s) => `sensors/${s}`),
  fc.string({ unit: 'binary', maxLength: 50 }),
)

const zones = ['Z', '+08:00', '-05:30', '+14:00', '-12:00', '+0800', '', ' UTC', '+25:00', 'z']
const tsArb = fc.oneof(
  fc.integer({ min: NOW - 2 * DEFAULT_MAX_AGE_MS, max: NOW + 2 * DEFAULT_MAX_FUTURE_MS }),
  fc.double(),
  fc.constantFrom(NOW / 1000, 0, -1, 1e308, -0, Number.MAX_SAFE_INTEGER, 'NaN', 'Infinity', '-Infinity', String(NOW), null, true, [], {}),
  fc.tuple(fc.integer({ min: NOW - 2 * DEFAULT_MAX_AGE_MS, max: NOW + 2 * DEFAULT_MAX_FUTURE_MS }), fc.constantFrom(...zones), fc.boolean())
    .map(([t, z, noMs]) => { const s = new Date(t).toISOString().slice(0, noMs ? 19 : 23); return s + z }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
)
const valueArb = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(1e308, -1e308, -0, 5e-324, 'NaN', 'Infinity', '-Infinity', '1.5', null, undefined, true, [1], { v: 1 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
)
const sensorIdArb = fc.oneof(
  fc.constantFrom('E1-CH4-01', 'E1-CO-01', 'E2-GAS-01', 'nope', ''),
  fc.string({ unit: 'binary', minLength: 100, maxLength: 5000 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.constantFrom(1, null, ['E1-CH4-01']),
)
const readingArb = fc.record({
  sensorId: sensorIdArb, ts: tsArb, value: valueArb,
  quality: fc.constantFrom('ok', 'fault', 'maintenance', 'calibrating', 'bad', 3),
  seq: fc.oneof(fc.nat(), fc.integer({ min: -5, max: -1 }), fc.double(), fc.constant('1')),
  unit: fc.constantFrom('%CH4', 'ppm', '%lel', 'mg/m³', 'bogus', 1),
  type: fc.constantFrom('ch4', 'co', 'combustible_gas', 'water_level', 7),
}, { requiredKeys: [] })

/** Serialises with a chance of bare NaN / Infinity tokens, as gateways really send them. */
const jsonText = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' && !Number.isFinite(x) ? `@@${x}@@` : x) as unknown)
  .replace(/"@@(NaN|-?Infinity)@@"/g, '$1')

describe('decodeMessage properties', () => {
  it('arbitrary bytes on arbitrary topics never throw and conserve counts', () => {
    fc.assert(fc.property(topicArb, fc.uint8Array({ maxLength: 2000 }), (topic, bytes) => check(decode(topic, Buffer.from(bytes)))), { numRuns: 1500 })
  })

  it('JSON of every shape (any JSON value, with bare NaN/Infinity) never throws and conserves counts', () => {
    fc.assert(fc.property(topicArb, fc.jsonValue({ maxDepth: 6 }), (topic, v) => check(decode(topic, jsonText(v)))), { numRuns: 1500 })
  })

  it('reading-like objects and batches of them: every item accepted, rejected with a reason, or a duplicate', () => {
    const c = ctx({ limiter: createRateLimiter({ defaultRate: 200 }) }) // shared: duplicates and rate limits happen
    fc.assert(fc.property(
      fc.constantFrom('sensors/E1', 'sensors/E2', 'sensors/E1/E1-CH4-01', 'sensors/E1/E1-CO-01', 'sensors/E2/E2-GAS-01'),
      fc.oneof(readingArb, fc.array(fc.oneof(readingArb, fc.jsonValue({ maxDepth: 2 })), { maxLength: 60 })),
      fc.constantFrom('gw-E1', 'gw-E2', 'gw-E1-slow'),
      (topic, doc, gw) => check(decode(topic, jsonText(doc), c, gw)),
    ), { numRuns: 3000 })
  })

  it('Unicode and control characters in ids, units and timestamps', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 60 }), (s, t) => {
      check(decode('sensors/E1', JSON.stringify([{ sensorId: s, ts: t, value: 1 }, { sensorId: 'E1-CH4-01', ts: t, value: 0.5, unit: s }])))
      check(decode(`sensors/E1/${s}`, JSON.stringify({ ts: NOW, value: 1, sensorId: s })))
    }), { numRuns: 1000 })
  })

  it('timestamps in many formats and zones are accepted only within the limits', () => {
    fc.assert(fc.property(tsArb, (ts) => {
      const res = decode('sensors/E1/E1-CH4-01', jsonText({ ts, value: 0.5 }))
      check(res)
      if (res.batch) expect(typeof ts === 'number' || typeof ts === 'string').toBe(true)
    }), { numRuns: 2000 })
  })

  it('extreme numbers: finite ones accepted as they are, the rest rejected as non_finite_value', () => {
    for (const [text, ok] of [['1e308', true], ['-1e308', true], ['-0', true], ['5e-324', true], ['1e309', false], ['NaN', false], ['Infinity', false], ['-Infinity', false], ['"NaN"', false], ['"Infinity"', false]] as const) {
      const res = decode('sensors/E1/E1-CO-01', `{"ts": ${NOW}, "value": ${text}}`, ctx())
      check(res)
      expect(res.batch !== null, text).toBe(ok)
      if (!ok) expect(res.rejections[0]!.reason).toBe('non_finite_value')
    }
  })

  it('deeply nested JSON does not throw', () => {
    for (const depth of [1000, 100_000]) {
      for (const topic of ['sensors/E1', 'sensors/E1/E1-CH4-01']) {
        check(decode(topic, '['.repeat(depth) + ']'.repeat(depth), ctx({ maxPayloadBytes: 1 << 20 })))
        check(decode(topic, `[${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}]`, ctx({ maxPayloadBytes: 1 << 20 })))
        check(decode(topic, `[${'['.repeat(depth)}${']'.repeat(depth)}, {"sensorId":"E1-CH4-01","ts":${NOW},"value":1}]`, ctx({ maxPayloadBytes: 1 << 20 })))
      }
    }
  })

  it('a batch of 1,000,001 items: oversize by default; with a raised byte limit one batch_too_large counting them all', () => {
    const text = `[${Array.from({ length: 1_000_001 }, () => '{"sensorId":"E1-CO-01","ts":1,"value":1}').join(',')}]`
    const small = decode('sensors/E1', text)
    check(small)
    expect(small.rejections.map((r) => r.reason)).toEqual(['oversize_payload'])
    const big = decode('sensors/E1', text, ctx({ maxPayloadBytes: 1 << 27 }))
    check(big)
    expect(big.received).toBe(1_000_001)
    expect(big.rejections).toHaveLength(1)
    expect(big.rejections[0]).toMatchObject({ reason: 'batch_too_large', count: 1_000_001 })
  })

  it('a 10 MB payload: oversize by default, decoded when the limit allows it', () => {
    const pad = 'x'.repeat(10 * 1024 * 1024)
    const text = JSON.stringify({ ts: NOW, value: 0.3, note: pad })
    const res = decode('sensors/E1/E1-CH4-01', text)
    check(res)
    expect(res.rejections[0]!.reason).toBe('oversize_payload')
    const ok = decode('sensors/E1/E1-CH4-01', text, ctx({ maxPayloadBytes: 16 * 1024 * 1024 }))
    check(ok)
    expect(ok.batch!.items).toHaveLength(1)
    const junk = decode('sensors/E1', Buffer.alloc(10 * 1024 * 1024, 0xff), ctx({ maxPayloadBytes: 16 * 1024 * 1024 }))
    check(junk)
    expect(junk.rejections[0]!.reason).toBe('bad_json')
  })
})
