// A lean MQTT 3.1.1 client for the benchmark's load generator and its raw-broker sink: one TCP socket
// (TCP_NODELAY), CONNECT with keep-alive off, PUBLISH packets built straight into one buffer each and
// written to the socket, SUBSCRIBE / UNSUBSCRIBE, and a small reader for what a broker sends (CONNACK,
// PUBACK, SUBACK, UNSUBACK, PUBLISH — a QoS 1 one acknowledged with one write per socket read).
// Why not MQTT.js: its per-message work (packet objects, a stream pipeline, an outgoing store, a
// callback and a keep-alive timer re-armed per publish) is twice this one's. Measured in the bench's
// single QoS 1 flood into yujing, 10,000 connections, same hour: MQTT.js 62–70 % of a core for
// 12,500–14,500 messages/s (~48 µs a message), this 39 % for 15,700–17,200/s (~24 µs); on 2 cores the
// generator's share is taken from the system under test, and it set the single-reading baselines.
import { createConnection, type Socket } from 'node:net'

export interface PublisherTarget { host: string; port: number; clientId: string; username?: string; password?: string }

/** Told once per publish: ok = PUBACK received (QoS 1) or handed to the kernel (QoS 0). */
export type PublishResult = (tag: number, ok: boolean) => void

/** A PUBLISH received: its topic, payload and QoS. */
export type MessageHook = (topic: string, payload: Buffer, qos: number) => void

export interface LeanMqtt {
  /** True from CONNACK until the socket closes or fails. */
  readonly connected: boolean
  /** Publishes not yet acknowledged (QoS 1) or written (QoS 0). */
  readonly inFlight: number
  /** The first error the connection met, if any. */
  readonly error: string | undefined
  /** Sends one PUBLISH; `tag` comes back through the PublishResult hook. */
  publish(topic: string, payload: string, qos: 0 | 1, tag: number): void
  /** SUBSCRIBE; resolves with the granted QoS (0x80 = refused) once SUBACK arrives. */
  subscribe(filter: string, qos: 0 | 1): Promise<number>
  /** UNSUBSCRIBE; resolves once UNSUBACK arrives. */
  unsubscribe(filter: string): Promise<void>
  /** DISCONNECT and close; every publish still in flight is reported not ok. */
  end(): Promise<void>
}
/** The load generator's view: publishing only. */
export type Publisher = Omit<LeanMqtt, 'subscribe' | 'unsubscribe'>

const CONNACK_REFUSED: Record<number, string> = {
  1: 'unacceptable protocol version', 2: 'identifier rejected', 3: 'server unavailable',
  4: 'bad username or password', 5: 'not authorized',
}

/** Bytes of MQTT's variable-length "remaining length" for n. */
const varIntBytes = (n: number): number => (n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4)

function writeVarInt(buf: Buffer, at: number, n: number): number {
  let x = n
  do {
    let b = x % 128
    x = Math.floor(x / 128)
    if (x > 0) b |= 128
    buf[at++] = b
  } while (x > 0)
  return at
}

function writeString(buf: Buffer, at: number, s: string, bytes: number): number {
  buf.writeUInt16BE(bytes, at)
  buf.write(s, at + 2, bytes, 'utf8')
  return at + 2 + bytes
}

/** A CONNECT packet: MQTT 3.1.1, clean session, keep-alive 0 (no PINGREQ needed while idle). */
export function encodeConnect(t: Pick<PublisherTarget, 'clientId' | 'username' | 'password'>): Buffer {
  const id = Buffer.byteLength(t.clientId)
  const user = t.username !== undefined ? Buffer.byteLength(t.username) : -1
  const pass = t.password !== undefined ? Buffer.byteLength(t.password) : -1
  const rest = 10 + 2 + id + (user >= 0 ? 2 + user : 0) + (pass >= 0 ? 2 + pass : 0)
  const buf = Buffer.allocUnsafe(1 + varIntBytes(rest) + rest)
  buf[0] = 0x10
  let at = writeVarInt(buf, 1, rest)
  at = writeString(buf, at, 'MQTT', 4)
  buf[at++] = 4 // protocol level 3.1.1
  buf[at++] = 0x02 | (user >= 0 ? 0x80 : 0) | (pass >= 0 ? 0x40 : 0)
  buf.writeUInt16BE(0, at) // keep-alive off
  at += 2
  at = writeString(buf, at, t.clientId, id)
  if (user >= 0) at = writeString(buf, at, t.username!, user)
  if (pass >= 0) writeString(buf, at, t.password!, pass)
  return buf
}

