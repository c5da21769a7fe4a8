// `yujing soak [--minutes 30] [--rate 5000] [--sample-seconds 30] [--out soak-results.json]`: runs the real
// process (the built CLI, embedded mode, the bench province of 100,000 sensors) under a steady QoS 1 load
// for a long time and samples memory, open handles and file descriptors, backlog and warning latency, to
// show whether they stay flat. A script with figures for the README, never a CI test.
import { cpus, totalmem, tmpdir } from 'node:os'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { generateBenchRegistry } from './registry.js'
import { startGenerator } from './generator.js'
import { startSut, type SutCounters } from './sut.js'
import { createProber } from './latency.js'
import { pct, round, sleep } from './util.js'

export interface SoakOptions { minutes?: number; rate?: number; sampleSeconds?: number; out?: string; enterprises?: number; gateways?: number; nodeArgs?: string }

export interface SoakSample {
  atS: number
  rssMB: number
  heapMB: number
  handles: number
  fds: number
  eventLoopLagP99Ms: number
  acceptedPerSec: number
  busLag: number
  historyBuffered: number
  warningP50Ms: number
  warningP99Ms: number
}

export interface Trend { first: number; last: number; min: number; max: number; slopePerHour: number; growthPct: number }

const ROOT = resolve(import.meta.dirname, '..', '..')
const log = (...a: unknown[]): void => { console.error(`[soak ${new Date().toISOString().slice(11, 19)}]`, ...a) }

/** Least-squares slope of y over x (per unit of x). */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length
  if (n < 2) return 0
  const mx = xs.reduce((a, b) => a + b, 0) / n
  const my = ys.reduce((a, b) => a + b, 0) / n
  let num = 0
  let den = 0
  for (let i = 0; i < n; i++) { num += (xs[i]! - mx) * (ys[i]! - my); den += (xs[i]! - mx) ** 2 }
  return den === 0 ? 0 : num / den
}

/** How a series moved after the warm-up: endpoints, range, fitted slope per hour and growth in % of the first value. */
export function trend(samples: readonly SoakSample[], key: keyof SoakSample): Trend {
  const xs = samples.map((s) => s.atS / 3600)
  const ys = samples.map((s) => s[key])
  const first = ys[0] ?? NaN
  const last = ys[ys.length - 1] ?? NaN
  const s = slope(xs, ys)
  return { first, last, min: Math.min(...ys), max: Math.max(...ys), slopePerHour: round(s, 2), growthPct: round(first ? ((last - first) / first) * 100 : 0, 1) }
}

