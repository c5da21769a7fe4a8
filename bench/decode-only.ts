// Baseline (b): decoding, validation and threshold evaluation alone in this one process, over the
// same readings the load generator sends (no MQTT, no bus, no storage) — the CPU limit of the pipeline.
import { decodeMessage } from '../ingest/decode.js'
import { createDeduplicator } from '../ingest/dedup.js'
import { indexRegistry } from '../core/registry/registry-index.js'
import { compileRegistry } from '../rules/compile.js'
import { createSensorState, evaluate, type SensorState } from '../rules/evaluate.js'
import type { Finding } from '../core/contracts/finding.js'
import type { RegistryDoc } from '../core/contracts/registry.js'
import type { BenchGateway } from './registry.js'
import { CYCLE, NORMAL } from './registry.js'

export interface DecodeOnlyResult { batch: number; readings: number; ms: number; readingsPerSec: number; findings: number }

export function runDecodeOnly(doc: RegistryDoc, gateways: readonly BenchGateway[], batch: number, totalReadings: number): DecodeOnlyResult {
  const reg = indexRegistry(doc, 1)
  const compiled = compileRegistry(reg)
  const states = new Map<string, SensorState>()
  const dedup = createDeduplicator()
  // Pre-build one round of payloads over every gateway (ts are patched per round so nothing is a duplicate).
  const gws = gateways.slice(0, 2000)
  let ts = Date.now() - 60_000
  let visit = 0
  const out: Finding[] = []
  // Messages are built first (like the generator's), then only decoding + evaluation is timed.
  const msgs: { topic: string; payload: Buffer; gatewayId: string }[] = []
  let built = 0
  let idx = 0
  while (built < totalReadings) {
    const g = gws[idx++ % gws.length]!
    ts++
    visit++
    let topic: string
    let payload: string
    if (batch === 1) {
      const k = visit % g.sensors.length
      const v = k === 7 ? CYCLE[visit % CYCLE.length]! : NORMAL + (visit % 11) - 5
      topic = `sensors/${g.enterpriseId}/${g.sensors[k]}`
      payload = `{"ts":${ts},"value":${v}}`
    } else {
      const parts: string[] = []
      for (let j = 0; j < batch; j++) {
        const k = j % g.sensors.length
        const v = k === 7 ? CYCLE[visit % CYCLE.length]! : NORMAL + ((visit + j) % 11) - 5
        parts.push(`{"sensorId":"${g.sensors[k]}","ts":${ts + Math.floor(j / g.sensors.length)},"value":${v}}`)
      }
      ts += Math.ceil(batch / g.sensors.length)
      topic = `sensors/${g.enterpriseId}`
      payload = `[${parts.join(',')}]`
    }
    msgs.push({ topic, payload: Buffer.from(payload), gatewayId: `gw-${g.enterpriseId}` })
    built += batch
  }
  let readings = 0
  let findings = 0
  const t0 = performance.now()
  for (const m of msgs) {
    const res = decodeMessage({ topic: m.topic, payload: m.payload, gatewayId: m.gatewayId, receivedAt: Date.now() }, { registry: reg, dedup })
    const items = res.batch?.items ?? []
    for (let j = 0; j < items.length; j++) {
      const r = items[j]!
      const c = compiled.sensors.get(r.sensorId)
      if (!c) continue
      let s = states.get(r.sensorId)
      if (!s) { s = createSensorState(c); states.set(r.sensorId, s) }
      out.length = 0
      evaluate(c, s, r, res.batch!.receivedAt, out)
      findings += out.length
    }
    readings += items.length
  }
  const ms = performance.now() - t0
  return { batch, readings, ms, readingsPerSec: (readings * 1000) / ms, findings }
}
