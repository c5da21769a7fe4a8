// mqtt-packet gets no-op debug loggers unless DEBUG enables them (allocation on every packet otherwise).
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import './quiet-debug.js'
import { quietMqttPacketDebug } from './quiet-debug.js'

const require = createRequire(import.meta.url)
const debugOfMqttPacket = (): (ns: string) => ((...a: unknown[]) => void) & { enabled: boolean } =>
  require(require.resolve('debug', { paths: [dirname(require.resolve('mqtt-packet'))] }))

describe('quiet debug loggers for mqtt-packet', () => {
  it('hands mqtt-packet a no-op logger for a namespace DEBUG does not enable', () => {
    expect(quietMqttPacketDebug()).not.toBe('not-found')
    const d = debugOfMqttPacket()('mqtt-packet:parser')
    expect(d.enabled).toBe(false)
    expect('useColors' in d).toBe(false) // not the real logger (which has one)
    expect(d('parse %s', 'x')).toBeUndefined()
    // the real one is still reachable for enabled namespaces
    const packet = require('mqtt-packet') as { parser(): { on(e: string, f: (p: { cmd: string }) => void): void; parse(b: Buffer): number }; generate(p: object): Buffer }
    const got: string[] = []
    const parser = packet.parser()
    parser.on('packet', (p) => got.push(p.cmd))
    parser.parse(packet.generate({ cmd: 'publish', topic: 'sensors/E1/S1', payload: Buffer.from('{}'), qos: 0, retain: false, dup: false }))
    expect(got).toEqual(['publish'])
  })

  it('is installed before mqtt-packet loads when yujing starts from its CLI', () => {
    const here = dirname(fileURLToPath(import.meta.url))
    const script = `
      import(${JSON.stringify(resolve(here, '../dist/app/cli.js'))}).then(async () => {
        await import(${JSON.stringify(resolve(here, '../dist/ingest/embedded-broker.js'))})
        const q = await import(${JSON.stringify(resolve(here, '../dist/ingest/quiet-debug.js'))})
        console.log('state', q.quietMqttPacketDebug())
      })`
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
    expect(r.stdout.trim()).toBe('state installed')
  })

  it('keeps the real logger when DEBUG enables it: packets are still traced', () => {
    const here = dirname(fileURLToPath(import.meta.url))
    const script = `
      import(${JSON.stringify(resolve(here, '../dist/ingest/quiet-debug.js'))}).then(async () => {
        const { createRequire } = await import('node:module')
        const require = createRequire(${JSON.stringify(resolve(here, '../package.json'))})
        const packet = require('mqtt-packet')
        packet.parser().parse(packet.generate({ cmd: 'pingreq' }))
      })`
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, DEBUG: 'mqtt-packet:parser', DEBUG_COLORS: '0' }, encoding: 'utf8' })
    expect(r.status).toBe(0)
    expect(r.stderr).toMatch(/mqtt-packet:parser parse/)
  })
})
