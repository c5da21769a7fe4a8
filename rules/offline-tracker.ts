// Offline detection by timer on ingest receive time. A sensor is offline when the watermark (latest
// receivedAt of readings or ingest heartbeats) is more than its maxSilence past its last reading. A silent
// gateway raises one finding for its sensors; a silent pipeline raises one platform finding and no sensor ones.
import type { Finding } from '../core/contracts/finding.js'
import type { Clock } from '../core/runtime/clock.js'
import type { CompiledSensor } from './compile.js'
import {
  gatewayOfflineTitle, gatewayOnlineTitle, platformRecoveredTitle, platformSilentTitle, sensorOfflineTitle, sensorOnlineTitle,
} from './titles.js'

export interface OfflineTrackerOptions {
  clock: Clock
  /** The pipeline is silent when the watermark is older than this relative to clock.now() (default 15 s). */
  platformSilenceMs?: number
}

export interface OfflineTracker {
  /** Tracks exactly these sensors from now on (state kept for those that remain); pushes clears for removed ones reported offline. */
  setSensors(sensors: Iterable<CompiledSensor>, platformRegionId: string, out?: Finding[]): Finding[]
  /** Starts watching more sensors (an enterprise taken over), their silence counting from the watermark;
   *  sensors already watched keep their state. Costs O(added), where setSensors rebuilds everything. */
  addSensors(sensors: Iterable<CompiledSensor>): void
  /** A batch or heartbeat was received by ingest at `at` (advances the watermark). */
  observe(at: number): void
  /** A reading of `sensorId` was received at `receivedAt`; pushes online findings if it was reported offline. */
  onReading(sensorId: string, receivedAt: number, out: Finding[]): void
  /** Timer tick: pushes (and returns) active findings for every offline sensor / gateway, or the platform finding. */
  tick(out?: Finding[]): Finding[]
  /** Sensors offline at the last tick (for metrics.sensorsOffline). */
  offlineCount(): number
  /** Gateways whose every sensor is offline, at the last tick. */
  offlineGatewayCount(): number
  /** Was the pipeline silent at the last tick? */
  platformSilent(): boolean
  watermark(): number
}

interface GatewayRec {
  id: string
  enterpriseId: string
  enterpriseName: string
  regionId: string
  sensors: SensorRec[]
  offline: boolean
  reported: boolean
}

interface SensorRec {
  c: CompiledSensor
  last: number
  offline: boolean
  reported: boolean
  gw: GatewayRec | null
}

export const PLATFORM_KEY = 'platform|ingest_silent'

