// Micro-benchmark of the ingest journal's cost: the ingest handler (decode → journal → bus) with no
// journal, with the journal (group commit) and with fsync, 100 messages in flight (as from many
// gateways; a gateway's message is acknowledged after its journal write); prints readings/s.
// It asserts only that every accepted message was journaled (timings vary by machine).
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createMemoryBus } from '../core/bus/memory-bus.js'
import { createRegistryHolder } from '../core/registry/registry-holder.js'
import { indexRegistry } from '../core/registry/registry-index.js'
import { createMetrics } from '../core/runtime/metrics.js'
import { createLogger } from '../core/runtime/logger.js'
import { fakeClock } from '../core/runtime/clock.js'
import { createMemoryRejectionStore } from '../core/store/memory-stores.js'
import { createIngestStage, type IngestJournal } from './ingest-stage.js'
import { openReadingJournal } from './reading-journal.js'
import { testRegistryDoc } from './testing/fixtures.js'

const NOW = Date.parse('2026-11-28T08:00:00Z')

async function measure(journal: IngestJournal | undefined, messages: number, perBatch: number): Promise<number> {
  const clock = fakeClock(NOW)
  const bus = createMemoryBus()
  await bus.subscribe({ name: 'readings' } as never, { group: 'sink' }, () => undefined)
  const stage = createIngestStage({
    bus, registry: createRegistryHolder(indexRegistry(testRegistryDoc())), rejections: createMemoryRejectionStore(),
    metrics: createMetrics(), logger: createLogger({ level: 'silent' }), clock,
    options: { mode: 'embedded', host: '127.0.0.1', port: 0, defaultGatewayRate: 1e9 }, ...(journal ? { journal } : {}),
  })
  const payloads = Array.from({ length: messages }, (_, m) => Buffer.from(JSON.stringify(
    Array.from({ length: perBatch }, (_, i) => ({ sensorId: i % 2 ? 'E1-CH4-01' : 'E1-CO-01', ts: NOW - 60_000 + m * perBatch + i, value: 0.3 + (i % 7) / 100 })))))
  const t0 = performance.now()
  let next = 0
  await Promise.all(Array.from({ length: 100 }, async () => {
    while (next < payloads.length) await stage.handle('gw-E1', 'sensors/E1', payloads[next++]!)
  }))
  const secs = (performance.now() - t0) / 1000
  await bus.drain()
  return (messages * perBatch) / secs
}

describe('ingest journal cost', () => {
  it('measures readings/s without a journal, with it, and with fsync', async () => {
    const rows: Record<string, number> = {}
    for (const perBatch of [1, 50]) {
      const n = perBatch === 1 ? 20_000 : 2_000
      rows[`no journal, ${perBatch}/msg`] = await measure(undefined, n, perBatch)
      const j = openReadingJournal({ dir: mkdtempSync(join(tmpdir(), 'yj-cost-')) })
      let appended = 0
      rows[`journal, ${perBatch}/msg`] = await measure({ record(b, r) { j.append(b, r); appended++ }, durable: () => j.durable() }, n, perBatch)
      expect(appended).toBe(n)
      expect(j.lastSeq()).toBe(n)
      j.close()
      const jf = openReadingJournal({ dir: mkdtempSync(join(tmpdir(), 'yj-cost-')), fsync: true })
      rows[`journal+fsync, ${perBatch}/msg`] = await measure({ record(b, r) { jf.append(b, r) }, durable: () => jf.durable() }, Math.min(n, 500), perBatch)
      jf.close()
    }
    console.log('journal cost (readings/s)', JSON.stringify(Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, Math.round(v)])), null, 1))
  }, 120_000)
})
