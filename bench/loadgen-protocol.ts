// Messages between the bench orchestrator and the load generator child process (IPC), and the
// generator's result; shared so both sides typecheck against the same shapes.
import type { BenchGateway } from './registry.js'

export interface Segment { /** Readings per second; 0 = flood (as fast as the in-flight window allows). */ rate: number; durationMs: number }

export interface PhaseSpec {
  segments: Segment[]
  /** Readings per MQTT message: 1 = single-reading topics, >1 = batches on sensors/{enterprise}. */
  batch: number
  qos: 0 | 1
  /** Readings awaiting PUBACK (QoS 1) or socket write (QoS 0) across all connections. */
  windowReadings: number
  /** Wait this long for outstanding PUBACKs after the last segment. */
  settleMs: number
}

export type ToGenerator =
  | { type: 'init'; host: string; port: number; gateways: BenchGateway[]; clientPrefix: string; auth: boolean }
  | { type: 'run'; phase: PhaseSpec }
  | { type: 'close' }

export interface GeneratorStats {
  /** Readings handed to the MQTT client. */
  published: number
  /** Readings acknowledged (QoS 1: PUBACK; QoS 0: written to the socket). */
  acked: number
  messages: number
  errors: number
  /** Readings the schedule wanted but the window did not allow (more than 1 s behind). */
  skipped: number
  /** Readings of the controlled share that cross a threshold. */
  crossing: number
  startedAt: number
  endedAt: number
  /** Generator CPU time (user + system) during the phase, ms. */
  cpuMs: number
  firstError?: string
}

export type FromGenerator =
  | { type: 'ready'; connected: number; failed: number; connectMs: number; firstError?: string }
  | { type: 'done'; stats: GeneratorStats }
  | { type: 'error'; message: string }
