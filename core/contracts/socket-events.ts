// socket.io events (contracts.md §5), typed for the server and the web client.
import Type, { type Static } from 'typebox'
import type { Warning } from './warning.js'
import type { RiskEvent } from './risk.js'
import { Quality } from './reading.js'

export const SOCKET_EVENTS = { warning: 'warning', risk: 'risk', readings: 'readings', stats: 'stats', subscribe: 'subscribe', unsubscribe: 'unsubscribe' } as const

export const ReadingsPush = Type.Object({
  enterpriseId: Type.String(),
  items: Type.Array(Type.Object({ sensorId: Type.String(), ts: Type.String(), value: Type.Number(), quality: Quality })),
})
export type ReadingsPush = Static<typeof ReadingsPush>

export const SubscribeRequest = Type.Object({ enterpriseId: Type.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: false })
export type SubscribeRequest = Static<typeof SubscribeRequest>

/** Live counters for the header (pushed every second). */
export const StatsPush = Type.Object({
  readingsPerSecond: Type.Number(),
  sensorsOffline: Type.Integer(),
  openWarnings: Type.Object({ red: Type.Integer(), orange: Type.Integer(), yellow: Type.Integer(), blue: Type.Integer() }),
  overdue: Type.Integer(),
  enterprises: Type.Object({ red: Type.Integer(), orange: Type.Integer(), yellow: Type.Integer(), blue: Type.Integer() }),
})
export type StatsPush = Static<typeof StatsPush>

export interface ServerToClientEvents {
  warning: (w: Warning) => void
  risk: (r: RiskEvent[]) => void
  readings: (r: ReadingsPush) => void
  stats: (s: StatsPush) => void
}

export interface ClientToServerEvents {
  subscribe: (req: SubscribeRequest, ack?: (res: { ok: boolean; error?: string }) => void) => void
  unsubscribe: (req: SubscribeRequest, ack?: (res: { ok: boolean; error?: string }) => void) => void
}
