import { createRequire } from 'node:module'
import net from 'node:net'
import { readdirSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Registry } from 'prom-client'
import { registerProcessMetrics } from './process-metrics.js'
import { createMetrics } from './metrics.js'

// The CommonJS `fs` prom-client's own collector uses: its readdirSync is counted below.
const fs = createRequire(import.meta.url)('node:fs') as typeof import('node:fs')
const proc = process as unknown as { _getActiveHandles(): unknown[]; _getActiveRequests(): unknown[] }

function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '))
  return line === undefined ? NaN : Number(line.slice(series.length + 1))
}

/** Counts calls of the handle walks and the synchronous fd listing while `fn` runs. */
async function counting<T>(fn: () => Promise<T>): Promise<{ result: T; handleWalks: number; resourceWalks: number; fdListings: number }> {
  const orig = { h: proc._getActiveHandles, r: proc._getActiveRequests, res: process.getActiveResourcesInfo, rd: fs.readdirSync }
  let handleWalks = 0
  let resourceWalks = 0
  let fdListings = 0
  proc._getActiveHandles = function (...a: []) { handleWalks++; return orig.h.apply(process, a) }
  proc._getActiveRequests = function (...a: []) { handleWalks++; return orig.r.apply(process, a) }
  process.getActiveResourcesInfo = function (...a: []) { resourceWalks++; return orig.res.apply(process, a) }
  fs.readdirSync = function (this: unknown, ...a: Parameters<typeof readdirSync>) {
    if (String(a[0]).startsWith('/proc/self/fd')) fdListings++
    return (orig.rd as (...x: unknown[]) => unknown).apply(this, a)
  } as typeof fs.readdirSync
  try {
    return { result: await fn(), handleWalks, resourceWalks, fdListings }
  } finally {
    proc._getActiveHandles = orig.h
    proc._getActiveRequests = orig.r
    process.getActiveResourcesInfo = orig.res
    fs.readdirSync = orig.rd
  }
}

describe('process metrics', () => {
  const SOCKETS = 200
  let server: net.Server
  const clients: net.Socket[] = []
  const accepted: net.Socket[] = []

  beforeAll(async () => {
    server = net.createServer((s) => { accepted.push(s) })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const { port } = server.address() as net.AddressInfo
    for (let i = 0; i < SOCKETS; i++) {
      clients.push(await new Promise<net.Socket>((r, reject) => { const c = net.connect(port, '127.0.0.1', () => r(c)); c.once('error', reject) }))
    }
    while (accepted.length < SOCKETS) await new Promise((r) => setTimeout(r, 5))
  })
  afterAll(async () => {
    for (const s of [...clients, ...accepted]) s.destroy()
    await new Promise((r) => server.close(r))
  })

  it('counts open descriptors and active resources with the same names, walking them once per scrape and never listing fds synchronously', async () => {
    const registry = new Registry()
    registerProcessMetrics(registry, 'x_')
    const { result: text, handleWalks, resourceWalks, fdListings } = await counting(() => registry.metrics())
    expect(handleWalks).toBe(0)
    expect(resourceWalks).toBe(1)
    expect(fdListings).toBe(0)

    const fds = readdirSync('/proc/self/fd').length - 1
    const reported = value(text, 'x_process_open_fds')
    expect(reported).toBeGreaterThanOrEqual(2 * SOCKETS)
    expect(Math.abs(reported - fds)).toBeLessThanOrEqual(5)
    expect(value(text, 'x_nodejs_active_resources{type="TCPSocketWrap"}')).toBeGreaterThanOrEqual(2 * SOCKETS)
    expect(value(text, 'x_nodejs_active_resources{type="TCPServerWrap"}')).toBeGreaterThanOrEqual(1)
    expect(value(text, 'x_nodejs_active_resources_total')).toBeGreaterThanOrEqual(2 * SOCKETS + 1)
    // prom-client's other defaults are still there (CPU, memory, heap, event loop, GC).
    for (const name of ['x_process_cpu_seconds_total', 'x_process_resident_memory_bytes', 'x_nodejs_heap_size_used_bytes', 'x_nodejs_eventloop_lag_p99_seconds', 'x_process_max_fds']) {
      expect(text).toContain(`\n${name} `)
    }
    // The walks whose cost grows with every socket are gone.
    expect(text).not.toContain('x_nodejs_active_handles')
    expect(text).not.toContain('x_nodejs_active_requests')
  })

  it('forgets resource types that are no longer active', async () => {
    const registry = new Registry()
    registerProcessMetrics(registry, 'y_')
    const t = setInterval(() => undefined, 60_000)
    const before = await registry.metrics()
    clearInterval(t)
    await new Promise((r) => setTimeout(r, 1100)) // past the one-second snapshot
    const after = await registry.metrics()
    expect(value(before, 'y_nodejs_active_resources{type="Timeout"}')).toBeGreaterThanOrEqual(1)
    expect(value(after, 'y_nodejs_active_resources{type="Timeout"}')).toBeNaN()
  })

  it('is what the application registry serves', async () => {
    const { registry } = createMetrics()
    const { result: text, handleWalks, fdListings } = await counting(() => registry.metrics())
    expect(handleWalks).toBe(0)
    expect(fdListings).toBe(0)
    expect(value(text, 'yujing_process_process_open_fds')).toBeGreaterThanOrEqual(2 * SOCKETS)
    expect(value(text, 'yujing_process_nodejs_active_resources_total')).toBeGreaterThanOrEqual(2 * SOCKETS)
  })
})
