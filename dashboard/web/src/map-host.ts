// Where the deck.gl layers are drawn: standalone `Deck` (default: no base map, nothing leaves the
// machine), or over a MapLibre / mapbox-gl base map when /api/client-config says so. Both base-map
// modules are loaded with dynamic import() only when configured, so the default bundle lacks them.
import { Deck, WebMercatorViewport, FlyToInterpolator, type Layer, type PickingInfo } from '@deck.gl/core'

export type BBox = [number, number, number, number]

export interface MapCallbacks {
  onHover(info: PickingInfo): void
  onClick(info: PickingInfo): void
  onAfterRender(): void
}

export interface MapHost {
  readonly kind: 'none' | 'maplibre' | 'mapbox'
  setLayers(layers: Layer[]): void
  fitBounds(b: BBox, animate?: boolean): void
  destroy(): void
}

/** deck.gl overlay props wiring the map callbacks (the same for MapLibre and mapbox-gl overlays). */
export function overlayProps(cb: MapCallbacks) {
  return {
    interleaved: false,
    layers: [] as Layer[],
    onHover: (info: PickingInfo) => cb.onHover(info),
    onClick: (info: PickingInfo) => cb.onClick(info),
    onAfterRender: () => cb.onAfterRender(),
  }
}

/** A MapHost of deck.gl layers in an overlay control on a MapLibre or mapbox-gl map. */
export function overlayHost(
  kind: 'maplibre' | 'mapbox',
  map: { addControl(c: never): unknown; removeControl(c: never): unknown; fitBounds(b: [[number, number], [number, number]], o: Record<string, unknown>): unknown; remove(): void },
  overlay: { setProps(p: { layers: Layer[] }): void },
): MapHost {
  map.addControl(overlay as never)
  return {
    kind,
    setLayers(layers) { overlay.setProps({ layers }) },
    fitBounds(b, animate = true) { map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 40, animate, maxZoom: 14 }) },
    destroy() { map.removeControl(overlay as never); map.remove() },
  }
}

export type BaseMapConfig =
  | { kind: 'none' }
  | { kind: 'maplibre'; style?: string | Record<string, unknown>; tiles?: string; attribution?: string }
  | { kind: 'mapbox'; token: string; style?: string }

/** Validate GET /api/client-config's baseMap; anything unexpected means "none". */
export function parseBaseMap(cfg: unknown): BaseMapConfig {
  const b = (cfg as { baseMap?: unknown } | null | undefined)?.baseMap as Record<string, unknown> | undefined
  if (!b || typeof b !== 'object') return { kind: 'none' }
  if (b.kind === 'maplibre' && (typeof b.style === 'string' || (b.style && typeof b.style === 'object') || typeof b.tiles === 'string')) {
    return { kind: 'maplibre', style: b.style as string | Record<string, unknown> | undefined, tiles: typeof b.tiles === 'string' ? b.tiles : undefined, attribution: typeof b.attribution === 'string' ? b.attribution : undefined }
  }
  if (b.kind === 'mapbox' && typeof b.token === 'string' && b.token) return { kind: 'mapbox', token: b.token, style: typeof b.style === 'string' ? b.style : undefined }
  return { kind: 'none' }
}

export const DEFAULT_VIEW = { longitude: 104.5, latitude: 30.5, zoom: 7, pitch: 0, bearing: 0 }

export function viewForBounds(b: BBox, width: number, height: number): { longitude: number; latitude: number; zoom: number } {
  const w = Math.max(50, width), hgt = Math.max(50, height)
  const pad = Math.max(10, Math.min(60, Math.floor(Math.min(w, hgt) / 10)))
  const vp = new WebMercatorViewport({ width: w, height: hgt }).fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: pad, maxZoom: 14 })
  return { longitude: vp.longitude, latitude: vp.latitude, zoom: vp.zoom }
}

function createDeckOnly(container: HTMLElement, cb: MapCallbacks): MapHost {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let viewState: any = { ...DEFAULT_VIEW }
  const deck = new Deck({
    parent: container as HTMLDivElement,
    initialViewState: viewState,
    controller: { doubleClickZoom: true, dragRotate: false, touchRotate: false },
    layers: [],
    useDevicePixels: true,
    onHover: (info) => cb.onHover(info),
    onClick: (info) => cb.onClick(info),
    onAfterRender: () => cb.onAfterRender(),
    getCursor: ({ isHovering, isDragging }) => (isDragging ? 'grabbing' : isHovering ? 'pointer' : 'grab'),
  })
  return {
    kind: 'none',
    setLayers(layers) { deck.setProps({ layers }) },
    fitBounds(b, animate = true) {
      const v = viewForBounds(b, container.clientWidth, container.clientHeight)
      viewState = { ...DEFAULT_VIEW, ...v, ...(animate ? { transitionDuration: 700, transitionInterpolator: new FlyToInterpolator() } : {}) }
      deck.setProps({ initialViewState: viewState })
    },
    destroy() { deck.finalize() },
  }
}

export async function createMapHost(container: HTMLElement, cfg: BaseMapConfig, cb: MapCallbacks): Promise<MapHost> {
  if (cfg.kind === 'maplibre') {
    const m = await import('./basemap-maplibre.js')
    return m.createMaplibreHost(container, cfg, cb)
  }
  if (cfg.kind === 'mapbox') {
    const m = await import('./basemap-mapbox.js')
    return m.createMapboxHost(container, cfg, cb)
  }
  return createDeckOnly(container, cb)
}
