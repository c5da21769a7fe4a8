// engine.io hands its WebSocket transport everything that queued up while the previous write was in
// flight as one `send(packets)` call, but ws writes each frame between its own cork() and uncork():
// one system call per frame (on loopback also the receiver's TCP processing, in our process). With
// warnings changing 740 times a second, one dashboard connection cost 740 writev calls a second (4.4 %
// of the event loop in a batch flood), and every further operator as much again. The TCP socket is
// corked from a send until the code running then is done (process.nextTick; ws's inner uncorks flush
// nothing meanwhile), so what one run of the bus delivers leaves in one write (engine.io queues the
// frames after the first until that write completes, then sends them in one call). Nothing waits for a timer.
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
  let corked = false
  const release = (): void => { corked = false; tcp.uncork() }
  tr.send = (packets: unknown[]): void => {
    // Held until the code now running is done (process.nextTick, not a timer): the warnings one bus
    // delivery run pushes leave together.
    if (!corked) { corked = true; tcp.cork(); process.nextTick(release) }
    send(packets)
  }
  tr[PATCHED] = true
  return true
}

/** Coalesces the frames of every send of this engine.io connection, also after an upgrade from polling. */
export function coalesceFrames(conn: EventEmitter & { transport?: unknown }): void {
  coalesceTransport(conn.transport)
  conn.on('upgrade', (t: unknown) => { coalesceTransport(t) })
}
