import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { describe, expect, it } from 'vitest'
import { freeStablePort } from './ports.js'

const ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])

function listen(port: number): Promise<Server> {
  return new Promise((res, rej) => { const s = createServer(); s.once('error', rej); s.listen(port, '127.0.0.1', () => res(s)) })
}

describe('freeStablePort', () => {
  it('gives consecutive ports below the ephemeral range that a service can then bind', async () => {
    for (let i = 0; i < 20; i++) {
      const base = await freeStablePort(13)
      expect(base).toBeGreaterThanOrEqual(20_000)
      expect(base + 12).toBeLessThan(ephemeralLow)
      const servers = await Promise.all(Array.from({ length: 13 }, (_, k) => listen(base + k)))
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))
    }
  })

})
