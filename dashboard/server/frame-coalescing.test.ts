// A burst of socket.io events goes out in a few TCP writes instead of one per frame, in order, over a
// real socket.io server and client — and without the coalescing it is one write per frame (so this
// also fails if engine.io or ws move the internals it relies on).
import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo, Socket as NetSocket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { Server } from 'socket.io'
import { io as connect, type Socket as ClientSocket } from 'socket.io-client'
import { coalesceFrames, coalesceTransport } from './frame-coalescing.js'

const open: { http: HttpServer; io: Server; client: ClientSocket }[] = []
afterEach(async () => {
  for (const o of open.splice(0)) { o.client.close(); await o.io.close() }
})

async function pair(coalesce: boolean, transports: ('polling' | 'websocket')[]) {
  const http = createServer()
  const io = new Server(http)
  if (coalesce) io.engine.on('connection', coalesceFrames)
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r))
  const serverSide = new Promise<import('socket.io').Socket>((r) => io.on('connection', r))
  const client = connect(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, { transports })
  open.push({ http, io, client })
  const socket = await serverSide
  if (transports.includes('polling')) {
    // wait for the upgrade to WebSocket
    for (let i = 0; i < 100 && socket.conn.transport.name !== 'websocket'; i++) await new Promise((r) => setTimeout(r, 20))
  }
  return { io, client, socket }
}

/** Counts the writes the TCP socket under this socket.io connection makes. */
function countWrites(socket: import('socket.io').Socket): () => number {
  const tcp = (socket.conn.transport as unknown as { socket: { _socket: NetSocket & { _write: Function; _writev: Function } } }).socket._socket
  let n = 0
  const w = tcp._write.bind(tcp)
  const wv = tcp._writev.bind(tcp)
  tcp._write = (...a: unknown[]) => { n++; return w(...a) }
  tcp._writev = (...a: unknown[]) => { n++; return wv(...a) }
  return () => n
}

async function burst(coalesce: boolean, transports: ('polling' | 'websocket')[]): Promise<{ writes: number; got: number[] }> {
  const { client, socket } = await pair(coalesce, transports)
  const writes = countWrites(socket)
  const got: number[] = []
  const all = new Promise<void>((r) => client.on('warning', (x: { n: number }) => { got.push(x.n); if (got.length === 200) r() }))
  for (let n = 0; n < 200; n++) socket.emit('warning', { n, text: '甲烷浓度超限' })
  await all
  return { writes: writes(), got }
}

describe('frame coalescing', () => {
  it('sends a burst of 200 events in a few writes, in order', async () => {
    const r = await burst(true, ['websocket'])
    expect(r.got).toEqual(Array.from({ length: 200 }, (_, i) => i))
    expect(r.writes).toBeLessThanOrEqual(5) // the first frame at once, the rest together
  })

  it('without it, the same burst is a write per frame', async () => {
    const r = await burst(false, ['websocket'])
    expect(r.got).toHaveLength(200)
    expect(r.writes).toBeGreaterThanOrEqual(100)
  })

  it('coalesces after an upgrade from long-polling too, and leaves long-polling alone', async () => {
    const r = await burst(true, ['polling', 'websocket'])
    expect(r.got).toEqual(Array.from({ length: 200 }, (_, i) => i))
    expect(r.writes).toBeLessThanOrEqual(5)
    expect(coalesceTransport({ name: 'polling', send: () => undefined })).toBe(false)
  })
})
