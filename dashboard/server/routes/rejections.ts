// GET /api/ingest/rejections?limit=&gatewayId=&reason= — rejected readings with reason and raw
// payload, newest first; a scoped user sees only those of enterprises in their jurisdiction.
import Type from 'typebox'
import { RejectionReason } from '../../../core/contracts/reading.js'
import { iso } from '../../../core/contracts/time.js'
import type { RejectionQuery } from '../../../core/store/ports.js'
import { caller } from '../auth.js'
import { parseTimeParam } from '../time-param.js'
import { clampLimit, type RouteContext, type TypedApp } from './context.js'

export function rejectionRoutes(app: TypedApp, ctx: RouteContext): void {
  app.get('/api/ingest/rejections', {
    schema: {
      tags: ['ingest'],
      summary: 'Rejected readings (reason, message, raw payload truncated), newest first',
      querystring: Type.Object({
        limit: Type.Optional(Type.Integer({ minimum: 1, description: 'default 100, at most 1000' })),
        gatewayId: Type.Optional(Type.String({ maxLength: 128 })),
        enterpriseId: Type.Optional(Type.String({ maxLength: 128 })),
        reason: Type.Optional(RejectionReason),
        since: Type.Optional(Type.String({ maxLength: 64 })),
      }),
    },
  }, async (request) => {
    const j = caller(request).jurisdiction
    const q = request.query
    const query: RejectionQuery = { limit: clampLimit(q.limit, 100, 1000) }
    if (q.gatewayId) query.gatewayId = q.gatewayId
    if (q.reason) query.reason = q.reason
    const since = parseTimeParam(q.since, 'since')
    if (since !== undefined) query.since = since
    let enterpriseIds: readonly string[] | null = q.enterpriseId ? [q.enterpriseId] : null
    if (!j.unrestricted) enterpriseIds = (enterpriseIds ?? j.visibleEnterpriseIds() ?? []).filter((e) => j.seesEnterprise(e))
    if (enterpriseIds && !enterpriseIds.length) return []
    if (enterpriseIds) query.enterpriseIds = enterpriseIds
    const list = await ctx.stores.rejections.list(query)
    return list.filter((r) => j.seesRejection(r)).map((r) => ({ ...r, at: iso(r.at) }))
  })
}
