// The fast histogram renders exactly what prom-client's Histogram renders for the same observations.
import { Histogram, Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { createFastHistogram } from './fast-histogram.js'

const buckets = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5]
const values = [0, 0.0005, 0.0007, 0.001, 0.0031, 0.05, 0.051, 0.7, 1, 4.99, 5, 5.01, 120, 0.0004]

describe('fast histogram', () => {
  it('renders the same /metrics text as prom-client for an unlabelled and a labelled histogram', async () => {
    const a = new Registry()
    const b = new Registry()
    const pa = new Histogram({ name: 'x_seconds', help: 'h', buckets, registers: [a] })
    const pl = new Histogram({ name: 'y_seconds', help: 'by stage', labelNames: ['stage'], buckets, registers: [a] })
    const fa = createFastHistogram({ name: 'x_seconds', help: 'h', buckets, registers: [b] })
    const fl = createFastHistogram({ name: 'y_seconds', help: 'by stage', labelNames: ['stage'], buckets, registers: [b] })
    expect(await b.metrics()).toBe(await a.metrics()) // nothing observed yet
    values.forEach((v, i) => {
      pa.observe(v); fa.observe(v)
      const stage = i % 3 ? 'rules' : 'ingest'
      pl.labels(stage).observe(v); fl.labels(stage).observe(v)
    })
    expect(await b.metrics()).toBe(await a.metrics())
    expect(await b.metrics()).toContain('y_seconds_count{stage="rules"} 9')
    expect((await fl.get()).values.find((v) => v.metricName === 'y_seconds_count' && v.labels.stage === 'ingest')?.value).toBe(5)
    pa.reset(); fa.reset(); pl.reset(); fl.reset()
    expect((await fa.get()).values.at(-1)?.value).toBe(0)
  })

  it('refuses what prom-client refuses', () => {
    const f = createFastHistogram({ name: 'z', help: 'z', buckets, labelNames: ['stage'] })
    expect(() => f.labels('a').observe(Number.NaN)).toThrow(TypeError)
    expect(() => f.observe(1)).toThrow(/labels/)
    expect(() => f.labels('a', 'b')).toThrow(/label values/)
    expect(() => createFastHistogram({ name: 'dup', help: 'x', buckets, registers: [(() => { const r = new Registry(); new Histogram({ name: 'dup', help: 'x', registers: [r] }); return r })()] })).toThrow(/already been registered/)
  })
})
