// GET /api/sensors/:id, GET /api/sensors/:id/readings?from=&to= (default the last hour, ISO or epoch
// ms in, ISO UTC out) and PUT /api/sensors/:id/thresholds (admin; validated, saved and audited).
import Type from 'typebox'
import { Thresholds } from '../../../core/contracts/registry.js'
import { iso } from '../../../core/contracts/time.js'
import { caller } from '../auth.js'
import { badRequest, notFound } from '../http-errors.js'
import { invalid, thresholdOrderProblems, type RegistryAdmin } from '../registry-admin.js'
import { parseTimeParam } from '../time-param.js'
import { sensorView } from '../views.js'
import { clampLimit, type RouteContext, type TypedApp } from './context.js'

const HOUR = 3_600_000
const MAX_RANGE = 400 * 24 * HOUR
const Params = Type.Object({ id: Type.String({ maxLength: 128 }) })

export function sensorRoutes(app: TypedApp, ctx: RouteContext, admin: RegistryAdmin): void {
  const visibleSensor = (request: Parameters<typeof caller>[0], id: string) => {
    const me = caller(request)
    const s = ctx.registry.current().sensors.get(id)
    if (!s || !me.jurisdiction.seesEnterprise(s.enterpriseId)) throw notFound('sensor', id)
    return s
  }

  app.get('/api/sensors/:id', { schema: { tags: ['sensors'], summary: 'One sensor with latest value, state and thresholds', params: Params } }, async (request) => {
    const s = visibleSensor(request, request.params.id)
    return sensorView(ctx.registry.current(), ctx.live, s)
  })

  app.get('/api/sensors/:id/readings', {
    schema: {
      tags: ['sensors'],
      summary: 'Readings [{ts, value, quality}] in [from, to] (default the last hour), oldest first',
      params: Params,
      querystring: Type.Object({
        from: Type.Optional(Type.String({ maxLength: 64 })),
        to: Type.Optional(Type.String({ maxLength: 64 })),
        limit: Type.Optional(Type.Integer({ minimum: 1 })),
      }),
    },
  }, async (request) => {
    const s = visibleSensor(request, request.params.id)
    const now = ctx.clock.now()
    const to = parseTimeParam(request.query.to, 'to') ?? now
    const from = parseTimeParam(request.query.from, 'from') ?? to - HOUR
    if (from > to) throw badRequest('from must not be after to')
    if (to - from > MAX_RANGE) throw badRequest('the range from..to is at most 400 days')
    const points = await ctx.stores.telemetry.query(s.id, from, to, clampLimit(request.query.limit, 10_000, 100_000))
    return points.map((p) => ({ ts: iso(p.ts), value: p.value, quality: p.quality }))
  })

  app.put('/api/sensors/:id/thresholds', {
    config: { auth: 'admin' },
    schema: { tags: ['admin'], summary: 'Replace a sensor\'s own thresholds (admin)', params: Params, body: Thresholds },
  }, async (request) => {
    const me = caller(request)
    const s = visibleSensor(request, request.params.id)
    const idx = ctx.registry.current()
    const i = idx.doc.sensors.findIndex((x) => x.id === s.id)
    const order = thresholdOrderProblems(request.body, '/thresholds')
    if (order.length) throw invalid(order, 'thresholds')
    const doc = { ...idx.doc, sensors: idx.doc.sensors.map((x, j) => (j === i ? { ...x, thresholds: request.body } : x)) }
    const version = await admin.save(doc, { by: me.username, action: 'sensor.thresholds', target: s.id, detail: JSON.stringify(request.body).slice(0, 2000) })
    return { version, sensorId: s.id, thresholds: request.body }
  })
}
