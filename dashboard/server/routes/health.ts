// GET /api/health (public): overall status and the checks of every part of the process.
import Type from 'typebox'
import type { RouteContext, TypedApp } from './context.js'

export function healthRoutes(app: TypedApp, ctx: RouteContext): void {
  app.get('/api/health', {
    config: { auth: 'public' },
    schema: {
      tags: ['system'],
      summary: 'Health: ok or degraded, with checks (200 either way; ?strict=1 answers 503 when degraded)',
      querystring: Type.Object({ strict: Type.Optional(Type.String({ maxLength: 8 })) }),
    },
  }, async (request, reply) => {
    let h: ReturnType<typeof ctx.health>
    try { h = ctx.health() } catch (err) {
      request.log.error({ err }, 'health check failed')
      h = { status: 'degraded', checks: { health: { ok: false, detail: 'health check failed' } } }
    }
    const strict = request.query.strict === '1' || request.query.strict === 'true'
    return reply.status(strict && h.status !== 'ok' ? 503 : 200).send({ status: h.status, checks: h.checks })
  })
}
