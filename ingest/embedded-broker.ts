// The embedded MQTT broker (aedes on a net server). Gateways authenticate with username = gateway id,
// password = token; a gateway may publish only under sensors/{its enterpriseId}[/…] and may not
// subscribe to sensor data. onPublish runs before the publish is acknowledged (QoS 1 PUBACK comes
// only after the readings are on the bus); its errors never crash the broker.
import { createServer, type Server, type Socket } from 'node:net'
import './quiet-debug.js' // before aedes loads mqtt-packet
import { Aedes, type AuthenticateError, type Client } from 'aedes'
import type { Logger } from '../core/runtime/logger.js'
import type { RegistryHolder } from '../core/registry/registry-holder.js'
import { AppError, errorMessage } from '../core/runtime/errors.js'
import { MQTT_ROOT, parseSensorTopic, type ParsedTopic } from '../core/contracts/mqtt-topics.js'
import { cachedVerifier } from './credentials.js'

export interface EmbeddedBrokerOptions {
  host: string
  port: number
  registry: RegistryHolder
  /** Let clients connect without credentials (they may publish to any sensors/ topic). Default false. */
  allowAnonymous?: boolean
  /** `parsedTopic` is the topic as parsed for the authorization check (so it is not parsed twice). */
  onPublish: (gatewayId: string, topic: string, payload: Buffer, qos: number, parsedTopic: ParsedTopic) => Promise<void>
  logger: Logger
}

export interface EmbeddedBroker {
  /** The port actually listened on (the chosen one when 0 was asked). */
  port: number
  close(): Promise<void>
  /** Connected clients. */
  clients(): number
  /** Retained messages the broker holds (none from gateways: see the fan-out note below). */
  retainedCount(): Promise<number>
  /** Stops reading from every client (what they send waits in TCP: backpressure to the gateways), and
   *  from clients that connect meanwhile; resumeReading() undoes it. */
  pauseReading(): void
  resumeReading(): void
}

export const ANONYMOUS_GATEWAY = 'anonymous'
/** Where a refused publish is renamed to: `$`-topics cannot be subscribed to here. */
const REFUSED_TOPIC = '$yujing/refused'
const BAD_USERNAME_OR_PASSWORD = 4
const NOT_AUTHORIZED = 5

function authError(message: string, code: number): AuthenticateError {
  const err = new Error(message) as AuthenticateError
  err.returnCode = code
  return err
}

/** May a subscription filter match a sensors/… topic (or $SYS)? */
function touchesSensorData(filter: string): boolean {
  let f = filter
  if (f.startsWith('$share/')) {
    const i = f.indexOf('/', 7)
    f = i < 0 ? '' : f.slice(i + 1)
  }
  const first = f.split('/', 1)[0] ?? ''
  return first === MQTT_ROOT || first === '+' || first === '#' || first.startsWith('$') || f === ''
}

