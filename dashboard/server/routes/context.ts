// What every route module receives: the app (TypeBox-typed) and the server's collaborators.
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type {} from '@fastify/swagger' // schema.tags / summary typings
import type { Bus } from '../../../core/bus/bus.js'
import type { RegistryHolder } from '../../../core/registry/registry-holder.js'
import type { Stores } from '../../../core/store/ports.js'
import type { Metrics } from '../../../core/runtime/metrics.js'
import type { Clock } from '../../../core/runtime/clock.js'
import type { Auth } from '../auth.js'
import type { CommandClient } from '../command-client.js'
import type { LiveView } from '../live-view.js'
import type { EnterpriseLevelIndex } from '../enterprise-level-index.js'

export type TypedApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>

export type HealthFn = () => { status: 'ok' | 'degraded'; checks: Record<string, { ok: boolean; detail?: string }> }

export interface RouteContext {
  auth: Auth
  registry: RegistryHolder
  stores: Stores
  live: LiveView
  /** Enterprises by risk colour, kept current (header stats). */
  levels: EnterpriseLevelIndex
  commands: CommandClient
  bus: Bus
  metrics: Metrics
  clock: Clock
  health: HealthFn
  metricsPublic: boolean
  allowWeakSecrets: boolean
  registryBodyLimit: number
}

/** Clamp a `limit` parameter: default `def`, at most `max`, at least 1. */
export function clampLimit(limit: number | undefined, def: number, max: number): number {
  if (limit === undefined) return def
  return Math.max(1, Math.min(max, Math.floor(limit)))
}
