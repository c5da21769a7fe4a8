// GET /api/warnings (default: every warning not closed, most severe first then newest; limit 100,
// max 1000), GET /api/warnings/:id, and POST .../ack|dispose|close (duty, admin): sent to alerting
// as a command on the bus; the answer (200 with the warning, 404, 409, or 503 on timeout) is returned.
import Type from 'typebox'
import { CloseBody, NoteBody } from '../../../core/contracts/api.js'
import type { CommandAction } from '../../../core/contracts/command.js'
import { LEVEL_OF_COLOR, type Color, type WarningLevel } from '../../../core/contracts/levels.js'
import { WARNING_STATUSES, type Outcome, type Warning, type WarningStatus } from '../../../core/contracts/warning.js'
import type { WarningQuery } from '../../../core/store/ports.js'
import { AppError, type ErrorCode } from '../../../core/runtime/errors.js'
import { caller, type AuthUser } from '../auth.js'
import { badRequest, notFound, STATUS_OF_CODE } from '../http-errors.js'
import { listParam, parseTimeParam } from '../time-param.js'
import { compareWarnings } from '../views.js'
import { clampLimit, type RouteContext, type TypedApp } from './context.js'

const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) })

const CODE_OF_STATUS: Record<number, ErrorCode> = { 400: 'BAD_REQUEST', 403: 'FORBIDDEN', 404: 'NOT_FOUND', 409: 'CONFLICT', 503: 'BUS_UNAVAILABLE' }

function parseStatuses(v: string | undefined): WarningStatus[] | undefined {
  const items = listParam(v)
  if (!items.length) return undefined
  if (items.includes('all')) return [...WARNING_STATUSES]
  for (const s of items) if (!(WARNING_STATUSES as readonly string[]).includes(s)) throw badRequest(`status: unknown status "${s.slice(0, 32)}" (expected ${WARNING_STATUSES.join(', ')} or all)`)
  return items as WarningStatus[]
}

function parseLevels(v: string | undefined): WarningLevel[] | undefined {
  const items = listParam(v)
  if (!items.length) return undefined
  return items.map((s) => {
    if (/^[1-4]$/.test(s)) return Number(s) as WarningLevel
    const c = LEVEL_OF_COLOR[s as Color]
    if (c) return c
    throw badRequest(`level: expected 1..4 or a colour, got "${s.slice(0, 32)}"`)
  })
}

/** ack and dispose may be sent without a body. */
async function emptyBodyIsEmptyObject(request: { body: unknown }): Promise<void> {
  if (request.body === undefined || request.body === null) request.body = {}
}

