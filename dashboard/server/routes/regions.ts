// GET /api/regions?level=, GET /api/regions/:id and GET /api/map/regions?level= (GeoJSON), limited
// to the caller's jurisdiction (regions outside it are absent from lists and 404 in detail).
import Type from 'typebox'
import { RegionLevel } from '../../../core/contracts/registry.js'
import { caller } from '../auth.js'
import { notFound } from '../http-errors.js'
import { enterpriseSummary, regionAggregates, regionSummary, warningsByEnterprise } from '../views.js'
import type { RouteContext, TypedApp } from './context.js'

const LevelQuery = Type.Object({ level: Type.Optional(RegionLevel) })

export function regionRoutes(app: TypedApp, ctx: RouteContext): void {
  const visibleRegions = (j: ReturnType<typeof caller>['jurisdiction'], level?: string) => {
    const idx = ctx.registry.current()
    return idx.doc.regions.filter((r) => (!level || r.level === level) && j.seesRegion(r.id))
  }

  app.get('/api/regions', {
    schema: { tags: ['regions'], summary: 'Regions with risk level, score, enterprise counts by level and open warnings', querystring: LevelQuery },
  }, async (request) => {
    const me = caller(request)
    const idx = ctx.registry.current()
    const agg = regionAggregates(idx, ctx.live)
    return visibleRegions(me.jurisdiction, request.query.level).map((r) => regionSummary(r, ctx.live, agg))
  })

  app.get('/api/regions/:id', {
    schema: { tags: ['regions'], summary: 'One region: summary, child regions and its enterprises', params: Type.Object({ id: Type.String({ maxLength: 128 }) }) },
  }, async (request) => {
    const me = caller(request)
    const idx = ctx.registry.current()
    const r = idx.regions.get(request.params.id)
    if (!r || !me.jurisdiction.seesRegion(r.id)) throw notFound('region', request.params.id)
    const agg = regionAggregates(idx, ctx.live)
    const byEnt = warningsByEnterprise(ctx.live)
    return {
      ...regionSummary(r, ctx.live, agg),
      boundary: r.boundary ?? null,
      contacts: r.contacts ?? [],
      factors: ctx.live.risk('region', r.id)?.factors ?? [],
      children: (idx.childRegions.get(r.id) ?? []).flatMap((c) => { const cr = idx.regions.get(c); return cr ? [regionSummary(cr, ctx.live, agg)] : [] }),
      enterprises: (idx.enterprisesByRegion.get(r.id) ?? []).map((e) => enterpriseSummary(idx, ctx.live, e, byEnt.get(e.id) ?? [])),
    }
  })

  app.get('/api/map/regions', {
    schema: { tags: ['regions'], summary: 'Regions as a GeoJSON FeatureCollection (geometry = boundary, properties = the region summary)', querystring: LevelQuery },
  }, async (request) => {
    const me = caller(request)
    const idx = ctx.registry.current()
    const agg = regionAggregates(idx, ctx.live)
    return {
      type: 'FeatureCollection',
      features: visibleRegions(me.jurisdiction, request.query.level).map((r) => ({
        type: 'Feature',
        id: r.id,
        geometry: r.boundary ?? null,
        properties: regionSummary(r, ctx.live, agg),
      })),
    }
  })
}
