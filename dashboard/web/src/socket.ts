// Live connection (contracts.md §5): socket.io with automatic reconnection. Reports its state so the
// UI can show a banner, re-subscribes to enterprises after a reconnect, and tells the app when the
// server rejected the token (then the operator must log in again).
import { io, type Socket } from 'socket.io-client'
import type { ServerToClientEvents, ClientToServerEvents, ReadingsPush, StatsPush } from '../../../core/contracts/socket-events.js'
import type { Warning } from '../../../core/contracts/warning.js'
import type { RiskEvent } from '../../../core/contracts/risk.js'

export type LiveStatus = 'connecting' | 'connected' | 'disconnected' | 'auth_failed'

export interface LiveHandlers {
  onWarning(w: Warning): void
  onRisk(r: RiskEvent[]): void
  onReadings(r: ReadingsPush): void
  onStats(s: StatsPush): void
  /** `resynced` is true on every connect after the first: the app reloads its snapshots. */
  onStatus(s: LiveStatus, resynced: boolean): void
  /** Asked when the server refuses the handshake: is the token still good? */
  checkAuth(): Promise<boolean>
}

export interface LiveConnection {
  subscribe(enterpriseId: string): void
  unsubscribe(enterpriseId: string): void
  close(): void
  readonly connected: boolean
}

export function connectLive(token: string, h: LiveHandlers, base?: string): LiveConnection {
  const opts = { path: '/socket.io', auth: { token }, transports: ['websocket', 'polling'], reconnection: true, reconnectionDelay: 500, reconnectionDelayMax: 3000, timeout: 8000 }
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = base ? io(base, opts) : io(opts)
  const subs = new Set<string>()
  let everConnected = false
  let closed = false
  let retry: ReturnType<typeof setTimeout> | undefined

  h.onStatus('connecting', false)
  socket.on('connect', () => {
    const again = everConnected
    everConnected = true
    for (const id of subs) socket.emit('subscribe', { enterpriseId: id })
    h.onStatus('connected', again)
  })
  socket.on('disconnect', () => { if (!closed) h.onStatus('disconnected', false) })
  socket.on('connect_error', () => {
    if (closed) return
    h.onStatus('disconnected', false)
    // A middleware refusal stops socket.io's own retries (socket.active is false): check the token,
    // then retry ourselves, or hand over to the login screen.
    if (!socket.active) {
      clearTimeout(retry)
      retry = setTimeout(() => {
        void h.checkAuth().then((ok) => {
          if (closed) return
          if (ok) socket.connect()
          else h.onStatus('auth_failed', false)
        }, () => { if (!closed) socket.connect() })
      }, 1500)
    }
  })
  socket.on('warning', (w) => h.onWarning(w))
  socket.on('risk', (r) => h.onRisk(Array.isArray(r) ? r : [r as unknown as RiskEvent]))
  socket.on('readings', (r) => h.onReadings(r))
  socket.on('stats', (s) => h.onStats(s))

  return {
    subscribe(id) { subs.add(id); if (socket.connected) socket.emit('subscribe', { enterpriseId: id }) },
    unsubscribe(id) { subs.delete(id); if (socket.connected) socket.emit('unsubscribe', { enterpriseId: id }) },
    close() { closed = true; clearTimeout(retry); socket.close() },
    get connected() { return socket.connected },
  }
}
