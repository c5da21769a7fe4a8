// GET /api/client-config (public): what the web client needs before login — the base map. Without
// configuration the map is drawn offline from the registry's own boundaries (kind "none").
import type { TypedApp } from './context.js'

export type BaseMapOption =
  | { kind: 'none' }
  | { kind: 'maplibre'; style?: string; tiles?: string; attribution?: string }
  | { kind: 'mapbox'; token: string; style?: string }

export function clientConfigRoutes(app: TypedApp, baseMap: BaseMapOption): void {
  app.get('/api/client-config', {
    config: { auth: 'public' },
    schema: { tags: ['system'], summary: 'Client configuration: the base map (none = offline, from the registry boundaries)' },
  }, async () => ({ baseMap }))
}
