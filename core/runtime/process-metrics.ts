// Node process metrics for /metrics: prom-client's defaults, minus the collectors whose cost grows with
// the number of open sockets. With 10,000 gateway connections, prom-client's own open-fd gauge
// (a readdirSync of /proc/self/fd) and its active handle / request / resource gauges (five walks of
// every handle, each materialising 10,000 objects or strings) held the event loop 25–50 ms per
// scrape — a stall every Prometheus interval, on the loop that acknowledges readings and pushes
// warnings. They are replaced by gauges with the same names and meaning that do the work once per
// scrape and off the loop where they can: the fd count by an asynchronous readdir (libuv's thread
// pool), active resources by one getActiveResourcesInfo() call shared by the per-type and total gauges.
import { readdir } from 'node:fs/promises'
import { Gauge, collectDefaultMetrics, type Registry } from 'prom-client'

/** prom-client default metrics replaced here (names without the prefix). */
export const REPLACED_DEFAULTS = [
  'process_open_fds',
  'nodejs_active_handles',
  'nodejs_active_handles_total',
  'nodejs_active_requests',
  'nodejs_active_requests_total',
  'nodejs_active_resources',
  'nodejs_active_resources_total',
] as const

/** Registers the process metrics on `registry`, every name prefixed with `prefix`. */
export function registerProcessMetrics(registry: Registry, prefix: string): void {
  collectDefaultMetrics({ register: registry, prefix })
  for (const name of REPLACED_DEFAULTS) registry.removeSingleMetric(prefix + name)
  const registers = [registry]

  if (process.platform === 'linux') {
    new Gauge({
      name: `${prefix}process_open_fds`,
      help: 'Number of open file descriptors.',
      registers,
      async collect() {
        try {
          // The directory's own fd is closed by the time the list comes back, and not in it.
          this.set((await readdir('/proc/self/fd')).length - 1)
        } catch { /* not readable: left at its last value */ }
      },
    })
  }

  // One snapshot of the active resources serves both gauges of a scrape (they are collected together).
  let snapshot: { at: number; byType: Map<string, number>; total: number } | undefined
  const resources = (): { byType: Map<string, number>; total: number } => {
    const now = performance.now()
    if (snapshot && now - snapshot.at < 1000) return snapshot
    const list = process.getActiveResourcesInfo()
    const byType = new Map<string, number>()
    for (const type of list) byType.set(type, (byType.get(type) ?? 0) + 1)
    snapshot = { at: now, byType, total: list.length }
    return snapshot
  }
  new Gauge({
    name: `${prefix}nodejs_active_resources`,
    help: 'Number of active resources that are currently keeping the event loop alive, grouped by async resource type.',
    labelNames: ['type'],
    registers,
    collect() {
      this.reset()
      for (const [type, n] of resources().byType) this.set({ type }, n)
    },
  })
  new Gauge({
    name: `${prefix}nodejs_active_resources_total`,
    help: 'Total number of active resources.',
    registers,
    collect() { this.set(resources().total) },
  })
}
