// MapLibre base map (BSD-3, no token) with the deck.gl layers on top through MapLibreOverlay
// (overlaid). Loaded only when /api/client-config configures it. The worker URL is set explicitly
// (Vite does not emit it otherwise).
import { Map as MlMap, setWorkerUrl, type StyleSpecification } from 'maplibre-gl'
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url'
import 'maplibre-gl/dist/maplibre-gl.css'
import { MapLibreOverlay } from '@deck.gl/maplibre'
import { DEFAULT_VIEW, overlayHost, overlayProps, type BaseMapConfig, type MapCallbacks, type MapHost } from './map-host.js'

setWorkerUrl(workerUrl)

/** A raster style from an XYZ tile URL (an intranet tile server). */
export function rasterStyle(tiles: string, attribution?: string): StyleSpecification {
  return {
    version: 8,
    sources: { base: { type: 'raster', tiles: [tiles], tileSize: 256, ...(attribution ? { attribution } : {}) } },
    layers: [{ id: 'bg', type: 'background', paint: { 'background-color': '#0b1220' } }, { id: 'base', type: 'raster', source: 'base', paint: { 'raster-opacity': 0.75 } }],
  }
}

export function createMaplibreHost(container: HTMLElement, cfg: Extract<BaseMapConfig, { kind: 'maplibre' }>, cb: MapCallbacks): MapHost {
  const style = cfg.style ?? rasterStyle(cfg.tiles ?? '', cfg.attribution)
  const map = new MlMap({
    container,
    style: style as StyleSpecification | string,
    center: [DEFAULT_VIEW.longitude, DEFAULT_VIEW.latitude],
    zoom: DEFAULT_VIEW.zoom,
    attributionControl: cfg.attribution ? {} : false,
    dragRotate: false,
  })
  return overlayHost('maplibre', map, new MapLibreOverlay(overlayProps(cb)))
}
