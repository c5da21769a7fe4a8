// POST /api/login {username, password} → {token, user, expiresAt}; GET /api/me → the caller.
import { LoginRequest } from '../../../core/contracts/api.js'
import { caller, publicUser } from '../auth.js'
import type { RouteContext, TypedApp } from './context.js'

export function loginRoutes(app: TypedApp, ctx: RouteContext): void {
  app.post('/api/login', {
    config: { auth: 'public' },
    schema: { tags: ['auth'], summary: 'Log in; 401 on wrong credentials, 429 (Retry-After) after repeated failures', body: LoginRequest },
  }, async (request) => ctx.auth.login(request.ip, request.body.username, request.body.password))

  app.get('/api/me', { schema: { tags: ['auth'], summary: 'The logged-in user' } }, async (request) => {
    const me = caller(request)
    return { ...publicUser(me.user), unrestricted: me.jurisdiction.unrestricted }
  })
}
