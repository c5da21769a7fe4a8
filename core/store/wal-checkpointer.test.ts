// The WAL checkpoint worker: the writing connection never checkpoints while it runs, the WAL stays
// bounded anyway, and the writer takes over again when the worker stops or cannot start.
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openSharedDb } from './sqlite-db.js'
import { startWalCheckpointer } from './wal-checkpointer.js'

const dirs: string[] = []
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }) })
const tmp = (): string => { const d = mkdtempSync(join(tmpdir(), 'yj-wal-')); dirs.push(d); return d }
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function writeMuch(db: ReturnType<typeof openSharedDb>['db'], rows: number, offset = 0): void {
  const ins = db.prepare('INSERT INTO t (id, body) VALUES (?, ?)')
  const tx = db.transaction((from: number) => { for (let i = from; i < from + 50; i++) ins.run(i, 'x'.repeat(2000)) })
  for (let i = 0; i < rows; i += 50) tx(offset + i)
}

describe('WAL checkpoint worker', () => {
  it('checkpoints from its own thread: the writer never does, and the WAL stays bounded', async () => {
    const file = join(tmp(), 'w.db')
    const shared = openSharedDb(file)
    shared.db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)')
    const cp = await startWalCheckpointer(shared.db, file, { intervalMs: 20 })
    try {
      expect(shared.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0)
      let maxWal = 0
      // 30 MB of rows in 60 rounds, with time between for the worker
      for (let round = 0; round < 60; round++) {
        writeMuch(shared.db, 250, round * 250)
        maxWal = Math.max(maxWal, statSync(`${file}-wal`).size)
        await sleep(25)
      }
      expect(cp.checkpoints()).toBeGreaterThan(10)
      expect(maxWal).toBeLessThan(8 * 2 ** 20) // never the 30 MB written
      expect((shared.db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n).toBe(15_000)
    } finally {
      await cp.stop()
    }
    expect(shared.db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000) // the writer again
    shared.retain(); shared.release()
  })

  it('without it and with the writer\'s checkpoint off, the same writes grow the WAL to their full size (the control)', async () => {
    const file = join(tmp(), 'w.db')
    const shared = openSharedDb(file)
    shared.db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)')
    shared.db.pragma('wal_autocheckpoint = 0')
    for (let round = 0; round < 60; round++) writeMuch(shared.db, 250, round * 250)
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(25 * 2 ** 20)
    shared.retain(); shared.release()
  })

  it('a worker that cannot open the file refuses to start and leaves the writer checkpointing', async () => {
    const file = join(tmp(), 'w.db')
    const shared = openSharedDb(file)
    await expect(startWalCheckpointer(shared.db, join(tmp(), 'missing', 'dir', 'x.db'))).rejects.toThrow()
    expect(shared.db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000)
    shared.retain(); shared.release()
  })
})
