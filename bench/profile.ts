// Reads a V8 .cpuprofile (node --cpu-prof) and ranks functions by self time, as file:function.
import { readFileSync } from 'node:fs'
import { relative, resolve } from 'node:path'

interface ProfNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }
interface Profile { nodes: ProfNode[]; samples: number[]; timeDeltas: number[] }

export interface HotSpot { where: string; selfMs: number; selfPct: number }

const ROOT = resolve(import.meta.dirname, '..', '..')

export function hotSpots(file: string, top = 20): { totalMs: number; idleMs: number; gcMs: number; spots: HotSpot[]; byFile: HotSpot[] } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const self = new Map<string, number>()
  const files = new Map<string, number>()
  let total = 0
  let idle = 0
  let gc = 0
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]!)
    const dt = (p.timeDeltas[i] ?? 0) / 1000
    if (!n) continue
    const fn = n.callFrame.functionName || '(anonymous)'
    if (fn === '(idle)') { idle += dt; continue }
    total += dt
    if (fn === '(garbage collector)') gc += dt
    let url = n.callFrame.url.replace(/^file:\/\//, '')
    if (url.startsWith(ROOT)) url = relative(ROOT, url)
    url = url.replace(/^.*node_modules\//, 'node_modules/')
    const key = `${url || '(native)'}:${fn}:${n.callFrame.lineNumber + 1}`
    self.set(key, (self.get(key) ?? 0) + dt)
    const fk = url.startsWith('node_modules/') ? url.split('/').slice(0, 2).join('/') : (url || '(native/V8)')
    files.set(fk, (files.get(fk) ?? 0) + dt)
  }
  const rank = (m: Map<string, number>): HotSpot[] => [...m].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([where, ms]) => ({ where, selfMs: Math.round(ms), selfPct: Math.round((ms / total) * 1000) / 10 }))
  return { totalMs: Math.round(total), idleMs: Math.round(idle), gcMs: Math.round(gc), spots: rank(self), byFile: rank(files) }
}

export interface LongTask { startS: number; ms: number; top: string[] }

/** Stretches of the event loop without an idle sample longer than `minMs` (what delays every message
 *  queued behind them: the latency tail), after `skipS` seconds (start-up), each with the app frames
 *  (and GC) most often on its stack. */
export function longTasks(file: string, minMs = 40, skipS = 15, top = 4): { count: number; totalMs: number; tasks: LongTask[] } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile & { startTime: number }
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of p.nodes as (ProfNode & { children?: number[] })[]) for (const c of n.children ?? []) parent.set(c, n.id)
  const label = (n: ProfNode): string => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`
  const tasks: LongTask[] = []
  let t = p.startTime
  let cur: { start: number; end: number; samples: number[] } | null = null
  const close = (): void => {
    if (cur && (cur.end - cur.start) / 1000 >= minMs && (cur.start - p.startTime) / 1e6 >= skipS) {
      const counts = new Map<string, number>()
      for (const id of cur.samples) {
        const seen = new Set<string>()
        for (let c: number | undefined = id; c !== undefined; c = parent.get(c)) {
          const n = byId.get(c)!
          if (!n.callFrame.url.includes('/dist/') && n.callFrame.functionName !== '(garbage collector)') continue
          const k = label(n)
          if (!seen.has(k)) { seen.add(k); counts.set(k, (counts.get(k) ?? 0) + 1) }
        }
      }
      tasks.push({
        startS: Math.round((cur.start - p.startTime) / 1e5) / 10, ms: Math.round((cur.end - cur.start) / 1000),
        top: [...counts].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => `${k} (${Math.round((v / cur!.samples.length) * 100)} %)`),
      })
    }
    cur = null
  }
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0
    const n = byId.get(p.samples[i]!)
    if (!n || n.callFrame.functionName === '(idle)') { close(); continue }
    cur ??= { start: t, end: t, samples: [] }
    cur.end = t
    cur.samples.push(n.id)
  }
  close()
  tasks.sort((a, b) => b.ms - a.ms)
  return { count: tasks.length, totalMs: tasks.reduce((s, x) => s + x.ms, 0), tasks: tasks.slice(0, 30) }
}
