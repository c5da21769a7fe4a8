// The running session shared by the views: API client, live connection, stores and filters, plus a
// tiny change bus (`emit`/`on`) so each view redraws only on the topics it cares about.
import type { ApiClient } from './api.js'
import type { LiveConnection } from './socket.js'
import type { AlarmSound } from './sound.js'
import type { EnterpriseTable, WarningStore } from './store.js'
import type { MapFilter } from './filters.js'
import type { StatsPush } from '../../../core/contracts/socket-events.js'
import type { RegionSummary } from '../../../core/contracts/api.js'
import type { Color } from '../../../core/contracts/levels.js'
import type { WarningStatus } from '../../../core/contracts/warning.js'
import type { ReadingsPush } from '../../../core/contracts/socket-events.js'

export type Topic = 'warnings' | 'stats' | 'enterprises' | 'regions' | 'risk-regions' | 'filter' | 'lang' | 'connection' | 'readings' | 'alarm'

export interface SessionUser { username: string; role: 'viewer' | 'duty' | 'admin'; name?: string; regionIds?: string[]; enterpriseIds?: string[] }

export interface DeskFilter { levels: Set<Color>; status: WarningStatus | undefined; text: string }

export interface Ctx {
  api: ApiClient
  live: LiveConnection | null
  user: SessionUser
  warnings: WarningStore
  enterprises: EnterpriseTable
  regions: RegionSummary[]
  stats: StatsPush
  sound: AlarmSound
  mapFilter: MapFilter
  deskFilter: DeskFilter
  connection: 'connecting' | 'connected' | 'disconnected'
  lastReadings: ReadingsPush | null
  lastAlarm: { id: string; color: Color } | null
  canAct(): boolean
  openEnterprise(id: string): void
  openWarning(id: string): void
  zoomToRegion(id: string): void
  emit(topic: Topic): void
  on(topic: Topic, f: () => void): () => void
}

export function createBus(): Pick<Ctx, 'emit' | 'on'> {
  const subs = new Map<Topic, Set<() => void>>()
  return {
    emit(topic) { for (const f of subs.get(topic) ?? []) { try { f() } catch (e) { console.error(e) } } },
    on(topic, f) {
      let s = subs.get(topic)
      if (!s) { s = new Set(); subs.set(topic, s) }
      s.add(f)
      return () => { s!.delete(f) }
    },
  }
}