export async function createEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { logger, registry } = opts
  /** Per gateway: when a refused publish was last logged, and how many since (one line per 10 s). */
  const refusedLog = new Map<string, { at: number; n: number }>()
  const gatewayOf = new WeakMap<Client, string>()
  const verify = cachedVerifier()

  /** QoS 0 cannot be redelivered anyway; with QoS 1 the error drops the connection without PUBACK so
   *  the gateway sends the message again. */
  const ingestFailed = (err: unknown, gatewayId: string, topic: string, qos: number, callback: (err: Error | null) => void): void => {
    logger.error({ err, gateway: gatewayId, topic }, 'ingest failed for an MQTT message; not acknowledged')
    callback(qos > 0 ? new Error('ingest unavailable') : null)
  }

  const broker = await Aedes.createBroker({
    authenticate(client, username, password, done) {
      if (username === undefined || username === '') {
        if (opts.allowAnonymous) { gatewayOf.set(client, ANONYMOUS_GATEWAY); return done(null, true) }
        logger.warn({ clientId: client.id }, 'mqtt connection refused: anonymous clients are not allowed')
        return done(authError('anonymous clients are not allowed', NOT_AUTHORIZED), false)
      }
      const gw = registry.current().gateways.get(username)
      const given = password ? password.toString('utf8') : ''
      const refuse = (why: string): void => {
        logger.warn({ clientId: client.id, gateway: username, why }, 'mqtt connection refused: bad username or password')
        done(authError('bad username or password', BAD_USERNAME_OR_PASSWORD), false)
      }
      if (!gw) return refuse('unknown gateway')
      verify(gw.token, given).then(
        (ok) => {
          if (!ok) return refuse('wrong token')
          gatewayOf.set(client, gw.id)
          done(null, true)
        },
        (err) => refuse(errorMessage(err)),
      )
    },
    authorizePublish(client, packet, callback) {
      if (!client) return callback(null) // broker-internal ($SYS)
      const gatewayId = gatewayOf.get(client)
      const topic = packet.topic
      if (!gatewayId) return callback(new Error('not authenticated'))
      const parsed = parseSensorTopic(topic)
      const gw = gatewayId === ANONYMOUS_GATEWAY ? undefined : registry.current().gateways.get(gatewayId)
      if (gatewayId !== ANONYMOUS_GATEWAY && !gw) return callback(new Error(`gateway ${gatewayId} is no longer registered`))
      if (parsed.kind === 'invalid' || (gw && parsed.enterpriseId !== gw.enterpriseId)) {
        // Refused, but acknowledged and recorded: the decoder rejects it with a reason (topic_forbidden /
        // bad_topic), and the packet is renamed to a topic no client may subscribe to, so it reaches no one.
        // Dropping the connection instead (MQTT 3.1.1's only other answer) makes a persistent-session
        // gateway resend it on every reconnect, stalling all of its readings behind it.
        const now = Date.now()
        const last = refusedLog.get(gatewayId)
        if (!last || now - last.at >= 10_000) {
          logger.warn({ gateway: gatewayId, topic, enterpriseId: gw?.enterpriseId, refusedSinceLastLog: last?.n ?? 0 }, 'mqtt publish refused: topic outside the gateway\'s sensors/{enterpriseId} (recorded as a rejection)')
          if (refusedLog.size > 10_000) refusedLog.clear()
          refusedLog.set(gatewayId, { at: now, n: 0 })
        } else last.n++
        packet.topic = REFUSED_TOPIC
      }
      const raw = packet.payload
      const payload = typeof raw === 'string' ? Buffer.from(raw) : raw
      let p: Promise<void>
      try {
        p = opts.onPublish(gatewayId, topic, payload, packet.qos, parsed)
      } catch (err) {
        p = Promise.reject(err)
      }
      p.then(() => callback(null), (err: unknown) => ingestFailed(err, gatewayId, topic, packet.qos, callback))
    },
    authorizeSubscribe(client, sub, callback) {
      const gatewayId = gatewayOf.get(client)
      if (!gatewayId || touchesSensorData(sub.topic)) {
        logger.warn({ gateway: gatewayId, topic: sub.topic }, 'mqtt subscribe refused')
        return callback(null, null) // granted 128 (failure), connection stays
      }
      callback(null, sub)
    },
  })

  // Nothing can receive what a client publishes: sensor topics (and the refused topic) are closed to
  // subscribers (authorizeSubscribe), and onPublish has already taken the message when aedes gets here.
  // So aedes's fan-out of a client's publish — a Packet copy, the offline-queue lookup, the emitter
  // match, retained storage, the `published` hook — is work without a receiver, about 7 % of the event
  // loop at 20,000 messages/s, and a gateway publishing with the retain flag would otherwise leave one
  // retained copy per sensor in broker memory. Broker-internal publishes ($SYS, no client) keep it.
  const fanOut = broker.publish.bind(broker) as (packet: unknown, client: unknown, done?: (err?: Error | null) => void) => void
  ;(broker as unknown as { publish: typeof fanOut }).publish = (packet, client, done) => {
    if (typeof client === 'function' || !client) return fanOut(packet, client, done)
    done?.(null)
  }

  // Flow control. A paused aedes client does not read its socket (its buffer fills, the kernel's fills,
  // and TCP holds the gateway back). aedes' own resume() is not used: while paused, its read callback
  // skips the count of packets in progress it keeps per client, and one call after that left the count
  // above zero — the client never read again. Resuming here zeroes the count and reads what is buffered
  // (a packet still in progress then finishes like any other: the count never goes below zero).
  type Pausable = Client & { _paused: boolean; _parsingBatch: number; _nextBatch: () => void }
  let readingPaused = false
  /** aedes' connected clients by id (not in its declarations). */
  const clientsById = (): Record<string, Pausable> => (broker as unknown as { clients: Record<string, Pausable> }).clients
  const eachClient = (f: (c: Pausable) => void): void => {
    const clients = clientsById()
    for (const id in clients) f(clients[id]!)
  }
  const pause = (c: Pausable): void => { c._paused = true }
  const resume = (c: Pausable): void => {
    if (!c._paused) return
    c._paused = false
    c._parsingBatch = 1
    c._nextBatch()
  }
  broker.on('clientReady', (client) => { if (readingPaused) pause(client as Pausable) })
  // Resuming every client at once makes each read what its socket holds (up to 64 KB: a thousand single
  // readings) in the same turn — 10,000 connections flooding with QoS 0 put millions of readings in
  // memory at once, to be shed. So clients are resumed RESUME_SLICE per event-loop turn, from where the
  // last resume stopped (a pause in between leaves the rest paused, and no client waits behind the same
  // others every time).
  const RESUME_SLICE = 256
  let resumeCursor = 0
  let resuming = false
  const resumeGradually = (): void => {
    if (resuming) return
    resuming = true
    const order = Object.values(clientsById())
    let left = order.length
    const step = (): void => {
      if (readingPaused || left === 0) { resuming = false; return }
      for (let k = 0; k < RESUME_SLICE && left > 0; k++, left--) {
        resumeCursor = resumeCursor >= order.length ? 0 : resumeCursor
        const c = order[resumeCursor++]!
        if (!c.closed) resume(c)
      }
      if (left > 0) setImmediate(step)
      else resuming = false
    }
    step()
  }

  broker.on('clientError', (client, err) => logger.debug({ clientId: client?.id, err: errorMessage(err) }, 'mqtt client error'))
  broker.on('connectionError', (client, err) => logger.debug({ clientId: client?.id, err: errorMessage(err) }, 'mqtt connection error'))

  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    socket.setNoDelay(true)
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => { /* reported by aedes; never crash */ })
    broker.handle(socket)
  })

  try {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => { server.off('listening', onListening); reject(err) }
      const onListening = (): void => { server.off('error', onError); resolve() }
      server.once('error', onError)
      server.once('listening', onListening)
      server.listen(opts.port, opts.host)
    })
  } catch (err) {
    await new Promise<void>((r) => broker.close(() => r()))
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE') {
      throw new AppError('PORT_IN_USE', `MQTT port ${opts.port} is already in use (set MQTT_PORT or --mqtt-port; 0 picks a free port)`, { cause: err })
    }
    throw new AppError('CONFIG_INVALID', `MQTT broker cannot listen on ${opts.host}:${opts.port}: ${errorMessage(err)} (check MQTT_PORT / --mqtt-port and the host)`, { cause: err })
  }
  server.on('error', (err) => logger.error({ err }, 'mqtt server error'))
  const addr = server.address()
  const port = typeof addr === 'object' && addr ? addr.port : opts.port
  logger.info({ host: opts.host, port }, 'embedded MQTT broker listening')

  let closing: Promise<void> | undefined
  return {
    port,
    clients: () => broker.connectedClients,
    pauseReading() {
      readingPaused = true
      eachClient(pause)
    },
    resumeReading() {
      if (!readingPaused) return
      readingPaused = false
      resumeGradually()
    },
    async retainedCount() {
      let n = 0
      const persistence = (broker as unknown as { persistence: { createRetainedStream(pattern: string): AsyncIterable<unknown> } }).persistence
      for await (const _ of persistence.createRetainedStream('#')) n++
      return n
    },
    close() {
      closing ??= (async () => {
        const serverClosed = new Promise<void>((r) => server.close(() => r())) // stop accepting
        await new Promise<void>((r) => broker.close(() => r()))
        for (const s of sockets) s.destroy()
        await serverClosed
      })()
      return closing
    },
  }
}
