// MQTT publisher for simulators: one mqtt.js connection per gateway (username = gateway id,
// password = token), QoS 0 or 1, with counters. With QoS 1 a reading counts as sent only on PUBACK;
// a gateway that is not connected or has too much in flight drops (and counts) instead of queueing.
import mqtt, { type MqttClient } from 'mqtt'
import type { Logger } from '../core/runtime/logger.js'
import { errorMessage } from '../core/runtime/errors.js'

export interface PublisherGateway { id: string; token: string }

export interface PublisherOptions {
  url: string
  gateways: readonly PublisherGateway[]
  qos?: 0 | 1
  logger?: Logger
  /** Client ids are `{prefix}-{gatewayId}`. Default "yujing-sim". */
  clientIdPrefix?: string
  /** Messages awaiting PUBACK per gateway before dropping. Default 2000. */
  maxInFlight?: number
  connectTimeoutMs?: number
}

export interface PublisherStats {
  /** Readings delivered (QoS 1: acknowledged; QoS 0: written). */
  sent: number
  messages: number
  errors: number
  /** Readings not sent because the gateway was disconnected or too much was in flight. */
  dropped: number
  inFlight: number
  connected: number
  lastError?: string
}

export interface Publisher {
  /** Connects every gateway (in parallel, bounded); rejects only if none can connect. */
  connect(): Promise<void>
  /** Publishes `payload`, standing for `readings` readings. Returns false if dropped. */
  publish(gatewayId: string, topic: string, payload: string | Buffer, readings: number): boolean
  stats(): PublisherStats
  close(): Promise<void>
}

export function createPublisher(opts: PublisherOptions): Publisher {
  const qos = opts.qos ?? 0
  const maxInFlight = opts.maxInFlight ?? 2000
  const clients = new Map<string, { client: MqttClient; inFlight: number }>()
  const st: PublisherStats = { sent: 0, messages: 0, errors: 0, dropped: 0, inFlight: 0, connected: 0 }
  const fail = (err: unknown): void => { st.errors++; st.lastError = errorMessage(err) }

  function connectOne(gw: PublisherGateway): Promise<void> {
    return new Promise((resolve, reject) => {
      const client = mqtt.connect(opts.url, {
        username: gw.id, password: gw.token, clientId: `${opts.clientIdPrefix ?? 'yujing-sim'}-${gw.id}`,
        reconnectPeriod: 2000, connectTimeout: opts.connectTimeoutMs ?? 10_000, clean: true,
      })
      const entry = { client, inFlight: 0 }
      clients.set(gw.id, entry)
      let settled = false
      client.on('connect', () => { if (!settled) { settled = true; resolve() } })
      client.on('error', (err) => {
        fail(err)
        opts.logger?.warn({ gateway: gw.id, err: errorMessage(err) }, 'simulator MQTT error')
        if (!settled) { settled = true; reject(err) }
      })
      setTimeout(() => { if (!settled) { settled = true; reject(new Error(`gateway ${gw.id}: no CONNACK from ${opts.url}`)) } }, (opts.connectTimeoutMs ?? 10_000) + 1000).unref()
    })
  }

  return {
    async connect() {
      const queue = [...opts.gateways]
      const errors: string[] = []
      const worker = async (): Promise<void> => {
        for (let gw = queue.shift(); gw; gw = queue.shift()) {
          await connectOne(gw).catch((err: unknown) => { errors.push(`${gw!.id}: ${errorMessage(err)}`) })
        }
      }
      await Promise.all(Array.from({ length: Math.min(32, queue.length || 1) }, worker))
      if (opts.gateways.length && errors.length === opts.gateways.length) {
        throw new Error(`no gateway could connect to ${opts.url}: ${errors[0]}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`)
      }
      if (errors.length) opts.logger?.warn({ failed: errors.length, first: errors[0] }, 'some simulator gateways could not connect')
    },
    publish(gatewayId, topic, payload, readings) {
      const e = clients.get(gatewayId)
      if (!e || !e.client.connected || e.inFlight >= maxInFlight) { st.dropped += readings; return false }
      e.inFlight++
      st.inFlight++
      st.messages++
      e.client.publish(topic, payload, { qos }, (err) => {
        e.inFlight--
        st.inFlight--
        if (err) { fail(err); st.dropped += readings } else st.sent += readings
      })
      return true
    },
    stats() {
      let connected = 0
      for (const e of clients.values()) if (e.client.connected) connected++
      return { ...st, connected }
    },
    async close() {
      await Promise.all([...clients.values()].map((e) => e.client.endAsync(false).catch(() => e.client.end(true))))
      clients.clear()
    },
  }
}
