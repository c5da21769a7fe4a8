// Baseline (c): Node-RED 4 (installed on demand into ~/.cache/yujing-bench/node-red, not a project
// dependency) running MQTT in → JSON → switch on the threshold → counter, against our Mosquitto.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { freePort, sleep } from './util.js'

export interface NodeRed { port: number; child: ChildProcess; version: string; count(): Promise<number>; stop(): Promise<void> }

const PREFIX = join(homedir(), '.cache', 'yujing-bench', 'node-red')
const RED = join(PREFIX, 'node_modules', 'node-red', 'red.js')

function ensureInstalled(): string | null {
  if (existsSync(RED)) return null
  mkdirSync(PREFIX, { recursive: true })
  const r = spawnSync('npm', ['install', '--prefix', PREFIX, 'node-red@4', '--no-audit', '--no-fund'], { encoding: 'utf8', timeout: 300_000 })
  if (r.status !== 0 || !existsSync(RED)) return `npm install node-red@4 failed: ${(r.stderr || r.error?.message || '').slice(-300)}`
  return null
}

export async function startNodeRed(dir: string, mqttPort: number, threshold: number): Promise<NodeRed | { error: string }> {
  const installErr = ensureInstalled()
  if (installErr) return { error: installErr }
  const port = await freePort()
  const userDir = join(dir, 'node-red')
  mkdirSync(userDir, { recursive: true })
  const flowFile = join(userDir, 'flows.json')
  writeFileSync(flowFile, JSON.stringify([
    { id: 'tab1', type: 'tab', label: 'bench' },
    { id: 'broker1', type: 'mqtt-broker', name: 'mosquitto', broker: '127.0.0.1', port: String(mqttPort), clientid: 'bench-node-red', autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true },
    // One reading per message on sensors/{e}/{s}; a JSON array of readings on sensors/{e}, split into one
    // message per reading before the same threshold switch (the same readings yujing evaluates).
    { id: 'in1', type: 'mqtt in', z: 'tab1', name: '', topic: 'sensors/+/+', qos: '1', datatype: 'utf8', broker: 'broker1', nl: false, rap: true, rh: 0, inputs: 0, wires: [['json1']] },
    { id: 'json1', type: 'json', z: 'tab1', property: 'payload', action: 'obj', pretty: false, wires: [['sw1']] },
    { id: 'in2', type: 'mqtt in', z: 'tab1', name: '', topic: 'sensors/+', qos: '1', datatype: 'utf8', broker: 'broker1', nl: false, rap: true, rh: 0, inputs: 0, wires: [['json2']] },
    { id: 'json2', type: 'json', z: 'tab1', property: 'payload', action: 'obj', pretty: false, wires: [['split2']] },
    { id: 'split2', type: 'split', z: 'tab1', splt: '\\n', spltType: 'str', arraySplt: 1, arraySpltType: 'len', stream: false, addname: '', wires: [['sw1']] },
    { id: 'sw1', type: 'switch', z: 'tab1', property: 'payload.value', propertyType: 'msg', rules: [{ t: 'gte', v: String(threshold), vt: 'num' }, { t: 'else' }], checkall: 'false', repair: false, outputs: 2, wires: [['cross1'], ['norm1']] },
    { id: 'cross1', type: 'function', z: 'tab1', name: 'count crossing', func: "global.set('crossing', (global.get('crossing') || 0) + 1); return null;", outputs: 1, wires: [[]] },
    { id: 'norm1', type: 'function', z: 'tab1', name: 'count normal', func: "global.set('normal', (global.get('normal') || 0) + 1); return null;", outputs: 1, wires: [[]] },
    { id: 'hin1', type: 'http in', z: 'tab1', url: '/count', method: 'get', wires: [['hfn1']] },
    { id: 'hfn1', type: 'function', z: 'tab1', func: "msg.payload = { n: (global.get('crossing') || 0) + (global.get('normal') || 0) }; return msg;", outputs: 1, wires: [['hout1']] },
    { id: 'hout1', type: 'http response', z: 'tab1', statusCode: '', headers: {}, wires: [] },
  ]))
  const settings = join(userDir, 'settings.cjs')
  writeFileSync(settings, `module.exports = { uiPort: ${port}, uiHost: '127.0.0.1', flowFile: ${JSON.stringify(flowFile)}, userDir: ${JSON.stringify(userDir)}, credentialSecret: false, logging: { console: { level: 'warn', metrics: false, audit: false } }, editorTheme: { tours: false }, diagnostics: { enabled: false }, telemetry: { enabled: false } }\n`)
  const child = spawn(process.execPath, [RED, '--settings', settings, '--userDir', userDir], { stdio: ['ignore', 'pipe', 'pipe'], cwd: userDir })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => { if (out.length < 20_000) out += d.toString() })
  child.stderr!.on('data', (d: Buffer) => { if (out.length < 20_000) out += d.toString() })
  const count = async (): Promise<number> => {
    const r = await fetch(`http://127.0.0.1:${port}/count`)
    return ((await r.json()) as { n: number }).n
  }
  for (let i = 0; i < 300; i++) {
    await sleep(100)
    if (child.exitCode !== null) return { error: `node-red exited: ${out.slice(-400)}` }
    try { await count(); break } catch { if (i === 299) return { error: `node-red did not answer: ${out.slice(-400)}` } }
  }
  let version = 'node-red@4'
  try { version = `node-red@${(JSON.parse((await import('node:fs')).readFileSync(join(PREFIX, 'node_modules', 'node-red', 'package.json'), 'utf8')) as { version: string }).version}` } catch { /* keep */ }
  return {
    port, child, version, count,
    async stop() {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await new Promise((r) => child.once('exit', r))
      clearTimeout(t)
    },
  }
}