/** A SUBSCRIBE (one filter) or UNSUBSCRIBE packet. */
export function encodeSubscription(kind: 'subscribe' | 'unsubscribe', filter: string, qos: 0 | 1, packetId: number): Buffer {
  const fb = Buffer.byteLength(filter)
  const rest = 2 + 2 + fb + (kind === 'subscribe' ? 1 : 0)
  const buf = Buffer.allocUnsafe(1 + varIntBytes(rest) + rest)
  buf[0] = kind === 'subscribe' ? 0x82 : 0xa2
  let at = writeVarInt(buf, 1, rest)
  buf.writeUInt16BE(packetId, at)
  at = writeString(buf, at + 2, filter, fb)
  if (kind === 'subscribe') buf[at] = qos
  return buf
}

/** A PUBLISH packet (QoS 0 or 1; packetId is ignored for QoS 0). */
export function encodePublish(topic: string, payload: string, qos: 0 | 1, packetId: number): Buffer {
  const tb = Buffer.byteLength(topic)
  const pb = Buffer.byteLength(payload)
  const rest = 2 + tb + (qos ? 2 : 0) + pb
  const buf = Buffer.allocUnsafe(1 + varIntBytes(rest) + rest)
  buf[0] = 0x30 | (qos << 1)
  let at = writeString(buf, writeVarInt(buf, 1, rest), topic, tb)
  if (qos) { buf.writeUInt16BE(packetId, at); at += 2 }
  buf.write(payload, at, pb, 'utf8')
  return buf
}

/**
 * Splits a byte stream into MQTT packets (the fixed header's first byte, and the body's offset and
 * length in `buf`); keeps an incomplete tail for the next chunk. Throws on a malformed remaining length.
 */
export function createPacketReader(onPacket: (header: number, buf: Buffer, at: number, len: number) => void): (chunk: Buffer) => void {
  let tail: Buffer | null = null
  return (chunk) => {
    const buf = tail ? Buffer.concat([tail, chunk]) : chunk
    let off = 0
    for (;;) {
      if (buf.length - off < 2) break
      let len = 0
      let mul = 1
      let i = off + 1
      let complete = false
      while (i < buf.length && i - off <= 4) {
        const b = buf[i++]!
        len += (b & 127) * mul
        mul *= 128
        if ((b & 128) === 0) { complete = true; break }
      }
      if (!complete) {
        if (i - off > 4) throw new Error('malformed MQTT remaining length')
        break
      }
      if (buf.length - i < len) break
      onPacket(buf[off]!, buf, i, len)
      off = i + len
    }
    tail = off < buf.length ? Buffer.from(buf.subarray(off)) : null
  }
}

export interface LeanHooks {
  /** Outcome of every publish (required to publish). */
  onResult?: PublishResult
  /** Every PUBLISH the broker sends (to subscribe). */
  onMessage?: MessageHook
}