export function warningRoutes(app: TypedApp, ctx: RouteContext): void {
  async function visibleWarning(me: AuthUser, id: string): Promise<Warning> {
    const w = (await ctx.stores.warnings.get(id)) ?? ctx.live.warning(id)
    if (!w || !me.jurisdiction.seesWarning(w)) throw notFound('warning', id)
    return w
  }

  app.get('/api/warnings', {
    schema: {
      tags: ['warnings'],
      summary: 'Warnings; without status every warning not closed, most severe first then newest',
      querystring: Type.Object({
        status: Type.Optional(Type.String({ maxLength: 128, description: 'comma-separated: open,acknowledged,disposing,closed or all' })),
        level: Type.Optional(Type.String({ maxLength: 64, description: 'comma-separated 1..4 (or colours)' })),
        regionId: Type.Optional(Type.String({ maxLength: 128, description: 'the region and everything below it' })),
        enterpriseId: Type.Optional(Type.String({ maxLength: 128 })),
        sensorId: Type.Optional(Type.String({ maxLength: 128 })),
        since: Type.Optional(Type.String({ maxLength: 64, description: 'updated at or after (ISO with offset, or epoch ms)' })),
        limit: Type.Optional(Type.Integer({ minimum: 1, description: 'default 100, at most 1000' })),
      }),
    },
  }, async (request) => {
    const me = caller(request)
    const j = me.jurisdiction
    const idx = ctx.registry.current()
    const q = request.query
    const query: WarningQuery = { limit: clampLimit(q.limit, 100, 1000) }
    const status = parseStatuses(q.status)
    if (status) query.status = status
    const level = parseLevels(q.level)
    if (level) query.level = level
    const since = parseTimeParam(q.since, 'since')
    if (since !== undefined) query.since = since
    if (q.sensorId) query.sensorId = q.sensorId

    let regionIds: string[] | undefined
    if (q.regionId) regionIds = [...idx.regions.keys()].filter((r) => idx.isWithin(r, q.regionId!))
    let enterpriseIds: readonly string[] | undefined = q.enterpriseId ? [q.enterpriseId] : undefined
    if (!j.unrestricted) {
      if (me.user.enterpriseIds) enterpriseIds = (enterpriseIds ?? j.visibleEnterpriseIds() ?? []).filter((e) => j.seesEnterprise(e))
      else {
        const mine = j.visibleRegionIds() ?? []
        regionIds = regionIds ? regionIds.filter((r) => j.seesRegion(r)) : [...mine]
        if (enterpriseIds) enterpriseIds = enterpriseIds.filter((e) => j.seesEnterprise(e))
      }
    }
    // An empty filter would mean "no filter" to the store: nothing visible matches, so answer [].
    if ((regionIds && !regionIds.length) || (enterpriseIds && !enterpriseIds.length)) return []
    if (regionIds) query.regionIds = regionIds
    if (enterpriseIds) query.enterpriseIds = enterpriseIds
    const ws = await ctx.stores.warnings.list(query)
    return ws.filter((w) => j.seesWarning(w)).sort(compareWarnings)
  })

  app.get('/api/warnings/:id', { schema: { tags: ['warnings'], summary: 'One warning with its history', params: Params } }, async (request) => {
    return visibleWarning(caller(request), request.params.id)
  })

  async function command(me: AuthUser, id: string, action: CommandAction, note: string | undefined, outcome?: Outcome): Promise<Warning> {
    await visibleWarning(me, id)
    const cmd: Parameters<typeof ctx.commands.send>[0] = { action, warningId: id, by: me.username }
    if (note !== undefined) cmd.note = note
    if (outcome !== undefined) cmd.outcome = outcome
    const res = await ctx.commands.send(cmd)
    if (res.ok && res.warning) return res.warning
    if (res.ok) return visibleWarning(me, id)
    const e = res.error ?? { code: 'INTERNAL', message: 'command failed', status: 500 }
    const known = e.code as ErrorCode
    const code: ErrorCode = STATUS_OF_CODE[known] === e.status ? known : (CODE_OF_STATUS[e.status] ?? 'INTERNAL')
    throw new AppError(code, e.message)
  }

  app.post('/api/warnings/:id/ack', {
    config: { auth: 'duty' },
    preValidation: emptyBodyIsEmptyObject,
    schema: { tags: ['warnings'], summary: 'Acknowledge (from open); 409 otherwise. The body {note} is optional.', params: Params, body: NoteBody },
  }, async (request) => command(caller(request), request.params.id, 'ack', request.body.note))

  app.post('/api/warnings/:id/dispose', {
    config: { auth: 'duty' },
    preValidation: emptyBodyIsEmptyObject,
    schema: { tags: ['warnings'], summary: 'Start disposal (from open or acknowledged); 409 otherwise. The body {note} is optional.', params: Params, body: NoteBody },
  }, async (request) => command(caller(request), request.params.id, 'dispose', request.body.note))

  app.post('/api/warnings/:id/close', {
    config: { auth: 'duty' },
    schema: { tags: ['warnings'], summary: 'Close with an outcome (from any status but closed); 409 when closed', params: Params, body: CloseBody },
  }, async (request) => command(caller(request), request.params.id, 'close', request.body.note, request.body.outcome))
}
