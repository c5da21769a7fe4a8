// The soak script's trend arithmetic (the soak itself is a long script, not a test).
import net from 'node:net'
import { describe, expect, it } from 'vitest'
import { createMetrics } from '../core/runtime/metrics.js'
import { metric, processFigures, slope, trend, type SoakSample } from './soak.js'

const sample = (atS: number, heapMB: number): SoakSample => ({ atS, rssMB: 300, heapMB, handles: 40, fds: 60, eventLoopLagP99Ms: 10, acceptedPerSec: 5000, busLag: 0, historyBuffered: 0, warningP50Ms: 3, warningP99Ms: 9 })

describe('soak trends', () => {
  it('fits a least-squares slope', () => {
    expect(slope([0, 1, 2, 3], [1, 3, 5, 7])).toBeCloseTo(2)
    expect(slope([0, 1, 2], [5, 5, 5])).toBe(0)
    expect(slope([1], [9])).toBe(0)
  })

  it('reports growth per hour of a series sampled in seconds', () => {
    // heap grows 1 MB every 360 s = 10 MB/h
    const t = trend([0, 360, 720, 1080].map((s, i) => sample(s, 100 + i)), 'heapMB')
    expect(t).toEqual({ first: 100, last: 103, min: 100, max: 103, slopePerHour: 10, growthPct: 3 })
    expect(trend([0, 30, 60].map((s) => sample(s, 80)), 'heapMB').slopePerHour).toBe(0)
  })
})

describe('soak readings of /metrics', () => {
  it('reads a metric summed over its series, or one series by its labels', () => {
    const text = 'x_total 7\nx{type="A"} 2\nx{type="B"} 3\nx_other 100\n'
    expect(metric(text, 'x')).toBe(5)
    expect(metric(text, 'x{type="B"}')).toBe(3)
    expect(metric(text, 'x_total')).toBe(7)
  })

  it('finds handles, descriptors and loop lag under the names the process serves', async () => {
    const accepted: net.Socket[] = []
    const server = net.createServer((s) => { accepted.push(s) })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const { port } = server.address() as net.AddressInfo
    const clients = await Promise.all(Array.from({ length: 50 }, () => new Promise<net.Socket>((r) => { const c = net.connect(port, '127.0.0.1', () => r(c)) })))
    while (accepted.length < 50) await new Promise((r) => setTimeout(r, 5))
    const timer = setInterval(() => undefined, 60_000)
    try {
      const f = processFigures(await createMetrics().registry.metrics())
      expect(f.handles).toBeGreaterThanOrEqual(100) // both ends of 50 connections, and no timer counted
      expect(f.fds).toBeGreaterThanOrEqual(100)
      expect(Number.isFinite(f.eventLoopLagP99Ms)).toBe(true)
    } finally {
      clearInterval(timer)
      for (const c of [...clients, ...accepted]) c.destroy()
      await new Promise((r) => server.close(r))
    }
  })
})
