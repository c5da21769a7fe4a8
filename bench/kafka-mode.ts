// The scale-out part of the benchmark (when KAFKA_BROKERS is set): the same registry and load generator
// against the real processes over Kafka — one process with every role (1 rules instance), then the same
// plus a second process with the rules role only (2 rules instances, the enterprises split by partition).
// Each run has its own topic prefix; stores are each process's embedded SQLite (the bus is what is
// measured here). Figures: readings/s accepted and stored, QoS 1 loss, warning latency at a fixed rate.
import { join } from 'node:path'
import type { BenchGateway } from './registry.js'
import type { GeneratorStats, PhaseSpec } from './loadgen-protocol.js'
import { startGenerator } from './generator.js'
import { startSut, type Sut, type SutCounters } from './sut.js'
import { createProber, type PerSecond } from './latency.js'
import { pct, round, sleep } from './util.js'

export interface KafkaRunResult {
  rulesInstances: number
  startupMs: number
  flood: { durationS: number; acked: number; acceptedPerSec: number; processedPerSec: number; loss: number; drainMs: number }
  latency: { targetRate: number; achievedAcceptedPerSec: number; samples: number; p50: number; p99: number; p999: number; max: number; worstSamples: { atMs: number; ms: number }[]; perSecond: PerSecond[]; warmup: { durationS: number; samples: number; p50: number; p99: number; max: number } }
  /** Warn/error log lines of the processes during the run, counted by message. */
  logProblems: Record<string, number>
}

export interface KafkaBenchInput {
  brokers: string
  work: string
  registryFile: string
  configFile: string
  gateways: BenchGateway[]
  probe: BenchGateway
  admin: { username: string; password: string }
  phaseMs: number
  latencyMs: number
  /** Warm-up at the latency phase's rate before it is measured. */
  warmupMs: number
  log: (...a: unknown[]) => void
  /** Extra Node/V8 flags for the processes under test (`--node-args`). */
  nodeArgs?: string[]
}

const counted = (c: SutCounters): number => c.accepted + c.rejected + c.duplicates

