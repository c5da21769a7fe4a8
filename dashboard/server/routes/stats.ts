// GET /api/stats (header counters for the caller's jurisdiction) and GET /metrics (Prometheus text;
// public unless the server is told otherwise, for scraping on a private network).
import { caller } from '../auth.js'
import { statsFor } from '../views.js'
import type { RouteContext, TypedApp } from './context.js'

export function statsRoutes(app: TypedApp, ctx: RouteContext): void {
  app.get('/api/stats', {
    schema: { tags: ['system'], summary: 'Enterprises by level, open warnings by level, overdue unacknowledged, sensors offline, readings per second' },
  }, async (request) => statsFor(ctx.live, ctx.levels, caller(request).jurisdiction, ctx.clock.now()))

  app.get('/metrics', {
    config: { auth: ctx.metricsPublic ? 'public' : 'viewer' },
    schema: { tags: ['system'], summary: 'Prometheus metrics' },
  }, async (_request, reply) => {
    ctx.metrics.busLag.set(ctx.bus.lag())
    const text = await ctx.metrics.registry.metrics()
    return reply.type(ctx.metrics.registry.contentType).send(text)
  })
}
