// The CLI: `yujing start` (the system, any subset of stages), `yujing simulate` (simulators against
// any broker), `yujing bench` (the benchmark), `yujing hash-secret` (hash a password or token for the registry).
import '../ingest/quiet-debug.js' // first: before anything loads mqtt-packet
import { Command, InvalidArgumentError } from 'commander'
import bcrypt from 'bcryptjs'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig } from '../core/config/load-config.js'
import { AppError } from '../core/runtime/errors.js'
import { createLogger } from '../core/runtime/logger.js'
import { startSystem } from './compose.js'

function int(v: string): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer')
  return n
}

function positive(v: string): number {
  const n = Number(v)
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number')
  return n
}

/** The demo province's secret, kept in the running demo's store (its gateway tokens derive from it). */
async function demoSecretOf(dataDir: string): Promise<string> {
  if (!existsSync(join(dataDir, 'yujing.db'))) {
    throw new AppError('CONFIG_INVALID', `no demo data in ${dataDir}: give --data-dir of the running demo, --secret, or --registry FILE`)
  }
  const { openSqliteStores } = await import('../core/store/sqlite-stores.js')
  const stores = await openSqliteStores({ dataDir })
  try {
    const s = await stores.kv.get('demo.secret')
    if (!s) throw new AppError('CONFIG_INVALID', `the store in ${dataDir} holds no demo province (started with a registry?): give --registry FILE`)
    return s
  } finally {
    await stores.close()
  }
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command('yujing').description('yujing (预警): safety-production risk monitoring and early warning')

  program.command('start')
    .description('run the system (all stages in one process by default)')
    .option('--registry <file>', 'registry file (JSON or YAML); without it the demo province is generated')
    .option('--config <file>', 'configuration file (YAML or JSON)')
    .option('--roles <roles>', 'comma-separated stages: ingest,rules,alerting,dashboard')
    .option('--data-dir <dir>', 'embedded storage directory')
    .option('--port <port>', 'HTTP port (0 = pick a free one)', int)
    .option('--mqtt-port <port>', 'embedded MQTT port (0 = pick a free one)', int)
    .option('--simulate', 'run the simulators in this process')
    .option('--rate <n>', 'simulated readings per second', positive)
    .action(async (o: { registry?: string; config?: string; roles?: string; dataDir?: string; port?: number; mqttPort?: number; simulate?: boolean; rate?: number }) => {
      const config = loadConfig({ ...o, simulate: o.simulate })
      const logger = createLogger({ level: config.logLevel })
      process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'))
      const system = await startSystem(config, { logger })
      let exiting = false
      const shutdown = (signal: string): void => {
        if (exiting) return
        exiting = true
        logger.info({ signal }, 'shutting down')
        system.stop().then(() => process.exit(0), (err: unknown) => { logger.error({ err }, 'shutdown failed'); process.exit(1) })
      }
      process.on('SIGTERM', () => shutdown('SIGTERM'))
      process.on('SIGINT', () => shutdown('SIGINT'))
    })

  program.command('simulate')
    .description('publish simulated readings and incidents to any MQTT broker')
    .requiredOption('--mqtt-url <url>', 'broker, e.g. mqtt://127.0.0.1:1883')
    .option('--registry <file>', 'registry whose gateways and sensors to simulate (default: the demo province)')
    .option('--enterprises <n>', 'enterprises of the demo province', int)
    .option('--rate <n>', 'readings per second', positive, 200)
    .option('--scenario <name>', 'scenario name, or "demo" to cycle through several', 'demo')
    .option('--seed <n>', 'random seed', int, 42)
    .option('--duration <seconds>', 'stop after this many seconds', positive)
    .option('--qos <0|1>', 'MQTT QoS', int, 1)
    .option('--batch <n>', 'readings per MQTT message (1 = single-reading topics)', int, 1)
    .option('--secret <secret>', 'secret of the demo province the broker runs (demo gateways\' tokens derive from it)')
    .option('--data-dir <dir>', 'data directory of the running demo, to read its secret from (default YUJING_DATA_DIR or ./data)')
    .action(async (o: { mqttUrl: string; registry?: string; enterprises?: number; rate: number; scenario: string; seed: number; duration?: number; qos: number; batch: number; secret?: string; dataDir?: string }) => {
      const { runSimulateCommand } = await import('../simulators/simulate-command.js')
      const secret = o.secret ?? (o.registry ? undefined : await demoSecretOf(o.dataDir ?? loadConfig({}).dataDir))
      await runSimulateCommand({ mqttUrl: o.mqttUrl, registryFile: o.registry, enterprises: o.enterprises, rate: o.rate, scenario: o.scenario, seed: o.seed, durationSeconds: o.duration, qos: o.qos === 0 ? 0 : 1, batch: o.batch, secret })
    })

  program.command('mqtt-acl')
    .description('write Mosquitto password and ACL files from the registry: one user per gateway limited to sensors/{its enterprise}, one ingest user reading sensors/#')
    .requiredOption('--out <dir>', 'directory to write `passwd` and `acl` into')
    .option('--registry <file>', 'registry file (JSON or YAML); without it the registry is read from the store (--data-dir or DATABASE_URL)')
    .option('--data-dir <dir>', 'embedded storage directory holding the registry')
    .option('--config <file>', 'configuration file (YAML or JSON), for the store')
    .option('--ingest-user <name>', 'username ingest connects with (MQTT_USERNAME)')
    .option('--ingest-password <password>', 'password ingest connects with (MQTT_PASSWORD)')
    .action(async (o: { out: string; registry?: string; dataDir?: string; config?: string; ingestUser?: string; ingestPassword?: string }) => {
      const { buildMosquittoAuth, writeMosquittoAuth } = await import('./mosquitto-auth.js')
      const ingestUser = o.ingestUser ?? process.env.MQTT_USERNAME ?? 'yujing-ingest'
      const ingestPassword = o.ingestPassword ?? process.env.MQTT_PASSWORD
      if (!ingestPassword) throw new AppError('CONFIG_INVALID', 'give --ingest-password (or MQTT_PASSWORD): the password ingest connects with')
      let doc
      if (o.registry) {
        const { loadRegistryFile } = await import('../core/registry/load-registry.js')
        doc = await loadRegistryFile(o.registry)
      } else {
        const config = loadConfig({ config: o.config, dataDir: o.dataDir })
        const { openStores } = await import('./adapters.js')
        const { createMetrics } = await import('../core/runtime/metrics.js')
        const stores = await openStores(config, { logger: createLogger({ level: 'warn' }), metrics: createMetrics({ defaults: false }) })
        try { doc = (await stores.registry.load())?.doc } finally { await stores.close() }
        if (!doc) throw new AppError('REGISTRY_INVALID', 'no registry in the store: give --registry FILE')
      }
      const auth = buildMosquittoAuth(doc, { ingestUser, ingestPassword })
      const paths = writeMosquittoAuth(o.out, auth)
      for (const s of auth.skipped) console.error(`yujing: gateway ${s.gatewayId} left out: ${s.reason}`)
      console.log(`wrote ${paths.passwd} and ${paths.acl}: ${auth.gateways} gateways, ingest user ${ingestUser}; reload Mosquitto (kill -HUP) to apply`)
    })

  program.command('bench')
    .description('benchmark the real pipeline end to end against raw Mosquitto, decode-only and Node-RED; writes bench-results.json')
    .option('--quick', 'smaller registry and short phases (under 2 minutes)')
    .option('--profile', 'run yujing under --cpu-prof and report its hot spots')
    .option('--gateways <n>', 'gateway connections of the load generator (default: every enterprise)', int)
    .option('--out <file>', 'results file (default ./bench-results.json)')
    .option('--no-node-red', 'skip the Node-RED baseline')
    .option('--kafka', 'with --quick: include the Kafka scale-out runs (always on without --quick when KAFKA_BROKERS is set)')
    .option('--node-args <flags>', 'extra Node/V8 flags for the yujing process under test (e.g. "--max-semi-space-size=32")')
    .option('--latency-only', 'only the embedded latency phases (no baselines, throughput, overload or Kafka)')
    .option('--latency-ms <n>', 'length of each latency phase in ms', int)
    .option('--latency-rates <list>', 'rates of the latency phases, readings/s (default 5000,20000)', (v: string) => v.split(',').map((x) => int(x)))
    .option('--kafka-only', 'only the Kafka scale-out runs (needs KAFKA_BROKERS)')
    .option('--throughput-only', 'only the embedded flood phases (no baselines, latency, overload or Kafka)')
    .option('--loads <list>', 'with --throughput-only: these loads only, comma-separated (e.g. "single QoS 1")', (v: string) => v.split(',').map((x) => x.trim()))
    .action(async (o: { quick?: boolean; profile?: boolean; gateways?: number; out?: string; nodeRed?: boolean; kafka?: boolean; nodeArgs?: string; latencyOnly?: boolean; latencyMs?: number; latencyRates?: number[]; kafkaOnly?: boolean; throughputOnly?: boolean; loads?: string[] }) => {
      // The orchestrator shares the cores with the pipeline it measures: V8's memory reducer compacting its
      // heap (20–50 ms, on both cores) a few seconds into a latency phase stalled the pipeline. Without it
      // (a flag read when the heap is set up: hence a new process, whose children inherit it).
      if (!process.execArgv.includes('--no-memory-reducer')) {
        const r = spawnSync(process.execPath, [...process.execArgv, '--no-memory-reducer', ...process.argv.slice(1)], { stdio: 'inherit' })
        process.exit(r.status ?? 1)
      }
      const { runBench } = await import('../bench/run.js')
      await runBench(o)
      process.exit(0)
    })

  program.command('soak')
    .description('run the real process under a steady QoS 1 load for a long time and record memory, handles, backlog and warning latency; writes soak-results.json')
    .option('--minutes <n>', 'duration (default 30)', int)
    .option('--rate <n>', 'readings per second (default 5000)', int)
    .option('--sample-seconds <n>', 'sampling interval (default 30)', int)
    .option('--out <file>', 'results file (default ./soak-results.json)')
    .option('--node-args <flags>', 'extra Node/V8 flags for the yujing process (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof")')
    .action(async (o: { minutes?: number; rate?: number; sampleSeconds?: number; out?: string; nodeArgs?: string }) => {
      const { runSoak } = await import('../bench/soak.js')
      await runSoak(o)
      process.exit(0)
    })

  program.command('hash-secret')
    .description('print a bcrypt hash of a password or gateway token, to put in the registry instead of the plain text')
    .argument('<secret>')
    .action((secret: string) => { console.log(bcrypt.hashSync(secret, 10)) })

  try {
    await program.parseAsync(argv)
  } catch (err) {
    if (err instanceof AppError) {
      console.error(`yujing: ${err.message}`)
      process.exit(2)
    }
    throw err
  }
}
