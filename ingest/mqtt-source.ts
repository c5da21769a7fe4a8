// Reads sensor messages from an external broker (Mosquitto/EMQX) for scale-out: a persistent session
// (clean: false, fixed clientId) subscribed at QoS 1, shared ($share/{group}/sensors/#) when several
// ingest instances split the load. A QoS 1 message is acknowledged only after onMessage resolved.
import mqtt, { type MqttClient } from 'mqtt'
import type { Logger } from '../core/runtime/logger.js'
import { errorMessage } from '../core/runtime/errors.js'
import { MQTT_ROOT, parseSensorTopic } from '../core/contracts/mqtt-topics.js'

export interface MqttSourceOptions {
  url: string
  username?: string
  password?: string
  clientId: string
  /** Shared-subscription group. Default "yujing-ingest". */
  group?: string
  /** Use $share/{group}/sensors/# (default true); plain sensors/# when false. */
  shared?: boolean
  onMessage: (gatewayId: string, topic: string, payload: Buffer, qos: number) => Promise<void>
  logger: Logger
  /** Reject the start if not connected within this time. Default 10 s. */
  connectTimeoutMs?: number
}

export interface MqttSource {
  close(): Promise<void>
  connected(): boolean
}

/** The gateway id for a message from an external broker: its ACLs already checked the gateway. */
export function externalGatewayId(topic: string): string {
  const p = parseSensorTopic(topic)
  return p.kind === 'invalid' ? 'ext:unknown' : `ext:${p.enterpriseId}`
}

export function subscriptionFilter(group: string, shared: boolean): string {
  return shared ? `$share/${group}/${MQTT_ROOT}/#` : `${MQTT_ROOT}/#`
}

export async function createMqttSource(opts: MqttSourceOptions): Promise<MqttSource> {
  const { logger } = opts
  const filter = subscriptionFilter(opts.group ?? 'yujing-ingest', opts.shared ?? true)
  const client: MqttClient = mqtt.connect(opts.url, {
    clientId: opts.clientId,
    clean: false,
    username: opts.username,
    password: opts.password,
    reconnectPeriod: 1000,
    // Subscribe again on every connect (the handler below), even when the broker says the session is
    // present: Mosquitto 2.0.x restores a persistent session without its shared subscription after a
    // restart, and mqtt.js' own resubscribe skips topics it believes still subscribed (SUBACK []).
    resubscribe: false,
    connectTimeout: opts.connectTimeoutMs ?? 10_000,
    protocolVersion: 4,
  })
  // Acknowledge (QoS 1) only after the handler put the readings on the bus; one at a time, in order.
  client.handleMessage = (packet, callback) => {
    const topic = packet.topic
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload
    let p: Promise<void>
    try {
      p = opts.onMessage(externalGatewayId(topic), topic, payload, packet.qos)
    } catch (err) {
      p = Promise.reject(err)
    }
    p.then(() => callback(), (err) => {
      logger.error({ err: errorMessage(err), topic }, 'ingest failed for an external MQTT message; not acknowledged')
      callback(err instanceof Error ? err : new Error(String(err)))
    })
  }
  client.on('connect', (connack) => {
    logger.info({ url: opts.url, sessionPresent: connack.sessionPresent, filter }, 'connected to external MQTT broker')
    client.subscribe(filter, { qos: 1 }, (err, granted) => {
      if (err) logger.error({ err: errorMessage(err), filter }, 'subscribe failed')
      else if (granted?.some((g) => g.qos === 128)) logger.error({ filter }, 'broker refused the subscription (check its ACL for the ingest user)')
    })
  })
  client.on('reconnect', () => logger.warn({ url: opts.url }, 'reconnecting to external MQTT broker'))
  client.on('error', (err) => logger.warn({ err: errorMessage(err) }, 'external MQTT error'))

  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => {
      cleanup()
      client.end(true)
      reject(new Error(`cannot connect to MQTT broker ${opts.url} within ${opts.connectTimeoutMs ?? 10_000} ms (check MQTT_URL)`))
    }, opts.connectTimeoutMs ?? 10_000)
    const onConnect = (): void => { cleanup(); resolve() }
    const onError = (err: Error): void => {
      if ((err as { code?: number }).code === 4 || (err as { code?: number }).code === 5 || /not authori[sz]ed|bad user/i.test(err.message)) {
        cleanup()
        client.end(true)
        reject(new Error(`MQTT broker ${opts.url} refused the credentials: ${err.message}`))
      }
    }
    const cleanup = (): void => { clearTimeout(t); client.off('connect', onConnect); client.off('error', onError) }
    client.on('connect', onConnect)
    client.on('error', onError)
  })

  return {
    connected: () => client.connected,
    close: () => new Promise<void>((resolve) => client.end(false, {}, () => resolve())),
  }
}