export function createOfflineTracker(opts: OfflineTrackerOptions): OfflineTracker {
  const clock = opts.clock
  const platformSilenceMs = opts.platformSilenceMs ?? 15_000
  const startedAt = clock.now()
  let watermark = startedAt
  /** After a silence of the pipeline itself, every sensor's silence counts from when it resumed. */
  let resumedAt = startedAt
  let sensors = new Map<string, SensorRec>()
  let gateways = new Map<string, GatewayRec>()
  let platformRegionId = '-'
  let platformReported = false
  let silentNow = false
  let offlineN = 0
  let offlineGw = 0

  function sensorFinding(r: SensorRec, active: boolean, at: number, receivedAt?: number): Finding {
    const c = r.c
    const silenceS = (watermark - Math.max(r.last, resumedAt)) / 1000
    const f: Finding = {
      key: `${c.sensorId}|offline`, kind: 'offline', ruleId: 'offline', enterpriseId: c.enterpriseId, sensorId: c.sensorId,
      regionId: c.regionId, active, level: active ? 3 : null, title: active ? sensorOfflineTitle(c, silenceS) : sensorOnlineTitle(c), at,
    }
    if (c.gatewayId) f.gatewayId = c.gatewayId
    if (active) { f.value = Math.round(silenceS); f.threshold = c.maxSilenceMs / 1000 }
    if (receivedAt !== undefined) f.receivedAt = receivedAt
    return f
  }

  function gatewayFinding(g: GatewayRec, active: boolean, at: number, receivedAt?: number): Finding {
    let newest = -Infinity
    let limit = 0
    for (const r of g.sensors) { newest = Math.max(newest, r.last, resumedAt); limit = Math.max(limit, r.c.maxSilenceMs) }
    const silenceS = (watermark - newest) / 1000
    const f: Finding = {
      key: `${g.id}|gateway_offline`, kind: 'offline', ruleId: 'gateway_offline', enterpriseId: g.enterpriseId, gatewayId: g.id,
      regionId: g.regionId, active, level: active ? 2 : null,
      title: active ? gatewayOfflineTitle(g.enterpriseName, g.id, g.sensors.length, silenceS) : gatewayOnlineTitle(g.enterpriseName, g.id), at,
    }
    if (active) { f.value = Math.round(silenceS); f.threshold = limit / 1000 }
    if (receivedAt !== undefined) f.receivedAt = receivedAt
    return f
  }

  function platformFinding(active: boolean, at: number): Finding {
    const silenceS = (at - watermark) / 1000
    const f: Finding = {
      key: PLATFORM_KEY, kind: 'platform', ruleId: 'ingest_silent', enterpriseId: '-', regionId: platformRegionId, active,
      level: active ? 2 : null, title: active ? platformSilentTitle(silenceS) : platformRecoveredTitle(), at,
    }
    if (active) { f.value = Math.round(silenceS); f.threshold = platformSilenceMs / 1000 }
    return f
  }

  /** Puts `r` among its gateway's sensors in `into`, making the gateway's record (state from `prev`) if needed. */
  function joinGateway(r: SensorRec, into: Map<string, GatewayRec>, prev?: GatewayRec): void {
    const c = r.c
    if (!c.gatewayId) return
    let g = into.get(c.gatewayId)
    if (!g) {
      g = { id: c.gatewayId, enterpriseId: c.enterpriseId, enterpriseName: c.enterpriseName, regionId: c.regionId, sensors: [], offline: prev?.offline ?? false, reported: prev?.reported ?? false }
      into.set(c.gatewayId, g)
    }
    g.sensors.push(r)
    r.gw = g
  }

  const tracker: OfflineTracker = {
    setSensors(list, regionId, out = []) {
      platformRegionId = regionId
      const at = clock.now()
      const nextSensors = new Map<string, SensorRec>()
      const nextGateways = new Map<string, GatewayRec>()
      for (const c of list) {
        const prev = sensors.get(c.sensorId)
        const r: SensorRec = prev
          ? { c, last: prev.last, offline: prev.offline, reported: prev.reported, gw: null }
          : { c, last: watermark, offline: false, reported: false, gw: null }
        joinGateway(r, nextGateways, c.gatewayId ? gateways.get(c.gatewayId) : undefined)
        nextSensors.set(c.sensorId, r)
      }
      for (const [id, r] of sensors) if (r.reported && !nextSensors.has(id)) out.push(sensorFinding(r, false, at))
      for (const [id, g] of gateways) if (g.reported && !nextGateways.has(id)) out.push(gatewayFinding(g, false, at))
      sensors = nextSensors
      gateways = nextGateways
      offlineN = 0
      for (const r of sensors.values()) if (r.offline) offlineN++
      return out
    },

    addSensors(list) {
      for (const c of list) {
        if (sensors.has(c.sensorId)) continue
        const r: SensorRec = { c, last: watermark, offline: false, reported: false, gw: null }
        joinGateway(r, gateways)
        sensors.set(c.sensorId, r)
      }
    },

    observe(at) {
      if (!(at > watermark)) return
      if (at - watermark > platformSilenceMs) resumedAt = at
      watermark = at
    },

    onReading(sensorId, receivedAt, out) {
      const r = sensors.get(sensorId)
      if (!r) return
      if (receivedAt > r.last) r.last = receivedAt
      if (r.offline) { r.offline = false; offlineN-- }
      if (r.reported) { r.reported = false; out.push(sensorFinding(r, false, receivedAt, receivedAt)) }
      const g = r.gw
      if (g && (g.offline || g.reported)) {
        if (g.offline) { g.offline = false; offlineGw-- }
        if (g.reported) { g.reported = false; out.push(gatewayFinding(g, false, receivedAt, receivedAt)) }
      }
    },

    tick(out = []) {
      const now = clock.now()
      silentNow = now - watermark > platformSilenceMs
      if (silentNow) {
        platformReported = true
        out.push(platformFinding(true, now))
        return out
      }
      if (platformReported) { platformReported = false; out.push(platformFinding(false, now)) }
      let n = 0
      for (const r of sensors.values()) {
        r.offline = watermark - Math.max(r.last, resumedAt) > r.c.maxSilenceMs
        if (r.offline) n++
      }
      offlineN = n
      let ng = 0
      for (const g of gateways.values()) {
        let all = g.sensors.length > 0
        for (const r of g.sensors) if (!r.offline) { all = false; break }
        g.offline = all
        if (all) { ng++; g.reported = true; out.push(gatewayFinding(g, true, now)) }
      }
      offlineGw = ng
      for (const r of sensors.values()) {
        if (r.offline && !(r.gw && r.gw.offline)) { r.reported = true; out.push(sensorFinding(r, true, now)) }
      }
      return out
    },

    offlineCount: () => offlineN,
    offlineGatewayCount: () => offlineGw,
    platformSilent: () => silentNow,
    watermark: () => watermark,
  }
  return tracker
}