export function connectLean(t: PublisherTarget, hooks: LeanHooks, timeoutMs = 20_000): Promise<LeanMqtt> {
  const onResult: PublishResult = hooks.onResult ?? (() => undefined)
  const onMessage = hooks.onMessage
  return new Promise((resolve, reject) => {
    const socket: Socket = createConnection({ host: t.host, port: t.port, noDelay: true })
    let connected = false
    let settled = false
    let error: string | undefined
    let nextId = 1
    /** QoS 1: tag of the publish awaiting PUBACK, by packet id. */
    const awaiting = new Map<number, number>()
    /** SUBSCRIBE / UNSUBSCRIBE awaiting their ack, by packet id. */
    const requests = new Map<number, { resolve: (granted: number) => void; reject: (e: Error) => void }>()
    /** QoS 0: tags in write order (Node calls write callbacks in that order). */
    const written: number[] = []
    let writtenHead = 0
    /** PUBACKs owed for QoS 1 messages of the chunk being read (written together after it). */
    let acks: number[] = []
    const onWritten = (): void => {
      const tag = written[writtenHead++]
      if (writtenHead === written.length) { written.length = 0; writtenHead = 0 }
      if (tag !== undefined) onResult(tag, true)
    }
    const fail = (why: string): void => {
      error ??= why
      connected = false
      if (!settled) { settled = true; clearTimeout(timer); reject(new Error(`${t.clientId}: ${why}`)) }
      // Everything still in flight is lost with the connection.
      const lost = [...awaiting.values()]
      awaiting.clear()
      for (const tag of lost) onResult(tag, false)
      while (writtenHead < written.length) onResult(written[writtenHead++]!, false)
      written.length = 0
      writtenHead = 0
      for (const r of requests.values()) r.reject(new Error(`${t.clientId}: ${why}`))
      requests.clear()
    }
    const freeId = (): number => {
      if (awaiting.size + requests.size >= 65_535) throw new Error('more than 65,535 packets awaiting an ack on one connection')
      let id = nextId
      while (awaiting.has(id) || requests.has(id)) id = id === 65_535 ? 1 : id + 1
      nextId = id === 65_535 ? 1 : id + 1
      return id
    }
    const timer = setTimeout(() => { fail(`no CONNACK from ${t.host}:${t.port} within ${timeoutMs} ms`); socket.destroy() }, timeoutMs)
    const read = createPacketReader((header, buf, at, len) => {
      const type = header >> 4
      if (type === 3) { // PUBLISH
        const qos = (header >> 1) & 3
        const tl = buf.readUInt16BE(at)
        const topicEnd = at + 2 + tl
        const payloadAt = topicEnd + (qos > 0 ? 2 : 0)
        if (qos > 0) acks.push(buf.readUInt16BE(topicEnd))
        onMessage?.(buf.toString('utf8', at + 2, topicEnd), buf.subarray(payloadAt, at + len), qos)
      } else if (type === 4 && len >= 2) { // PUBACK
        const id = buf.readUInt16BE(at)
        const tag = awaiting.get(id)
        if (tag !== undefined) { awaiting.delete(id); onResult(tag, true) }
      } else if ((type === 9 || type === 11) && len >= 2) { // SUBACK, UNSUBACK
        const id = buf.readUInt16BE(at)
        const r = requests.get(id)
        if (r) { requests.delete(id); r.resolve(type === 9 ? buf[at + 2] ?? 0x80 : 0) }
      } else if (type === 2 && len >= 2) { // CONNACK
        const rc = buf[at + 1]!
        if (rc !== 0) { fail(`connection refused: ${CONNACK_REFUSED[rc] ?? `return code ${rc}`}`); socket.destroy(); return }
        connected = true
        if (!settled) { settled = true; clearTimeout(timer); resolve(client) }
      }
    })
    socket.on('data', (chunk: Buffer) => {
      try { read(chunk) } catch (err) { fail((err as Error).message); socket.destroy(); return }
      if (acks.length) {
        const out = Buffer.allocUnsafe(4 * acks.length)
        for (let i = 0; i < acks.length; i++) { out[4 * i] = 0x40; out[4 * i + 1] = 2; out.writeUInt16BE(acks[i]!, 4 * i + 2) }
        acks = []
        if (connected) socket.write(out)
      }
    })
    socket.on('error', (err) => fail(err.message))
    socket.on('close', () => fail('connection closed'))
    socket.once('connect', () => socket.write(encodeConnect(t)))

    const request = (kind: 'subscribe' | 'unsubscribe', filter: string, qos: 0 | 1): Promise<number> => new Promise((res, rej) => {
      if (!connected) { rej(new Error(`${t.clientId}: not connected (${error ?? 'closed'})`)); return }
      const id = freeId()
      requests.set(id, { resolve: res, reject: rej })
      socket.write(encodeSubscription(kind, filter, qos, id))
    })

    const client: LeanMqtt = {
      get connected() { return connected },
      get inFlight() { return awaiting.size + (written.length - writtenHead) },
      get error() { return error },
      publish(topic, payload, qos, tag) {
        if (!connected) { onResult(tag, false); return }
        if (qos === 0) {
          written.push(tag)
          socket.write(encodePublish(topic, payload, 0, 0), onWritten)
          return
        }
        const id = freeId()
        awaiting.set(id, tag)
        socket.write(encodePublish(topic, payload, 1, id))
      },
      subscribe: (filter, qos) => request('subscribe', filter, qos),
      unsubscribe: async (filter) => { await request('unsubscribe', filter, 0) },
      end() {
        return new Promise((done) => {
          if (socket.destroyed) { done(); return }
          socket.once('close', () => done())
          if (connected) socket.end(Buffer.from([0xe0, 0x00])) // DISCONNECT
          else socket.destroy()
          setTimeout(() => socket.destroy(), 2000).unref()
        })
      },
    }
  })
}

/** A publish-only connection (the load generator's). */
export const connectPublisher = (t: PublisherTarget, onResult: PublishResult, timeoutMs?: number): Promise<Publisher> => connectLean(t, { onResult }, timeoutMs)
