// The load generator (the child process the benchmark forks) against a real aedes broker that holds each
// publish a few milliseconds: it keeps the in-flight window it is given across all its connections,
// and its counts agree with what the broker received. Runs dist/bench/loadgen.js (npm test builds first).
import { createServer, type Server } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Aedes } from 'aedes'
import { startGenerator, type Generator } from './generator.js'
import type { BenchGateway } from './registry.js'

describe('load generator', () => {
  let server: Server
  let port = 0
  let broker: Aedes
  let held = 0
  let maxHeld = 0
  let readings = 0
  let messages = 0
  let gen: Generator | undefined
  const gateways: BenchGateway[] = Array.from({ length: 200 }, (_, g) => ({
    id: `gw-${g}`, token: `tok-${g}`, enterpriseId: `E${g}`, sensors: Array.from({ length: 3 }, (_, s) => `E${g}-S${s}`),
  }))
  beforeAll(async () => {
    broker = await Aedes.createBroker({
      authenticate(_c, username, password, done) { done(null, gateways.some((g) => g.id === username && g.token === password?.toString())) },
      authorizePublish(_c, packet, cb) {
        held++
        maxHeld = Math.max(maxHeld, held)
        messages++
        const p = JSON.parse(packet.payload.toString()) as unknown
        readings += Array.isArray(p) ? p.length : 1
        setTimeout(() => { held--; cb(null) }, 3)
      },
    })
    server = createServer((s) => broker.handle(s))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    port = (server.address() as { port: number }).port
    gen = await startGenerator({ host: '127.0.0.1', port, gateways, clientPrefix: 'lg', auth: true })
  }, 30_000)
  afterAll(async () => {
    await gen?.close()
    await new Promise<void>((r) => broker.close(() => r()))
    await new Promise<void>((r) => server.close(() => r()))
  })

  it('connects every gateway with its credentials', () => {
    expect(gen!.connected).toBe(200)
    expect(gen!.failed).toBe(0)
  })

  it('keeps a flood within the in-flight window across all connections, and counts what the broker got', async () => {
    // 200 connections and a window of 50 single readings: at most 50 publishes awaiting PUBACK at once
    // (one per connection would be 200).
    maxHeld = 0; readings = 0; messages = 0
    const s = await gen!.run({ segments: [{ rate: 0, durationMs: 1500 }], batch: 1, qos: 1, windowReadings: 50, settleMs: 5000 })
    expect(s.messages).toBeGreaterThan(200)
    expect(maxHeld).toBeLessThanOrEqual(50)
    expect(maxHeld).toBeGreaterThan(10)
    expect(s.errors).toBe(0)
    expect(s.acked).toBe(s.published)
    expect(messages).toBe(s.messages)
    expect(readings).toBe(s.published)
  })

  it('sends batches of the asked size, QoS 0 counted once written, within the window', async () => {
    maxHeld = 0; readings = 0; messages = 0
    const s = await gen!.run({ segments: [{ rate: 0, durationMs: 1000 }], batch: 10, qos: 0, windowReadings: 300, settleMs: 5000 })
    await new Promise((r) => setTimeout(r, 300)) // QoS 0: written is not yet received
    expect(s.published).toBe(s.messages * 10)
    expect(s.acked).toBe(s.published)
    expect(messages).toBe(s.messages)
    expect(readings).toBe(s.published)
  })

  it('keeps to a fixed rate', async () => {
    readings = 0
    const s = await gen!.run({ segments: [{ rate: 2000, durationMs: 1000 }], batch: 1, qos: 1, windowReadings: 2000, settleMs: 5000 })
    // The schedule owes 2,000 readings over the segment; the generator sends what it owes, no more.
    expect(s.published).toBeLessThanOrEqual(2040) // the last tick may land a few ms past the end
    expect(s.published + s.skipped).toBeGreaterThan(1800)
    expect(readings).toBe(s.published)
  })
})
