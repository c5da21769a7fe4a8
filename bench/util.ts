// Small helpers of the bench: free ports, sleeping, percentiles, /proc readings of another process,
// ending a helper process, a full collection of the orchestrator's heap.
import type { ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { readFileSync } from 'node:fs'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      const port = typeof a === 'object' && a ? a.port : 0
      s.close(() => resolve(port))
    })
  })
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Asks a forked helper (load generator, prober) to close, and waits for it to exit; killed after 10 s. */
export async function endChild(child: ChildProcess, closeMessage: unknown): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((r) => child.once('exit', r))
  child.send(closeMessage as object)
  const t = setTimeout(() => child.kill('SIGKILL'), 10_000)
  await exited
  clearTimeout(t)
}

/** A full garbage collection of this process now, before measuring: the orchestrator's garbage from
 *  generating the registry and the decode-only baseline (135 MB of heap, 32 MB live) is otherwise
 *  collected some time during a phase — a compaction on both cores, which the pipeline under test shares. */
export function settleHeap(): void {
  setFlagsFromString('--expose-gc')
  ;(runInNewContext('gc') as () => void)()
}

/** Percentile (0..100) of a sorted array; NaN when empty. */
export function pct(sorted: readonly number[], p: number): number {
  if (!sorted.length) return NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]!
}

const TICK = 100 // USER_HZ on Linux
/** CPU time (user + system) of a process, ms, from /proc; NaN when unavailable. */
export function procCpuMs(pid: number): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
    return ((Number(f[11]) + Number(f[12])) * 1000) / TICK
  } catch { return NaN }
}
/** Resident set size of a process, bytes (VmRSS); NaN when unavailable. */
export function procRss(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : NaN
  } catch { return NaN }
}
/** Peak RSS (VmHWM), bytes. */
export function procPeakRss(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : NaN
  } catch { return NaN }
}

export const round = (x: number, d = 1): number => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : NaN)
