// GET /api/enterprises?regionId=&industry=&riskLevel= (regionId = the subtree) and
// GET /api/enterprises/:id (profile, contacts, sensors with state, risk with factors, open warnings).
import Type from 'typebox'
import { Color } from '../../../core/contracts/levels.js'
import { Industry } from '../../../core/contracts/registry.js'
import { caller } from '../auth.js'
import { notFound } from '../http-errors.js'
import { enterpriseDetail, enterpriseSummary, warningsByEnterprise } from '../views.js'
import type { RouteContext, TypedApp } from './context.js'

export function enterpriseRoutes(app: TypedApp, ctx: RouteContext): void {
  app.get('/api/enterprises', {
    schema: {
      tags: ['enterprises'],
      summary: 'Enterprises in the caller\'s jurisdiction, with current risk level',
      querystring: Type.Object({
        regionId: Type.Optional(Type.String({ maxLength: 128 })),
        industry: Type.Optional(Industry),
        riskLevel: Type.Optional(Color),
      }),
    },
  }, async (request) => {
    const me = caller(request)
    const idx = ctx.registry.current()
    const { regionId, industry, riskLevel } = request.query
    const byEnt = warningsByEnterprise(ctx.live)
    const out = []
    for (const e of idx.enterprises.values()) {
      if (!me.jurisdiction.seesEnterprise(e.id)) continue
      if (industry && e.industry !== industry) continue
      if (regionId && !idx.isWithin(e.regionId, regionId)) continue
      const s = enterpriseSummary(idx, ctx.live, e, byEnt.get(e.id) ?? [])
      if (riskLevel && s.riskLevel !== riskLevel) continue
      out.push(s)
    }
    return out
  })

  app.get('/api/enterprises/:id', {
    schema: { tags: ['enterprises'], summary: 'Enterprise detail', params: Type.Object({ id: Type.String({ maxLength: 128 }) }) },
  }, async (request) => {
    const me = caller(request)
    const idx = ctx.registry.current()
    const e = idx.enterprises.get(request.params.id)
    if (!e || !me.jurisdiction.seesEnterprise(e.id)) throw notFound('enterprise', request.params.id)
    return enterpriseDetail(idx, ctx.live, e)
  })
}
