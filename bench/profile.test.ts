// Long-task extraction from a V8 CPU profile, on a synthetic profile with known stretches.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { longTasks } from './profile.js'

describe('longTasks', () => {
  it('finds busy stretches between idle samples and names the app frames on their stacks', () => {
    const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({ id, callFrame: { functionName, url, lineNumber: 0, scriptId: '0', columnNumber: 0 }, children })
    const nodes = [
      frame(1, '(root)', '', [2, 3, 5]), frame(2, '(idle)', ''),
      frame(3, 'pushStats', 'file:///x/dist/dashboard/server/realtime.js', [4]), frame(4, 'statsFor', 'file:///x/dist/dashboard/server/views.js'),
      frame(5, 'handle', 'file:///x/dist/ingest/ingest-stage.js'),
    ]
    // 1 ms samples: 20 s idle, 60 ms in statsFor, idle, 10 ms in handle (too short), idle.
    const samples = [...Array(20_000).fill(2), ...Array(60).fill(4), 2, ...Array(10).fill(5), 2]
    const file = join(mkdtempSync(join(tmpdir(), 'yj-prof-')), 'p.cpuprofile')
    writeFileSync(file, JSON.stringify({ nodes, startTime: 0, endTime: samples.length * 1000, samples, timeDeltas: samples.map(() => 1000) }))
    const r = longTasks(file, 40, 15)
    expect(r.count).toBe(1)
    expect(r.tasks[0]!.ms).toBe(59)
    expect(r.tasks[0]!.startS).toBe(20)
    expect([...r.tasks[0]!.top].sort()).toEqual(['pushStats server/realtime.js:1 (100 %)', 'statsFor server/views.js:1 (100 %)'])
  })
})
