// A Prometheus histogram for observations made on every message: observe() finds the bucket by index
// and adds to typed arrays; the series are built only when /metrics is scraped. prom-client's
// Histogram.observe builds a label object, validates and hashes it, and indexes its buckets by the
// bound as a property name (a number-to-string conversion) on every call: 2.4 % of the event loop at
// 5,000 messages/s with two observations a message. Registered in a prom-client Registry like its own
// metrics, with the same series (`_bucket` with `le`, `_sum`, `_count`).
import type { Registry } from 'prom-client'

export interface HistogramChild { observe(value: number): void }

interface SeriesValue { labels: Record<string, string | number>; value: number; metricName: string }
export interface HistogramSnapshot { name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: SeriesValue[] }

export interface FastHistogram extends HistogramChild {
  readonly name: string
  /** The child for these label values (in `labelNames` order), created on first use. */
  labels(...values: string[]): HistogramChild
  get(): Promise<HistogramSnapshot>
  reset(): void
}

interface Series { labels: Record<string, string>; counts: Float64Array; sum: number; count: number }

export function createFastHistogram(cfg: { name: string; help: string; buckets: readonly number[]; labelNames?: readonly string[]; registers?: readonly Registry[] }): FastHistogram {
  const bounds = [...cfg.buckets].sort((a, b) => a - b)
  const labelNames = cfg.labelNames ?? []
  const series = new Map<string, Series>()
  const newSeries = (labels: Record<string, string>): Series => ({ labels, counts: new Float64Array(bounds.length + 1), sum: 0, count: 0 })
  const record = (s: Series, v: number): void => {
    if (!Number.isFinite(v)) throw new TypeError(`${cfg.name}: value is not a valid number: ${v}`)
    let i = 0
    while (i < bounds.length && v > bounds[i]!) i++
    s.counts[i]!++
    s.sum += v
    s.count++
  }
  const unlabelled = labelNames.length ? undefined : newSeries({})
  if (unlabelled) series.set('', unlabelled)

  const h: FastHistogram & { help: string; type: 'histogram'; aggregator: 'sum' } = {
    name: cfg.name,
    help: cfg.help,
    type: 'histogram',
    aggregator: 'sum',
    observe(value) {
      if (!unlabelled) throw new Error(`${cfg.name} has labels (${labelNames.join(', ')}): use labels(…).observe`)
      record(unlabelled, value)
    },
    labels(...values) {
      if (values.length !== labelNames.length) throw new Error(`${cfg.name}: expected ${labelNames.length} label values, got ${values.length}`)
      const key = values.join('\u0000')
      let s = series.get(key)
      if (!s) {
        const labels: Record<string, string> = {}
        labelNames.forEach((n, i) => { labels[n] = String(values[i]) })
        s = newSeries(labels)
        series.set(key, s)
      }
      const child = s
      return { observe: (v: number) => record(child, v) }
    },
    async get() {
      const values: SeriesValue[] = []
      for (const s of series.values()) {
        let cumulative = 0
        for (let i = 0; i < bounds.length; i++) {
          cumulative += s.counts[i]!
          values.push({ labels: { le: bounds[i]!, ...s.labels }, value: cumulative, metricName: `${cfg.name}_bucket` })
        }
        values.push({ labels: { le: '+Inf', ...s.labels }, value: s.count, metricName: `${cfg.name}_bucket` })
        values.push({ labels: { ...s.labels }, value: s.sum, metricName: `${cfg.name}_sum` })
        values.push({ labels: { ...s.labels }, value: s.count, metricName: `${cfg.name}_count` })
      }
      return { name: cfg.name, help: cfg.help, type: 'histogram', aggregator: 'sum', values }
    },
    reset() {
      for (const s of series.values()) { s.counts.fill(0); s.sum = 0; s.count = 0 }
    },
  }
  for (const r of cfg.registers ?? []) r.registerMetric(h as unknown as Parameters<Registry['registerMetric']>[0])
  return h
}
