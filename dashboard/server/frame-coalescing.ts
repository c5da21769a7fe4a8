// engine.io hands its WebSocket transport everything that queued up while the previous write was in
// flight as one `send(packets)` call, but ws writes each frame between its own cork() and uncork():
// one system call per frame (on loopback also the receiver's TCP processing, in our process). With
// warnings changing 740 times a second, one dashboard connection cost 740 writev calls a second (4.4 %
// of the event loop in a batch flood), and every further operator as much again. Corking the TCP socket
// around that call (the inner uncorks then flush nothing) makes it one write. The first frame after a
// quiet spell still goes out at once: nothing waits for a timer.
//
// This reaches into engine.io's WebSocket transport (`socket`, the ws WebSocket) and ws (`_socket`, the
// net.Socket); both are pinned in package.json, and frame-coalescing.test.ts fails if they move.
import type { EventEmitter } from 'node:events'

interface Corkable { cork(): void; uncork(): void }
interface TransportLike { name?: string; send?: (packets: unknown[]) => void; socket?: { _socket?: Partial<Corkable> | null } }

const PATCHED = Symbol.for('yujing.frameCoalescing')

/** Wraps the transport's send() in cork/uncork of its TCP socket; false when it is not a WebSocket
 *  transport (long-polling) or its socket cannot be reached. */
export function coalesceTransport(t: unknown): boolean {
  const tr = t as TransportLike & { [PATCHED]?: true }
  if (!tr || tr.name !== 'websocket' || typeof tr.send !== 'function') return false
  if (tr[PATCHED]) return true
  const raw = tr.socket?._socket
  if (!raw || typeof raw.cork !== 'function' || typeof raw.uncork !== 'function') return false
  const tcp = raw as Corkable
  const send = tr.send.bind(tr)
  tr.send = (packets: unknown[]): void => {
    tcp.cork()
    try { send(packets) } finally { tcp.uncork() }
  }
  tr[PATCHED] = true
  return true
}

/** Coalesces the frames of every send of this engine.io connection, also after an upgrade from polling. */
export function coalesceFrames(conn: EventEmitter & { transport?: unknown }): void {
  coalesceTransport(conn.transport)
  conn.on('upgrade', (t: unknown) => { coalesceTransport(t) })
}