async function runWith(rulesInstances: number, i: KafkaBenchInput): Promise<KafkaRunResult> {
  const prefix = `yujing-bench-${Date.now().toString(36)}-${rulesInstances}.`
  const env = { KAFKA_BROKERS: i.brokers, KAFKA_TOPIC_PREFIX: prefix, KAFKA_PARTITIONS: '6' }
  const t0 = Date.now()
  const procs: Sut[] = []
  try {
    const main = await startSut({ registryFile: i.registryFile, dataDir: join(i.work, `kafka-${rulesInstances}-a`), configFile: i.configFile, env: { ...env, YUJING_INSTANCE: `bench-a-${rulesInstances}` }, timeoutMs: 180_000, nodeArgs: i.nodeArgs })
    procs.push(main)
    for (let n = 2; n <= rulesInstances; n++) {
      procs.push(await startSut({ registryFile: i.registryFile, dataDir: join(i.work, `kafka-${rulesInstances}-r${n}`), configFile: i.configFile, roles: 'rules', env: { ...env, YUJING_INSTANCE: `bench-r${n}-${rulesInstances}` }, timeoutMs: 180_000, nodeArgs: i.nodeArgs }))
    }
    const startupMs = Date.now() - t0
    // Give the consumer groups a moment to settle (a second member joining rebalances the first).
    await sleep(rulesInstances > 1 ? 8000 : 2000)
    const snap = async (): Promise<{ main: SutCounters; written: number; busLag: number }> => {
      const all = await Promise.all(procs.map((p) => p.counters()))
      return { main: all[0]!, written: all.reduce((s, c) => s + (Number.isFinite(c.written) ? c.written : 0), 0), busLag: all.reduce((s, c) => s + c.busLag, 0) }
    }
    const gen = await startGenerator({ host: '127.0.0.1', port: main.mqttPort, gateways: i.gateways, clientPrefix: `bench-k${rulesInstances}`, auth: true })
    const prober = await createProber({ httpPort: main.httpPort, mqttPort: main.mqttPort, probe: i.probe, admin: i.admin })
    try {
      // Warm-up: until probe warnings come back within a second (every consumer group has joined and
      // caught up), so the figures below measure the pipeline, not the groups' first rebalance.
      const warmUntil = Date.now() + 90_000
      for (;;) {
        prober.start(100)
        await sleep(2000)
        const w = await prober.stop(5000)
        if ((w.samples.length >= 5 && (w.samples[Math.floor(w.samples.length / 2)] ?? Infinity) < 1000) || Date.now() > warmUntil) break
      }
      // Latency at a fixed 5,000 readings/s, after a warm-up at that rate (as in the embedded phases: from
      // idle consumers to a steady stream, the first second costs a backlog), reported apart.
      prober.start(10)
      await gen.run({ segments: [{ rate: 5000, durationMs: i.warmupMs }], batch: 1, qos: 1, windowReadings: 20_000, settleMs: 30_000 })
      const wl = await prober.stop()
      const warmup = { durationS: i.warmupMs / 1000, samples: wl.samples.length, p50: round(pct(wl.samples, 50), 2), p99: round(pct(wl.samples, 99), 2), max: round(wl.samples[wl.samples.length - 1] ?? NaN, 2) }
      const latSpec: PhaseSpec = { segments: [{ rate: 5000, durationMs: i.latencyMs }], batch: 1, qos: 1, windowReadings: 20_000, settleMs: 30_000 }
      const l0 = await snap()
      prober.start(10)
      await gen.run(latSpec)
      const lat = await prober.stop()
      const l1 = await snap()
      const s = lat.samples
      const latency = {
        targetRate: 5000, achievedAcceptedPerSec: round((l1.main.accepted - l0.main.accepted) / (i.latencyMs / 1000), 0), samples: s.length,
        p50: round(pct(s, 50), 2), p99: round(pct(s, 99), 2), p999: round(pct(s, 99.9), 2), max: round(s[s.length - 1] ?? NaN, 2),
        worstSamples: lat.worst, perSecond: lat.perSecond, warmup,
      }
      // Flood: single QoS 1 readings as fast as the window allows; then drain.
      const spec: PhaseSpec = { segments: [{ rate: 0, durationMs: i.phaseMs }], batch: 1, qos: 1, windowReadings: 2000, settleMs: 30_000 }
      const c0 = await snap()
      let c1p: Promise<Awaited<ReturnType<typeof snap>>> | undefined
      const t = setTimeout(() => { c1p = snap() }, i.phaseMs)
      const g: GeneratorStats = await gen.run(spec)
      clearTimeout(t)
      const c1 = await (c1p ?? snap())
      const td = Date.now()
      let c2 = await snap()
      // Drained: no consumer lag, every accepted reading stored, every acknowledged one counted.
      while ((c2.busLag > 0 || c2.written - c0.written < c2.main.accepted - c0.main.accepted || counted(c2.main) - counted(c0.main) < g.acked) && Date.now() - td < 120_000) { await sleep(250); c2 = await snap() }
      const drainMs = Date.now() - td
      const d = i.phaseMs / 1000
      const flood = {
        durationS: d, acked: g.acked,
        acceptedPerSec: round((c1.main.accepted - c0.main.accepted) / d, 0),
        processedPerSec: round((c2.written - c0.written) / (d + drainMs / 1000), 0),
        loss: g.acked - (counted(c2.main) - counted(c0.main)), drainMs,
      }
      // Warnings and errors the processes logged during the run (rebalances, consumer restarts…), by message.
      const logProblems: Record<string, number> = {}
      for (const p of procs) for (const line of p.logs) {
        try {
          const j = JSON.parse(line) as { level?: number; msg?: string }
          if ((j.level ?? 0) >= 40) logProblems[j.msg ?? '?'] = (logProblems[j.msg ?? '?'] ?? 0) + 1
        } catch { /* not JSON */ }
      }
      i.log(`Kafka, ${rulesInstances} rules instance(s): accepted ${flood.acceptedPerSec}/s, stored ${flood.processedPerSec}/s, loss ${flood.loss}; latency at 5,000/s p50 ${latency.p50} ms, p99 ${latency.p99} ms`)
      return { rulesInstances, startupMs, flood, latency, logProblems }
    } finally {
      await prober.close()
      await gen.close()
    }
  } catch (err) {
    // Say which process failed and how: its exit and its last log lines.
    for (const [n, p] of procs.entries()) {
      i.log(`Kafka run (${rulesInstances} rules instances), process ${n + 1}: ${p.exited() ? `exited (${p.child.exitCode ?? p.child.signalCode})` : 'running'}; last log lines:\n${p.logs.slice(-12).join('\n')}`)
    }
    throw err
  } finally {
    for (const p of procs.reverse()) await p.stop()
  }
}

/** Runs the scale-out measurement with 1 and 2 rules instances; never throws (the reason goes in the result). */
export async function runKafkaBench(i: KafkaBenchInput): Promise<{ available: true; runs: KafkaRunResult[] } | { available: false; reason: string }> {
  try {
    const runs: KafkaRunResult[] = []
    for (const n of [1, 2]) runs.push(await runWith(n, i))
    return { available: true, runs }
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0]! : String(err)
    i.log(`Kafka scale-out measurement failed: ${reason}`)
    return { available: false, reason }
  }
}
