// The bus topic table: the only place a topic name is written (contracts.md §6). `key` is the
// partition key; messages with the same key keep their order.
import Type, { type Static, type TSchema } from 'typebox'
import { IngestHeartbeat, ReadingBatch, Rejection } from './reading.js'
import { Finding } from './finding.js'
import { Warning } from './warning.js'
import { RiskState } from './risk.js'
import { CommandResult, WarningCommand } from './command.js'

export interface Topic<S extends TSchema = TSchema> {
  /** Name without the configurable prefix (default prefix "yujing."). */
  readonly name: string
  readonly schema: S
  readonly key: (msg: Static<S>) => string
}

function defineTopic<S extends TSchema>(name: string, schema: S, key: (m: Static<S>) => string): Topic<S> {
  return { name, schema, key }
}

export const RegistryChanged = Type.Object({ version: Type.Integer(), at: Type.Number(), by: Type.String() })
export type RegistryChanged = Static<typeof RegistryChanged>

export const topics = {
  readings: defineTopic('readings', ReadingBatch, (m) => m.enterpriseId),
  readingsDlq: defineTopic('readings.dlq', Rejection, (m) => m.enterpriseId ?? m.gatewayId ?? 'unknown'),
  heartbeats: defineTopic('ingest.heartbeats', IngestHeartbeat, (m) => m.instance),
  findings: defineTopic('findings', Finding, (m) => m.enterpriseId),
  risk: defineTopic('risk', RiskState, (m) => m.id),
  warnings: defineTopic('warnings', Warning, (m) => m.id),
  commands: defineTopic('commands', WarningCommand, (m) => m.warningId),
  commandResults: defineTopic('commands.results', CommandResult, (m) => m.commandId),
  registryChanged: defineTopic('registry.changed', RegistryChanged, () => 'registry'),
} as const

export type TopicName = keyof typeof topics
