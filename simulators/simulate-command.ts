// `npx yujing simulate`: simulators against any MQTT broker, with a one-line progress display on
// stderr. Resolves after durationSeconds, or on SIGINT/SIGTERM.
import { loadRegistryFile } from '../core/registry/load-registry.js'
import { createLogger } from '../core/runtime/logger.js'
import type { RegistryDoc } from '../core/contracts/registry.js'
import { DEMO_PROVINCE_SEED, DEMO_SECRET, generateDemoProvince } from './demo-province.js'
import { createSimulator, type SimulatorStats } from './simulator.js'

export interface SimulateCommandOptions {
  mqttUrl: string
  /** A registry file (JSON/YAML); default: the generated demo province. */
  registryFile?: string
  /** Enterprises of the generated demo province. Default 72. */
  enterprises?: number
  rate: number
  /** A scenario name, a comma-separated list, or "demo". */
  scenario?: string
  /** Seed of the signals and scenarios. */
  seed?: number
  /** Seed of the generated demo province; must match the server's (default DEMO_PROVINCE_SEED). */
  provinceSeed?: number
  durationSeconds?: number
  qos?: 0 | 1
  /** Readings per MQTT message (1 = single-reading topics), or true for up to 1000. */
  batch?: boolean | number
  /** Secret the demo gateway tokens are derived from; must match the server's. Default DEMO_SECRET. */
  secret?: string
  /** Where the progress line goes. Default process.stderr. */
  out?: NodeJS.WritableStream & { isTTY?: boolean }
}

export function progressLine(s: SimulatorStats): string {
  const active = s.activeScenarios.length ? `  scenarios: ${s.activeScenarios.join(', ')}` : ''
  return `[simulate] ${s.ratePerSec} readings/s  sent ${s.sent}  errors ${s.errors}  dropped ${s.dropped}  gateways ${s.connected}${active}`
}

export async function runSimulateCommand(opts: SimulateCommandOptions): Promise<void> {
  const out = opts.out ?? process.stderr
  const logger = createLogger({ level: 'warn', name: 'simulate' })
  const registry: RegistryDoc = opts.registryFile
    ? await loadRegistryFile(opts.registryFile)
    : generateDemoProvince({ seed: opts.provinceSeed ?? DEMO_PROVINCE_SEED, enterprises: opts.enterprises, secret: opts.secret ?? DEMO_SECRET })
  const scenarios = opts.scenario === 'demo' ? 'demo' : (opts.scenario ?? '').split(',').map((x) => x.trim()).filter(Boolean)
  let calls = 0
  let lineLength = 0
  const sim = createSimulator({
    mqttUrl: opts.mqttUrl, registry, rate: opts.rate, scenarios, seed: opts.seed, qos: opts.qos, batch: opts.batch, logger,
    onProgress(s) {
      const line = progressLine(s)
      if (out.isTTY) {
        out.write(`\r${line.padEnd(lineLength)}`)
        lineLength = line.length
      } else if (calls++ % 10 === 0) {
        out.write(`${line}\n`) // not a terminal: a line every ~10 s
      }
    },
  })
  await sim.start()
  out.write(`[simulate] ${registry.enterprises.length} enterprises, ${registry.sensors.length} sensors → ${opts.mqttUrl} at ${opts.rate} readings/s${opts.scenario ? `, scenario ${opts.scenario}` : ''}\n`)
  await new Promise<void>((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done)
      process.off('SIGTERM', done)
      if (timer) clearTimeout(timer)
      resolve()
    }
    const timer = opts.durationSeconds ? setTimeout(done, opts.durationSeconds * 1000) : undefined
    process.on('SIGINT', done)
    process.on('SIGTERM', done)
  })
  await sim.stop()
  const s = sim.stats()
  out.write(`${out.isTTY ? '\n' : ''}[simulate] done: sent ${s.sent} readings in ${s.messages} messages, errors ${s.errors}, dropped ${s.dropped}\n`)
}
