// mapbox-gl base map, only when an operator configured a token (proprietary, calls Mapbox servers).
// mapbox-gl is an optional package: it is imported lazily, and when it is absent the build aliases it
// to a stub, so this fails with a clear message instead of a blank map.
import { MapboxOverlay } from '@deck.gl/mapbox'
import { DEFAULT_VIEW, overlayHost, overlayProps, type BaseMapConfig, type MapCallbacks, type MapHost } from './map-host.js'

export async function createMapboxHost(container: HTMLElement, cfg: Extract<BaseMapConfig, { kind: 'mapbox' }>, cb: MapCallbacks): Promise<MapHost> {
  let mod: { default?: unknown; Map?: unknown }
  try {
    // @ts-ignore -- optional dependency, may not be installed
    mod = await import('mapbox-gl')
  } catch (e) {
    throw new Error(`mapbox-gl base map unavailable: ${e instanceof Error ? e.message : String(e)}`)
  }
  const mapboxgl = (mod.default ?? mod) as { Map: new (o: Record<string, unknown>) => MapboxLike; accessToken: string }
  mapboxgl.accessToken = cfg.token
  const map = new mapboxgl.Map({
    container,
    style: cfg.style ?? 'mapbox://styles/mapbox/dark-v11',
    center: [DEFAULT_VIEW.longitude, DEFAULT_VIEW.latitude],
    zoom: DEFAULT_VIEW.zoom,
  })
  return overlayHost('mapbox', map, new MapboxOverlay(overlayProps(cb)))
}

interface MapboxLike {
  addControl(c: unknown): void
  removeControl(c: unknown): void
  fitBounds(b: [[number, number], [number, number]], o: Record<string, unknown>): void
  remove(): void
}
