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
