// Starts the real yujing process (the built CLI) on free ports and reads the chosen ports from its
// structured log; used by the end-to-end and restart tests.
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
