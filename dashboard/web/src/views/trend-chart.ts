// A sensor trend with uPlot: time series with the sensor's threshold lines in their colours; live
// points append (bounded), longer ranges are replaced wholesale from GET /api/sensors/:id/readings.
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { COLOR_RGB, type Color } from '../../../../core/contracts/levels.js'

export interface ThresholdLine { color: Color; value: number }

export class TrendChart {
  private plot: uPlot | null = null
  private xs: number[] = []
  private ys: (number | null)[] = []
  private readonly maxPoints = 4000

  constructor(private readonly el: HTMLElement, private readonly thresholds: ThresholdLine[], private readonly unit: string) {}

  private ensure(): uPlot {
    if (this.plot) return this.plot
    const th = this.thresholds
    const width = Math.max(240, this.el.clientWidth || 360)
    const axis = { stroke: '#9fb3d1', grid: { stroke: 'rgba(160,180,210,0.12)', width: 1 }, ticks: { stroke: 'rgba(160,180,210,0.25)', width: 1 } }
    this.plot = new uPlot({
      width,
      height: 150,
      legend: { show: false },
      cursor: { drag: { x: true, y: false } },
      scales: {
        x: { time: true },
        y: {
          range: (_u, min, max) => {
            let lo = min, hi = max
            for (const t of th) { lo = Math.min(lo, t.value); hi = Math.max(hi, t.value) }
            if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1]
            const pad = (hi - lo || Math.abs(hi) || 1) * 0.1
            return [lo - pad, hi + pad]
          },
        },
      },
      axes: [{ ...axis }, { ...axis, size: 56, label: this.unit, labelSize: 14 }],
      series: [{}, { stroke: '#5ee1ff', width: 2, fill: 'rgba(94,225,255,0.10)', spanGaps: false }],
      hooks: {
        draw: [(u) => {
          const ctx = u.ctx
          ctx.save()
          for (const t of th) {
            const y = u.valToPos(t.value, 'y', true)
            if (y < u.bbox.top || y > u.bbox.top + u.bbox.height) continue
            const [r, g, b] = COLOR_RGB[t.color]
            ctx.strokeStyle = `rgb(${r},${g},${b})`
            ctx.setLineDash([6, 4])
            ctx.lineWidth = 1.5 * (window.devicePixelRatio || 1)
            ctx.beginPath()
            ctx.moveTo(u.bbox.left, y)
            ctx.lineTo(u.bbox.left + u.bbox.width, y)
            ctx.stroke()
          }
          ctx.restore()
        }],
      },
    }, [this.xs, this.ys], this.el)
    return this.plot
  }

  /** Replace the data (ts ISO or epoch ms). */
  setData(points: readonly { ts: string | number; value: number }[]): void {
    const rows = points.map((p) => [typeof p.ts === 'number' ? p.ts / 1000 : Date.parse(p.ts) / 1000, p.value] as const).filter((r) => Number.isFinite(r[0])).sort((a, b) => a[0] - b[0])
    this.xs = rows.map((r) => r[0])
    this.ys = rows.map((r) => r[1])
    this.ensure().setData([this.xs, this.ys])
  }

  /** Append live points, keep the last `windowSec` seconds. */
  append(points: readonly { ts: string; value: number }[], windowSec = 3600): void {
    for (const p of points) {
      const x = Date.parse(p.ts) / 1000
      if (!Number.isFinite(x)) continue
      const last = this.xs[this.xs.length - 1]
      if (last !== undefined && x < last) continue
      this.xs.push(x)
      this.ys.push(p.value)
    }
    const cut = (this.xs[this.xs.length - 1] ?? 0) - windowSec
    let i = 0
    while (i < this.xs.length && (this.xs[i]! < cut || this.xs.length - i > this.maxPoints)) i++
    if (i > 0) { this.xs = this.xs.slice(i); this.ys = this.ys.slice(i) }
    this.ensure().setData([this.xs, this.ys])
  }

  destroy(): void { this.plot?.destroy(); this.plot = null }
}

/** Flat or two-sided thresholds → coloured lines. */
export function thresholdLines(th: unknown): ThresholdLine[] {
  const out: ThresholdLine[] = []
  const flat = (o: unknown) => {
    if (!o || typeof o !== 'object') return
    for (const c of ['blue', 'yellow', 'orange', 'red'] as const) {
      const v = (o as Record<string, unknown>)[c]
      if (typeof v === 'number') out.push({ color: c, value: v })
    }
  }
  if (th && typeof th === 'object' && ('low' in th || 'high' in th)) { flat((th as { low?: unknown }).low); flat((th as { high?: unknown }).high) }
  else flat(th)
  return out
}
