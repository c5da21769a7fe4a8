// mqtt-packet (the MQTT codec under aedes and MQTT.js) calls its `debug` loggers several times for
// every packet it parses or writes. Disabled, such a call still allocates its rest-argument array and
// reads a getter: 11 % of everything yujing allocated in a single-reading flood, for no output. Before
// mqtt-packet loads, this hands it a no-op logger for every namespace that DEBUG does not enable (one
// that DEBUG enables gets the real logger, so `DEBUG=mqtt-packet:* npm start` still traces packets).
// Every package resolving the same `debug` module (engine.io and socket.io here) gets the same, once it
// loads after this. Imported first by the CLI and the embedded broker: it must run before mqtt-packet is required.
import { createRequire } from 'node:module'
import { dirname } from 'node:path'

type DebugFactory = ((namespace: string) => DebugLogger) & { [QUIET]?: true }
interface DebugLogger { (...args: unknown[]): void; enabled: boolean; namespace: string; extend(ns: string, delimiter?: string): DebugLogger }

const QUIET = Symbol.for('yujing.quietDebug')
const require = createRequire(import.meta.url)

/** The `debug` module file mqtt-packet resolves, or undefined when it cannot be found. */
function debugPathOfMqttPacket(): string | undefined {
  try {
    const packet = require.resolve('mqtt-packet')
    return require.resolve('debug', { paths: [dirname(packet)] })
  } catch {
    return undefined
  }
}

/** What the first installation found: `installed` before mqtt-packet loaded (it gets the quiet
 *  loggers), `too-late` when mqtt-packet had already loaded (it keeps the real ones: an import-order
 *  mistake), `not-found` when mqtt-packet or debug is not installed. */
export type QuietDebugState = 'installed' | 'too-late' | 'not-found'
let state: QuietDebugState | undefined

/** Installs the no-op loggers once; returns what it found (see QuietDebugState). */
export function quietMqttPacketDebug(): QuietDebugState {
  if (state) return state
  const path = debugPathOfMqttPacket()
  if (!path) return (state = 'not-found')
  const real = require(path) as DebugFactory
  const entry = require.cache[path]
  if (!entry) return (state = 'not-found')
  const packetLoaded = Object.keys(require.cache).some((f) => /[\\/]mqtt-packet[\\/]parser\.js$/.test(f))
  const quiet: DebugFactory = Object.assign((namespace: string): DebugLogger => {
    const logger = real(namespace)
    if (logger.enabled) return logger
    const off = ((): void => undefined) as unknown as DebugLogger
    off.enabled = false
    off.namespace = namespace
    off.extend = (ns: string, delimiter = ':') => quiet(`${namespace}${delimiter}${ns}`)
    return off
  }, real, { [QUIET]: true as const })
  entry.exports = quiet
  return (state = packetLoaded ? 'too-late' : 'installed')
}

quietMqttPacketDebug()
