// Ports for services a test starts as child processes (Mosquitto, VictoriaMetrics, a Kafka cluster).
// They are taken below the kernel's ephemeral range: inside it, the local end of any outgoing connection
// from the tests running beside can hold the port, also while a fault test has the service stopped and
// is about to start it again on the same port (CI once failed with "Address already in use" that way).
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'

const LOWEST = 20_000

function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    if (Number.isInteger(low) && low > LOWEST + 1000) return low
  } catch { /* not Linux: the IANA range */ }
  return 49_152
}

function bindable(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer()
    s.once('error', () => res(false))
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () => s.close(() => res(true)))
  })
}

/** A free port (or `span` consecutive free ports, from the one returned) below the ephemeral range. */
export async function freeStablePort(span = 1): Promise<number> {
  const high = ephemeralLow() - span
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = LOWEST + Math.floor(Math.random() * (high - LOWEST))
    let free = true
    for (let p = base; p < base + span && free; p++) free = await bindable(p)
    if (free) return base
  }
  throw new Error(`no ${span} free consecutive port(s) between ${LOWEST} and ${high + span}`)
}
