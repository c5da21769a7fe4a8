// One mqtt.js client over a TCP socket with TCP_NODELAY set (mqtt.js has no option for it, so the
// stream is built here); resolves on CONNACK, rejects on error or timeout.
import { createConnection } from 'node:net'
import { MqttClient } from 'mqtt'

export interface MqttTarget { host: string; port: number; username?: string; password?: string; clientId: string }

export function connectMqtt(t: MqttTarget, timeoutMs = 20_000): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = new MqttClient(() => createConnection({ host: t.host, port: t.port, noDelay: true }), {
      host: t.host, port: t.port, protocol: 'mqtt', protocolId: 'MQTT', protocolVersion: 4,
      clientId: t.clientId, username: t.username, password: t.password, clean: true,
      reconnectPeriod: 0, keepalive: 120, connectTimeout: timeoutMs,
    })
    const timer = setTimeout(() => { client.end(true); reject(new Error(`no CONNACK from ${t.host}:${t.port} for ${t.clientId}`)) }, timeoutMs)
    client.once('connect', () => { clearTimeout(timer); resolve(client) })
    client.once('error', (err) => { clearTimeout(timer); client.end(true); reject(err) })
  })
}
