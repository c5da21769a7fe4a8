// One error shape for every HTTP failure: {error: {code, message}} with the right status. AppError
// codes and fastify's own 4xx errors keep their message; anything else is a logged, generic 500.
import type { FastifyError, FastifyInstance } from 'fastify'
import type {} from '@fastify/static' // reply.sendFile typings
import { AppError, type ErrorCode } from '../../core/runtime/errors.js'

export const STATUS_OF_CODE: Readonly<Partial<Record<ErrorCode, number>>> = {
  BAD_REQUEST: 400, MESSAGE_INVALID: 400, REGISTRY_INVALID: 400, CONFIG_INVALID: 400,
  UNAUTHORIZED: 401, FORBIDDEN: 403, NOT_FOUND: 404, CONFLICT: 409, TRANSITION_INVALID: 409,
  RATE_LIMITED: 429, TIMEOUT: 503, BUS_UNAVAILABLE: 503, STORE_UNAVAILABLE: 503,
}

export const badRequest = (message: string, details?: unknown): AppError => new AppError('BAD_REQUEST', message, { details })
export const notFound = (what: string, id: string): AppError => new AppError('NOT_FOUND', `${what} "${id}" not found`)
export const forbidden = (message: string): AppError => new AppError('FORBIDDEN', message)
export const unauthorized = (message = 'authentication required'): AppError => new AppError('UNAUTHORIZED', message)

interface ErrorBody { error: { code: string; message: string; details?: unknown } }

/** Paths that never fall back to the web client. */
const NOT_SPA = /^\/(api|socket\.io|docs|metrics)(\/|$|\?)/

/** `spaIndex`: unknown GET paths outside the API that accept HTML get the client's index.html. */
export function installErrorHandlers(app: FastifyInstance, opts: { spaIndex?: boolean } = {}): void {
  app.setErrorHandler((err: FastifyError | AppError | Error, request, reply) => {
    let status = 500
    let body: ErrorBody = { error: { code: 'INTERNAL', message: 'internal error' } }
    const fe = err as FastifyError
    if (err instanceof AppError) {
      const s = STATUS_OF_CODE[err.code]
      if (s) {
        status = s
        body = { error: { code: err.code, message: err.message } }
        const d = err.details as { retryAfterSeconds?: number; problems?: unknown } | undefined
        if (d?.retryAfterSeconds !== undefined) reply.header('retry-after', String(d.retryAfterSeconds))
        if (d?.problems !== undefined) body.error.details = d.problems
      }
    } else if (fe.validation) {
      status = 400
      body = { error: { code: 'BAD_REQUEST', message: fe.message } }
    } else if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      status = fe.statusCode
      body = { error: { code: fe.code ?? 'BAD_REQUEST', message: fe.message } }
    }
    if (status >= 500) request.log.error({ err, url: request.url, method: request.method }, 'request failed')
    else request.log.info({ code: body.error.code, status, url: request.url }, 'request refused')
    return reply.status(status).type('application/json; charset=utf-8').send(body)
  })
  app.setNotFoundHandler((request, reply) => {
    if (opts.spaIndex && request.method === 'GET' && !NOT_SPA.test(request.url) && String(request.headers.accept ?? '').includes('text/html')) {
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').sendFile('index.html')
    }
    const path = request.url.split('?')[0] ?? ''
    return reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${path.slice(0, 200)}` } })
  })
}
