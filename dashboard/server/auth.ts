// Authentication and roles: login against the registry's users (plain, bcrypt or sha256 passwords),
// HS256 session tokens, login throttling, and the request hook that requires a valid Bearer token on
// /api (except health and login) and /metrics (unless public), and the role a route declares.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { PublicUser, User, UserRole } from '../../core/contracts/registry.js'
import type { RegistryHolder } from '../../core/registry/registry-holder.js'
import type { Clock } from '../../core/runtime/clock.js'
import { AppError } from '../../core/runtime/errors.js'
import { createJurisdictionCache, type Jurisdiction } from './jurisdiction.js'
import { createLoginRateLimiter, type LoginRateLimitOptions } from './login-rate-limit.js'
import { burnVerify, verifySecret } from './passwords.js'
import { signToken, verifyToken } from './token.js'

export const ROLE_RANK: Readonly<Record<UserRole, number>> = { viewer: 1, duty: 2, admin: 3 }

/** Who is calling: the user as the registry has it now (role and scope changes apply at once). */
export interface AuthUser {
  username: string
  role: UserRole
  user: User
  jurisdiction: Jurisdiction
  /** When the token expires, epoch ms. */
  expiresAt: number
}

/** `public`: no token needed; a role: at least that role. */
export type RouteAuth = 'public' | UserRole

declare module 'fastify' {
  interface FastifyContextConfig { auth?: RouteAuth }
  interface FastifyRequest { auth: AuthUser | null }
}

export interface AuthOptions {
  secret: string
  /** Token lifetime; default 12 h. */
  ttlSeconds?: number
  clock: Clock
  registry: RegistryHolder
  rateLimit?: LoginRateLimitOptions
}

export interface LoginResult { token: string; user: PublicUser; expiresAt: string }

export interface Auth {
  /** Throws UNAUTHORIZED on bad credentials, RATE_LIMITED (details.retryAfterSeconds) when throttled. */
  login(ip: string, username: string, password: string): Promise<LoginResult>
  /** The user a token belongs to, or undefined (bad signature, expired, unknown user). */
  authenticate(token: string | undefined): AuthUser | undefined
  /** The user of a request's `Authorization: Bearer` header, or undefined. */
  fromRequest(request: FastifyRequest): AuthUser | undefined
}

export function publicUser(u: User): PublicUser {
  const out: PublicUser = { username: u.username, role: u.role }
  if (u.name !== undefined) out.name = u.name
  if (u.regionIds) out.regionIds = [...u.regionIds]
  if (u.enterpriseIds) out.enterpriseIds = [...u.enterpriseIds]
  return out
}

export function createAuth(opts: AuthOptions): Auth {
  if (!opts.secret || opts.secret.length < 16) throw new AppError('CONFIG_INVALID', 'token secret must be at least 16 characters')
  const ttl = opts.ttlSeconds ?? 12 * 3600
  const limiter = createLoginRateLimiter(opts.clock, opts.rateLimit)
  const jurisdiction = createJurisdictionCache()

  const authenticate = (token: string | undefined): AuthUser | undefined => {
    if (!token) return undefined
    const check = verifyToken(opts.secret, token, opts.clock.now())
    if (!check.ok) return undefined
    const idx = opts.registry.current()
    const user = idx.users.get(check.claims.sub)
    if (!user) return undefined
    return { username: user.username, role: user.role, user, jurisdiction: jurisdiction(user, idx), expiresAt: check.claims.exp * 1000 }
  }

  return {
    async login(ip, username, password) {
      const waitMs = limiter.retryAfterMs(ip, username)
      if (waitMs > 0) {
        const s = Math.max(1, Math.ceil(waitMs / 1000))
        throw new AppError('RATE_LIMITED', `too many failed logins; try again in ${s} s`, { details: { retryAfterSeconds: s } })
      }
      const user = opts.registry.current().users.get(username)
      let ok = false
      if (user) ok = await verifySecret(password, user.password)
      else await burnVerify(password)
      if (!ok || !user) {
        limiter.failure(ip, username)
        throw new AppError('UNAUTHORIZED', 'wrong username or password')
      }
      limiter.success(ip, username)
      const now = opts.clock.now()
      return {
        token: signToken(opts.secret, { sub: user.username, role: user.role }, now, ttl),
        user: publicUser(user),
        expiresAt: new Date((Math.floor(now / 1000) + ttl) * 1000).toISOString(),
      }
    },
    authenticate,
    fromRequest(request) {
      const h = request.headers.authorization
      if (typeof h !== 'string') return undefined
      const m = /^Bearer\s+(\S+)\s*$/i.exec(h)
      return authenticate(m?.[1])
    },
  }
}

/** Default for routes that do not declare `config.auth`: /api and /metrics need a token. */
function defaultAuth(url: string): RouteAuth {
  return url === '/api' || url.startsWith('/api/') || url.startsWith('/api?') || url === '/metrics' || url.startsWith('/metrics?')
    ? 'viewer' : 'public'
}

export function registerAuthHook(app: FastifyInstance, auth: Auth): void {
  app.decorateRequest('auth', null)
  app.addHook('onRequest', async (request) => {
    const need = request.routeOptions.config?.auth ?? defaultAuth(request.url)
    const who = auth.fromRequest(request)
    request.auth = who ?? null
    if (need === 'public') return
    if (!who) throw new AppError('UNAUTHORIZED', request.headers.authorization ? 'invalid or expired token' : 'authentication required: send Authorization: Bearer <token>')
    if (ROLE_RANK[who.role] < ROLE_RANK[need]) throw new AppError('FORBIDDEN', `role "${who.role}" may not do this (needs ${need})`)
  })
}

/** The caller of a protected route (the hook guarantees it). */
export function caller(request: FastifyRequest): AuthUser {
  if (!request.auth) throw new AppError('UNAUTHORIZED', 'authentication required')
  return request.auth
}
