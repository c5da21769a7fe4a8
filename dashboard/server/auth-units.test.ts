// Unit tests: secrets (plain / bcrypt / sha256), tokens, login throttling, time parameters.
import { createHash } from 'node:crypto'
import bcrypt from 'bcryptjs'
import { describe, expect, test } from 'vitest'
import { fakeClock } from '../../core/runtime/clock.js'
import { createLoginRateLimiter } from './login-rate-limit.js'
import { verifySecret } from './passwords.js'
import { signToken, verifyToken } from './token.js'
import { parseTimeParam } from './time-param.js'
import { createRateCounter } from './rate-counter.js'

const sha = (s: string) => 'sha256:' + createHash('sha256').update(s).digest('hex')
const hash = bcrypt.hashSync('s3cret-pass', 4)

describe('verifySecret', () => {
  test.each([
    ['plain, right', 's3cret-pass', 's3cret-pass', true],
    ['plain, wrong', 's3cret-pasS', 's3cret-pass', false],
    ['plain, prefix', 's3cret', 's3cret-pass', false],
    ['plain, empty given', '', 's3cret-pass', false],
    ['sha256, right', 's3cret-pass', sha('s3cret-pass'), true],
    ['sha256 upper-case hex, right', 's3cret-pass', sha('s3cret-pass').toUpperCase().replace('SHA256:', 'sha256:'), true],
    ['sha256, wrong', 'nope', sha('s3cret-pass'), false],
    ['sha256, malformed hex', 's3cret-pass', 'sha256:abc', false],
    ['bcrypt, right', 's3cret-pass', hash, true],
    ['bcrypt $2a$, right', 's3cret-pass', hash.replace('$2b$', '$2a$'), true],
    ['bcrypt, wrong', 'nope', hash, false],
  ])('%s → %s', async (_name, given, stored, ok) => {
    expect(await verifySecret(given, stored)).toBe(ok)
  })
})

describe('tokens', () => {
  const secret = 'unit-secret-0123456789'
  const t0 = Date.parse('2026-11-28T00:00:00.000Z')
  const token = signToken(secret, { sub: 'duty1', role: 'duty' }, t0, 3600)

  test('JWT-compatible HS256 with sub, role, iat, exp', () => {
    const [h, p] = token.split('.') as [string, string]
    expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT' })
    expect(JSON.parse(Buffer.from(p, 'base64url').toString())).toEqual({ sub: 'duty1', role: 'duty', iat: t0 / 1000, exp: t0 / 1000 + 3600 })
    expect(verifyToken(secret, token, t0)).toEqual({ ok: true, claims: { sub: 'duty1', role: 'duty', iat: t0 / 1000, exp: t0 / 1000 + 3600 } })
  })

  const [h, p, s] = token.split('.') as [string, string, string]
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
  test.each([
    ['expired at exp', token, t0 + 3600_000, 'expired'],
    ['wrong secret', signToken('other-secret-0123456789', { sub: 'duty1', role: 'duty' }, t0, 3600), t0, 'bad_signature'],
    ['payload changed', `${h}.${b64({ sub: 'admin', role: 'admin', iat: 0, exp: 9e9 })}.${s}`, t0, 'bad_signature'],
    ['alg none', `${b64({ alg: 'none' })}.${p}.`, t0, 'bad_signature'],
    ['two parts', `${h}.${p}`, t0, 'malformed'],
    ['empty', '', t0, 'malformed'],
  ])('%s → %s', (_name, tok, now, reason) => {
    expect(verifyToken(secret, tok, now)).toEqual({ ok: false, reason })
  })
  test('valid one second before exp', () => {
    expect(verifyToken(secret, token, t0 + 3599_000).ok).toBe(true)
  })
})

describe('login rate limiter', () => {
  test('per (ip, user): 5 failures block for the rest of the window; success resets the pair', () => {
    const clock = fakeClock(0)
    const rl = createLoginRateLimiter(clock, { windowMs: 60_000, maxPerUser: 5, maxPerIp: 20 })
    for (let i = 0; i < 5; i++) { expect(rl.retryAfterMs('1.1.1.1', 'u')).toBe(0); rl.failure('1.1.1.1', 'u'); clock.advance(1000) }
    expect(rl.retryAfterMs('1.1.1.1', 'u')).toBe(55_000)
    expect(rl.retryAfterMs('1.1.1.1', 'U')).toBe(55_000) // usernames compared case-insensitively
    expect(rl.retryAfterMs('2.2.2.2', 'u')).toBe(0)
    expect(rl.retryAfterMs('1.1.1.1', 'v')).toBe(0)
    clock.advance(55_000)
    expect(rl.retryAfterMs('1.1.1.1', 'u')).toBe(0)
    rl.failure('1.1.1.1', 'u')
    rl.success('1.1.1.1', 'u')
    for (let i = 0; i < 4; i++) rl.failure('1.1.1.1', 'u')
    expect(rl.retryAfterMs('1.1.1.1', 'u')).toBe(0)
  })

  test('per ip: many usernames from one ip are blocked too, and a success does not reset the ip', () => {
    const clock = fakeClock(0)
    const rl = createLoginRateLimiter(clock, { windowMs: 60_000, maxPerUser: 5, maxPerIp: 20 })
    for (let i = 0; i < 20; i++) rl.failure('9.9.9.9', `user${i}`)
    rl.success('9.9.9.9', 'user0')
    expect(rl.retryAfterMs('9.9.9.9', 'someone-else')).toBe(60_000)
    expect(rl.retryAfterMs('8.8.8.8', 'someone-else')).toBe(0)
  })

  test('memory is bounded', () => {
    const clock = fakeClock(0)
    const rl = createLoginRateLimiter(clock, { maxKeys: 100 })
    for (let i = 0; i < 10_000; i++) rl.failure(`10.0.${i >> 8}.${i & 255}`, 'x')
    // The oldest keys were evicted: the first ip is allowed again, the newest still counts.
    expect(rl.retryAfterMs('10.0.0.0', 'x')).toBe(0)
  })
})

describe('time parameters', () => {
  test.each([
    ['1764288000000', 1764288000000],
    ['2026-11-28T08:00:00.000+08:00', Date.parse('2026-11-28T00:00:00.000Z')],
    ['2026-11-28T00:00:00Z', Date.parse('2026-11-28T00:00:00.000Z')],
    ['2026-11-28T08:00+0800', Date.parse('2026-11-28T00:00:00.000Z')],
  ])('%s → %i', (v, ms) => { expect(parseTimeParam(v, 'from')).toBe(ms) })
  test.each(['2026-11-28T08:00:00', '2026-11-28', 'yesterday', '1e12', '2026-13-45T99:00:00Z'])('%s → 400 naming the parameter', (v) => {
    expect(() => parseTimeParam(v, 'from')).toThrow(/^from: /)
  })
  test('absent → undefined', () => { expect(parseTimeParam(undefined, 'to')).toBeUndefined() })
})

describe('rate counter', () => {
  test('mean over the last 10 complete seconds', () => {
    const rc = createRateCounter(10)
    for (let s = 0; s < 10; s++) rc.add(30, s * 1000 + 500)
    expect(rc.rate(9_999)).toBe(27) // second 9 is not complete yet: 9 × 30 / 10
    expect(rc.rate(10_000)).toBe(30)
    expect(rc.rate(15_000)).toBe(15)
    expect(rc.rate(60_000)).toBe(0)
  })
})
