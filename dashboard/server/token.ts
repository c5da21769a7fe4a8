// Session tokens: JWT-compatible HS256 (header.payload.signature, base64url) carrying sub, role,
// iat and exp in seconds. A token verifies only with the right secret, alg HS256 and exp in the future.
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { UserRole } from '../../core/contracts/registry.js'

export interface TokenClaims { sub: string; role: UserRole; iat: number; exp: number }

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')

function sign(secret: string, data: string): Buffer {
  return createHmac('sha256', secret).update(data).digest()
}

export function signToken(secret: string, claims: { sub: string; role: UserRole }, nowMs: number, ttlSeconds: number): string {
  const iat = Math.floor(nowMs / 1000)
  const payload = Buffer.from(JSON.stringify({ sub: claims.sub, role: claims.role, iat, exp: iat + ttlSeconds })).toString('base64url')
  const data = `${HEADER}.${payload}`
  return `${data}.${sign(secret, data).toString('base64url')}`
}

export type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' }

export function verifyToken(secret: string, token: string, nowMs: number): TokenCheck {
  if (typeof token !== 'string' || token.length > 4096) return { ok: false, reason: 'malformed' }
  const parts = token.split('.')
  if (parts.length !== 3) return { ok: false, reason: 'malformed' }
  const [h, p, s] = parts as [string, string, string]
  const given = Buffer.from(s, 'base64url')
  const expected = sign(secret, `${h}.${p}`)
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad_signature' }
  let header: unknown
  let claims: unknown
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'))
    claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'))
  } catch {
    return { ok: false, reason: 'malformed' }
  }
  if (!header || (header as { alg?: unknown }).alg !== 'HS256') return { ok: false, reason: 'malformed' }
  const c = claims as Partial<TokenClaims> | null
  if (!c || typeof c.sub !== 'string' || typeof c.role !== 'string' || typeof c.exp !== 'number' || typeof c.iat !== 'number') {
    return { ok: false, reason: 'malformed' }
  }
  if (c.exp * 1000 <= nowMs) return { ok: false, reason: 'expired' }
  return { ok: true, claims: c as TokenClaims }
}
