// Starts the real yujing process (the built CLI) on free ports and reads the chosen ports from its
// structured log; used by the end-to-end and restart tests. startRoles() starts any subset of stages
// against external services and is ready at its "yujing started" log line (with or without HTTP).
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'

export interface RunningProcess {
  child: ChildProcess
  httpPort: number
  mqttPort: number
  logs: string[]
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

const ROOT = resolve(import.meta.dirname, '..')

export async function startProcess(args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<RunningProcess> {
  const cli = resolve(ROOT, 'dist/app/cli.js')
  if (!existsSync(cli)) throw new Error('dist/ is missing: run `npm run build` (npm test does it first)')
  const child = spawn(process.execPath, [resolve(ROOT, 'bin/yujing.js'), 'start', '--port', '0', '--mqtt-port', '0', ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', MQTT_URL: '', KAFKA_BROKERS: '', DATABASE_URL: '', INFLUX_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const logs: string[] = []
  let httpPort = 0
  let mqttPort = 0
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  await new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`process did not start in ${timeoutMs} ms:\n${logs.slice(-20).join('\n')}`)), timeoutMs)
    let buf = ''
    const onLine = (line: string): void => {
      logs.push(line)
      try {
        const j = JSON.parse(line) as { msg?: string; port?: number }
        if (j.msg === 'dashboard listening' && j.port) httpPort = j.port
        if (j.msg === 'embedded MQTT broker listening' && j.port) mqttPort = j.port
      } catch { /* not JSON */ }
      if (httpPort && mqttPort) { clearTimeout(timer); resolveReady() }
    }
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString()
      let i
      while ((i = buf.indexOf('\n')) >= 0) { onLine(buf.slice(0, i)); buf = buf.slice(i + 1) }
    })
    child.stderr!.on('data', (d: Buffer) => logs.push(d.toString()))
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`process exited with ${code}:\n${logs.slice(-30).join('\n')}`)) })
  })
  return {
    child,
    httpPort,
    mqttPort,
    logs,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode
      child.kill(signal)
      return exited
    },
  }
}

export interface RoleProcess {
  name: string
  child: ChildProcess
  /** HTTP port when the process runs the dashboard. */
  httpPort?: number
  logs: string[]
  /** Milliseconds from spawn to "yujing started". */
  startMs: number
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/** Starts `yujing start --roles <roles>` with `env` on top of this process's environment (nothing blanked). */
export async function startRoles(name: string, roles: string, args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<RoleProcess> {
  const cli = resolve(ROOT, 'dist/app/cli.js')
  if (!existsSync(cli)) throw new Error('dist/ is missing: run `npm run build` (npm test does it first)')
  const t0 = Date.now()
  const portArgs = args.includes('--port') ? [] : ['--port', '0']
  const child = spawn(process.execPath, [resolve(ROOT, 'bin/yujing.js'), 'start', '--roles', roles, ...portArgs, ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', YUJING_INSTANCE: name, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const logs: string[] = []
  let httpPort: number | undefined
  let ready = false
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  await new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} (${roles}) did not start in ${timeoutMs} ms:\n${logs.slice(-20).join('\n')}`)), timeoutMs)
    let buf = ''
    const onLine = (line: string): void => {
      logs.push(line)
      try {
        const j = JSON.parse(line) as { msg?: string; port?: number }
        if (j.msg === 'yujing started') { httpPort = j.port; ready = true; clearTimeout(timer); resolveReady() }
      } catch { /* not JSON */ }
    }
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString()
      let i
      while ((i = buf.indexOf('\n')) >= 0) { onLine(buf.slice(0, i)); buf = buf.slice(i + 1) }
    })
    child.stderr!.on('data', (d: Buffer) => logs.push(d.toString()))
    void exited.then((code) => { if (!ready) { clearTimeout(timer); reject(new Error(`${name} (${roles}) exited with ${code}:\n${logs.slice(-30).join('\n')}`)) } })
  })
  return {
    name, child, httpPort, logs, startMs: Date.now() - t0,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode
      child.kill(signal)
      return exited
    },
  }
}
