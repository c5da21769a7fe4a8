// Shared pieces of the fault tests: the skip-or-fail rule for missing services, a unique run name, the
// cleanup of a run's PostgreSQL schema and Kafka topics, and a log of measured figures per test file.
import { randomBytes } from 'node:crypto'
import { appendFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import kafkajs from 'kafkajs'

export const REQUIRED = process.env.CI === 'true' || process.env.YUJING_REQUIRE_SERVICES === '1'

/** The names among `needed` that are missing; throws instead under CI=true / YUJING_REQUIRE_SERVICES=1. */
export function missingServices(file: string, needed: Record<string, boolean>): string[] {
  const missing = Object.entries(needed).filter(([, ok]) => !ok).map(([k]) => k)
  if (missing.length && REQUIRED) throw new Error(`${file} needs ${missing.join(', ')} (CI=true / YUJING_REQUIRE_SERVICES=1)`)
  if (missing.length) console.warn(`skipping ${file}: ${missing.join(', ')} not available`)
  return missing
}

export function runName(): string {
  return `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  const db = new pg.Client({ connectionString: url })
  await db.connect()
  try { await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`) } finally { await db.end() }
}

export async function deleteTopics(brokers: string[], prefix: string): Promise<void> {
  const admin = new kafkajs.Kafka({ brokers, logLevel: kafkajs.logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(prefix))
    if (mine.length) await admin.deleteTopics({ topics: mine }).catch(() => undefined)
  } finally { await admin.disconnect() }
}

/** Measured figures, printed and appended (one JSON line per run) to $TMPDIR/yujing-fault-figures.jsonl. */
export function recordFigures(test: string, figures: Record<string, unknown>): void {
  const line = JSON.stringify({ test, at: new Date().toISOString(), ...figures })
  console.log(`fault figures: ${line}`)
  try {
    appendFileSync(join(tmpdir(), 'yujing-fault-figures.jsonl'), `${line}\n`)
  } catch { /* figures are informative only */ }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** The value of a Prometheus sample line `name{labels} value` (the sum when several label sets match). */
export function metricValue(text: string, name: string): number | undefined {
  let sum: number | undefined
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line)
    if (m && m[1] === name) sum = (sum ?? 0) + Number(m[3])
  }
  return sum
}
