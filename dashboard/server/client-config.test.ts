// The base-map configuration reaches the web client, and the page's CSP admits the tile server.
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../core/config/load-config.js'
import { startHarness, type Harness } from './testing/harness.js'

let h: Harness | undefined
afterEach(async () => { await h?.close(); h = undefined })

describe('GET /api/client-config', () => {
  it('says "none" by default: the map is drawn offline from the registry boundaries', async () => {
    h = await startHarness()
    const res = await fetch(`${h.base}/api/client-config`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ baseMap: { kind: 'none' } })
  })

  it('serves a configured MapLibre tile server and allows its origin in the CSP', async () => {
    h = await startHarness({ baseMap: { kind: 'maplibre', tiles: 'http://10.1.2.3:8081/tiles/{z}/{x}/{y}.png' }, cspExtraOrigins: ['http://10.1.2.3:8081'] })
    const res = await fetch(`${h.base}/api/client-config`)
    expect(await res.json()).toEqual({ baseMap: { kind: 'maplibre', tiles: 'http://10.1.2.3:8081/tiles/{z}/{x}/{y}.png' } })
    expect(res.headers.get('content-security-policy')).toContain('http://10.1.2.3:8081')
  })
})

describe('base-map settings', () => {
  it('reads YUJING_MAP, YUJING_MAP_TILES and MAPBOX_TOKEN', () => {
    expect(loadConfig({}, {}).http.map).toEqual({ kind: 'none' })
    expect(loadConfig({}, { YUJING_MAP: 'maplibre', YUJING_MAP_TILES: 'http://tiles.local/{z}/{x}/{y}.png' }).http.map)
      .toEqual({ kind: 'maplibre', tiles: 'http://tiles.local/{z}/{x}/{y}.png' })
    expect(loadConfig({}, { MAPBOX_TOKEN: 'pk.test' }).http.map).toEqual({ kind: 'mapbox', token: 'pk.test' })
    expect(() => loadConfig({}, { YUJING_MAP: 'google' })).toThrow(/map/)
  })
})
