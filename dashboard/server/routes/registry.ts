// Admin: GET /api/registry (secrets shown as REDACTED), PUT /api/registry (the whole document;
// REDACTED keeps a secret), GET /api/audit. Only an unrestricted admin may read or replace the
// whole registry.
import Type from 'typebox'
import { caller } from '../auth.js'
import { forbidden } from '../http-errors.js'
import { invalid, redactRegistry, REDACTED, restoreSecrets, type RegistryAdmin } from '../registry-admin.js'
import { iso } from '../../../core/contracts/time.js'
import { clampLimit, type RouteContext, type TypedApp } from './context.js'

export function registryRoutes(app: TypedApp, ctx: RouteContext, admin: RegistryAdmin): void {
  const wholeRegistryAdmin = (request: Parameters<typeof caller>[0]) => {
    const me = caller(request)
    if (!me.jurisdiction.unrestricted) throw forbidden('only an administrator without region or enterprise limits may read or replace the whole registry')
    return me
  }

  app.get('/api/registry', {
    config: { auth: 'admin' },
    schema: { tags: ['admin'], summary: `The registry document (passwords and tokens shown as "${REDACTED}")` },
  }, async (request) => {
    wholeRegistryAdmin(request)
    const idx = ctx.registry.current()
    return { version: idx.version, doc: redactRegistry(idx.doc) }
  })

  app.put('/api/registry', {
    config: { auth: 'admin' },
    bodyLimit: ctx.registryBodyLimit,
    schema: { tags: ['admin'], summary: `Replace the registry (validated; "${REDACTED}" keeps an existing secret)`, body: Type.Unknown() },
  }, async (request) => {
    const me = wholeRegistryAdmin(request)
    const { doc, problems } = restoreSecrets(request.body, ctx.registry.current())
    if (problems.length) throw invalid(problems)
    const version = await admin.save(doc, { by: me.username, action: 'registry.replace', target: 'registry' })
    return { version }
  })

  app.get('/api/audit', {
    config: { auth: 'admin' },
    schema: { tags: ['admin'], summary: 'Registry changes, newest first', querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1 })) }) },
  }, async (request) => {
    const entries = await ctx.stores.registry.audit(clampLimit(request.query.limit, 100, 1000))
    return entries.map((e) => ({ ...e, at: iso(e.at) }))
  })
}
