// A Mosquitto of the test's own on a free port, configured from deploy/mosquitto/mosquitto.conf with the
// password and ACL files the `yujing mqtt-acl` command writes from a registry. Needs `mosquitto` installed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join, resolve } from 'node:path'
import { freeStablePort } from './ports.js'

const ROOT = resolve(import.meta.dirname, '..')

export interface MosquittoInstance {
  url: string
  port: number
  dir: string
  logs: string[]
  /** CLI output of `yujing mqtt-acl`. */
  aclOutput: string
  stop(): Promise<void>
}

export function mosquittoInstalled(): boolean {
  return spawnSync('mosquitto', ['-h'], { stdio: 'ignore' }).error === undefined
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const c = connect(port, '127.0.0.1')
    c.once('connect', () => { c.destroy(); res(true) })
    c.once('error', () => res(false))
  })
}

/** The shipped config with this instance's port, files and data directory. */
export function instanceConfig(port: number, dir: string): string {
  const shipped = readFileSync(resolve(ROOT, 'deploy/mosquitto/mosquitto.conf'), 'utf8')
  const swap = (text: string, key: string, value: string): string => {
    const re = new RegExp(`^${key} .*$`, 'm')
    if (!re.test(text)) throw new Error(`deploy/mosquitto/mosquitto.conf has no "${key}" line`)
    return text.replace(re, `${key} ${value}`)
  }
  let c = swap(shipped, 'listener', `${port} 127.0.0.1`)
  c = swap(c, 'password_file', join(dir, 'passwd'))
  c = swap(c, 'acl_file', join(dir, 'acl'))
  c = swap(c, 'persistence_location', `${join(dir, 'data')}/`)
  // Started as root, Mosquitto drops to the `mosquitto` user, which cannot read our 0600 files in a private tmp dir.
  if (process.getuid?.() === 0) c += '\nuser root\n'
  return c
}

export async function startMosquitto(opts: { registryFile: string; dir: string; ingestUser: string; ingestPassword: string }): Promise<MosquittoInstance> {
  const { dir } = opts
  mkdirSync(join(dir, 'data'), { recursive: true })
  const acl = spawnSync(process.execPath, [resolve(ROOT, 'bin/yujing.js'), 'mqtt-acl', '--registry', opts.registryFile, '--out', dir, '--ingest-user', opts.ingestUser, '--ingest-password', opts.ingestPassword], { cwd: ROOT, encoding: 'utf8' })
  if (acl.status !== 0) throw new Error(`yujing mqtt-acl failed (${acl.status}): ${acl.stderr}${acl.stdout}`)
  const port = await freeStablePort()
  const confPath = join(dir, 'mosquitto.conf')
  writeFileSync(confPath, instanceConfig(port, dir))
  const logs: string[] = []
  let child: ChildProcess = spawn('mosquitto', ['-c', confPath], { stdio: ['ignore', 'pipe', 'pipe'] })
  const collect = (c: ChildProcess): void => {
    c.stdout!.on('data', (d: Buffer) => logs.push(d.toString()))
    c.stderr!.on('data', (d: Buffer) => logs.push(d.toString()))
  }
  collect(child)
  const waitUp = async (): Promise<void> => {
    for (let i = 0; i < 100; i++) {
      if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}:\n${logs.join('')}`)
      if (await portOpen(port)) return
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error(`mosquitto did not listen on ${port}:\n${logs.join('')}`)
  }
  await waitUp()
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null) return
    const exited = new Promise<void>((r) => child.once('exit', () => r()))
    child.kill('SIGTERM')
    await exited
  }
  return { url: `mqtt://127.0.0.1:${port}`, port, dir, logs, aclOutput: acl.stdout + acl.stderr, stop }
}
