// Our own Mosquitto on a free port with a config tuned for the baseline (no inflight limit, large
// queues, TCP_NODELAY, no persistence); null when the binary is missing.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, sleep } from './util.js'
import { connectMqtt } from './mqtt-connect.js'

export interface Mosquitto { port: number; child: ChildProcess; version: string; stop(): Promise<void> }

export async function startMosquitto(dir: string): Promise<Mosquitto | { error: string }> {
  const bin = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'].find((p) => existsSync(p))
  if (!bin) return { error: 'mosquitto binary not found' }
  const port = await freePort()
  const conf = join(dir, 'mosquitto.conf')
  writeFileSync(conf, [
    `listener ${port} 127.0.0.1`, 'allow_anonymous true', 'max_inflight_messages 0', 'max_queued_messages 0',
    'max_queued_bytes 0', 'set_tcp_nodelay true', 'persistence false', 'log_dest stderr', 'log_type error', 'log_type warning', 'max_connections -1', '',
  ].join('\n'))
  const child = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  child.stderr!.on('data', (d: Buffer) => { err += d.toString() })
  for (let i = 0; i < 50; i++) {
    await sleep(100)
    if (child.exitCode !== null) return { error: `mosquitto exited: ${err.slice(0, 400)}` }
    try { const c = await connectMqtt({ host: '127.0.0.1', port, clientId: 'bench-probe-conn' }, 1000); await c.endAsync(); break } catch { /* not yet */ }
  }
  return {
    port, child, version: bin,
    async stop() {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await new Promise((r) => child.once('exit', r))
    },
  }
}