export function metric(text: string, name: string): number {
  let sum = 0
  for (const line of text.split('\n')) {
    // `name` may end in a label set (`metric{type="x"}`): then only that series is read.
    if (line.startsWith(name) && (line[name.length] === ' ' || (line[name.length] === '{' && !name.endsWith('}')))) sum += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return sum
}

/** What the soak reads from the process's own /metrics text. */
export function processFigures(text: string): Pick<SoakSample, 'handles' | 'fds' | 'eventLoopLagP99Ms'> {
  return {
    // Handles: active resources other than timers (their number follows what is scheduled, not leaks).
    handles: metric(text, 'yujing_process_nodejs_active_resources_total') - metric(text, 'yujing_process_nodejs_active_resources{type="Timeout"}') - metric(text, 'yujing_process_nodejs_active_resources{type="Immediate"}'),
    fds: metric(text, 'yujing_process_process_open_fds'),
    eventLoopLagP99Ms: round(metric(text, 'yujing_process_nodejs_eventloop_lag_p99_seconds') * 1000, 1),
  }
}

export async function runSoak(opts: SoakOptions = {}): Promise<void> {
  const minutes = opts.minutes ?? 30
  const rate = opts.rate ?? 5000
  const sampleS = opts.sampleSeconds ?? 30
  const out = opts.out ?? join(ROOT, 'soak-results.json')
  const enterprises = opts.enterprises ?? 10_000
  const work = mkdtempSync(join(tmpdir(), 'yujing-soak-'))
  const reg = generateBenchRegistry({ enterprises, sensorsPerEnterprise: 10, probeSensors: 200 })
  const regFile = join(work, 'registry.json')
  writeFileSync(regFile, JSON.stringify(reg.doc))
  const cfgFile = join(work, 'config.json')
  writeFileSync(cfgFile, JSON.stringify({ ingest: { defaultGatewayRate: 1_000_000 }, rules: { defaultMaxSilenceSeconds: 3600 } }))
  log(`${minutes} min at ${rate} readings/s (QoS 1, single readings), ${reg.sensorCount} sensors; work dir ${work}`)

  const sut = await startSut({ registryFile: regFile, dataDir: join(work, 'data'), configFile: cfgFile, nodeArgs: (opts.nodeArgs ?? '').split(/\s+/).filter(Boolean) })
  const gateways = reg.gateways.slice(0, Math.min(opts.gateways ?? 1000, reg.gateways.length))
  const gen = await startGenerator({ host: '127.0.0.1', port: sut.mqttPort, gateways, clientPrefix: 'soak', auth: true })
  const prober = await createProber({ httpPort: sut.httpPort, mqttPort: sut.mqttPort, probe: reg.probe, admin: reg.admin })
  log(`started in ${sut.startupMs} ms; ${gen.connected} gateway connections`)

  const durationMs = minutes * 60_000
  const phase = gen.run({ segments: [{ rate, durationMs }], batch: 1, qos: 1, windowReadings: 2000, settleMs: 60_000 })
  const t0 = Date.now()
  const samples: SoakSample[] = []
  let prev: SutCounters = await sut.counters()
  while (Date.now() - t0 < durationMs - 1000) {
    prober.start(200)
    await sleep(Math.min(sampleS * 1000, Math.max(1000, durationMs - (Date.now() - t0))))
    const lat = await prober.stop(2000)
    // This scrape first: prom-client resets the event-loop delay histogram on every scrape (counters() scrapes too).
    const text = await fetch(`http://127.0.0.1:${sut.httpPort}/metrics`).then((r) => r.text())
    const c = await sut.counters()
    const sample: SoakSample = {
      atS: Math.round((Date.now() - t0) / 1000),
      rssMB: round(c.rss / 2 ** 20, 1),
      heapMB: round(c.heapUsed / 2 ** 20, 1),
      ...processFigures(text),
      acceptedPerSec: round((c.accepted - prev.accepted) / ((c.at - prev.at) / 1000), 0),
      busLag: c.busLag,
      historyBuffered: Number(/buffered (\d+)/.exec(JSON.stringify(await fetch(`http://127.0.0.1:${sut.httpPort}/api/health`).then((r) => r.json())))?.[1] ?? NaN),
      warningP50Ms: round(pct(lat.samples, 50), 1),
      warningP99Ms: round(pct(lat.samples, 99), 1),
    }
    prev = c
    samples.push(sample)
    log(JSON.stringify(sample))
    if (sut.exited()) throw new Error('yujing exited during the soak')
  }
  const g = await phase
  // Drain: everything acknowledged counted by the pipeline.
  let end = await sut.counters()
  const tDrain = Date.now()
  while (end.accepted + end.rejected + end.duplicates < g.acked + prober.published() && Date.now() - tDrain < 60_000) { await sleep(500); end = await sut.counters() }
  const lost = Math.max(0, g.acked + prober.published() - (end.accepted + end.rejected + end.duplicates))
  await prober.close()
  await gen.close()
  const exit = await sut.stop()

  const warm = Math.max(1, Math.floor(samples.length / 5)) // the first fifth is warm-up (caches, JIT, SQLite pages)
  const steady = samples.slice(warm)
  const trends = {
    rssMB: trend(steady, 'rssMB'), heapMB: trend(steady, 'heapMB'), handles: trend(steady, 'handles'), fds: trend(steady, 'fds'),
    acceptedPerSec: trend(steady, 'acceptedPerSec'), warningP99Ms: trend(steady, 'warningP99Ms'),
  }
  // Flat: the fitted heap and RSS growth over the steady part stay within 10 % of their level per hour,
  // and handles and descriptors move by no more than a few (connections of the probe and the HTTP sampler).
  const flat = {
    heap: Math.abs(trends.heapMB.slopePerHour) <= 0.1 * trends.heapMB.first,
    rss: Math.abs(trends.rssMB.slopePerHour) <= 0.1 * trends.rssMB.first,
    handles: trends.handles.max - trends.handles.min <= 10,
    fds: trends.fds.max - trends.fds.min <= 10,
  }
  const results = {
    generatedAt: new Date().toISOString(),
    command: `npm run soak -- --minutes ${minutes} --rate ${rate}`,
    machine: { nproc: cpus().length, cpuModel: cpus()[0]?.model ?? '?', node: process.version, totalMemMB: Math.round(totalmem() / 2 ** 20) },
    load: { minutes, readingsPerSec: rate, qos: 1, gatewayConnections: gen.connected, sensors: reg.sensorCount, published: g.published, acked: g.acked, skipped: g.skipped, errors: g.errors },
    lost, exitCode: exit,
    warmupSamples: warm, trends, flat, samples,
  }
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`)
  console.log(`soak: ${minutes} min at ${rate}/s, acknowledged ${g.acked}, lost ${lost}, exit ${exit}`)
  console.log(`  RSS ${trends.rssMB.first} → ${trends.rssMB.last} MB (fit ${trends.rssMB.slopePerHour} MB/h), heap ${trends.heapMB.first} → ${trends.heapMB.last} MB (fit ${trends.heapMB.slopePerHour} MB/h)`)
  console.log(`  handles ${trends.handles.min}–${trends.handles.max}, fds ${trends.fds.min}–${trends.fds.max}, accepted ${trends.acceptedPerSec.min}–${trends.acceptedPerSec.max}/s, warning p99 ${trends.warningP99Ms.min}–${trends.warningP99Ms.max} ms`)
  console.log(`  flat: ${JSON.stringify(flat)}; written to ${out}`)
}
