// Orchestrator side of the load generator: forks dist/bench/loadgen.js, connects its gateways and
// runs phases over IPC.
import { fork, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import type { BenchGateway } from './registry.js'
import type { FromGenerator, GeneratorStats, PhaseSpec, ToGenerator } from './loadgen-protocol.js'
import { endChild } from './util.js'

export interface Generator {
  pid: number
  connected: number
  failed: number
  connectMs: number
  firstError?: string
  run(p: PhaseSpec): Promise<GeneratorStats>
  close(): Promise<void>
}

/** The compiled child: beside this module, or (when this module runs from TypeScript sources in tests)
 *  in dist/ after `npm run build`. */
function loadgenFile(): string {
  const here = resolve(import.meta.dirname, 'loadgen.js')
  return existsSync(here) ? here : resolve(import.meta.dirname, '..', 'dist', 'bench', 'loadgen.js')
}

export async function startGenerator(o: { host: string; port: number; gateways: BenchGateway[]; clientPrefix: string; auth: boolean }): Promise<Generator> {
  const child: ChildProcess = fork(loadgenFile(), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' })
  const next = (): Promise<FromGenerator> => new Promise((res, rej) => {
    const onMsg = (m: unknown): void => { child.off('exit', onExit); res(m as FromGenerator) }
    const onExit = (code: number | null): void => { child.off('message', onMsg); rej(new Error(`load generator exited with ${code}`)) }
    child.once('message', onMsg)
    child.once('exit', onExit)
  })
  const send = (m: ToGenerator): void => { child.send(m) }
  const ready = next()
  send({ type: 'init', ...o })
  const r = await ready
  if (r.type !== 'ready') throw new Error(`load generator: ${r.type === 'error' ? r.message : 'unexpected reply'}`)
  if (!r.connected) throw new Error(`load generator could not connect: ${r.firstError ?? '?'}`)
  return {
    pid: child.pid!, connected: r.connected, failed: r.failed, connectMs: r.connectMs, ...(r.firstError ? { firstError: r.firstError } : {}),
    async run(p) {
      const done = next()
      send({ type: 'run', phase: p })
      const m = await done
      if (m.type !== 'done') throw new Error(`load generator: ${m.type === 'error' ? m.message : 'unexpected reply'}`)
      return m.stats
    },
    close: () => endChild(child, { type: 'close' } satisfies ToGenerator),
  }
}
