#!/usr/bin/env node
// Health probe for a yujing container of any role; exit 0 = healthy, 1 = not (reason on stderr).
// With the dashboard role it asks this process's GET /api/health (`--ready`: ?strict=1, 503 when degraded).
// Ingest/rules/alerting serve no HTTP: every process joins its own Kafka consumer group
// `<prefix>registry-<instance>.registry.changed` at start, so the probe asks Kafka whether that group
// still has a live member — a dead process or a blocked event loop stops heartbeating and drops out.
const env = process.env
const ready = process.argv.includes('--ready')
const roles = (env.YUJING_ROLES ?? 'ingest,rules,alerting,dashboard').split(',').map((r) => r.trim())
const deadline = setTimeout(() => fail('probe timed out'), 9000)

function fail(reason) {
  console.error(`probe: ${reason}`)
  process.exit(1)
}

function ok(detail) {
  clearTimeout(deadline)
  console.log(`probe: ${detail}`)
  process.exit(0)
}

async function httpProbe() {
  const url = `http://127.0.0.1:${env.PORT || 8080}/api/health${ready ? '?strict=1' : ''}`
  let res
  try { res = await fetch(url, { signal: AbortSignal.timeout(5000) }) } catch (err) { return fail(`${url}: ${err.message}`) }
  if (!res.ok) return fail(`${url} answered ${res.status}`)
  ok(`${url} answered ${res.status}`)
}

async function kafkaProbe() {
  const brokers = env.KAFKA_BROKERS.split(',').map((b) => b.trim()).filter(Boolean)
  const prefix = env.KAFKA_TOPIC_PREFIX ?? 'yujing.'
  const instance = env.YUJING_INSTANCE || 'yujing-1'
  const groupId = `${prefix}registry-${instance}.registry.changed`
  const { Kafka, logLevel } = (await import('kafkajs')).default
  const admin = new Kafka({ clientId: `yujing-probe-${instance}`, brokers, logLevel: logLevel.NOTHING, connectionTimeout: 3000, requestTimeout: 5000, retry: { retries: 1 } }).admin()
  let group
  try {
    await admin.connect()
    group = (await admin.describeGroups([groupId])).groups[0]
  } catch (err) {
    return fail(`kafka ${brokers.join(',')}: ${err.message}`)
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
  const members = group?.members.length ?? 0
  if (!group || members === 0 || group.state === 'Dead' || group.state === 'Empty') return fail(`consumer group ${groupId} has no live member (state ${group?.state ?? 'unknown'})`)
  ok(`consumer group ${groupId} ${group.state}, ${members} member(s)`)
}

if (roles.includes('dashboard')) await httpProbe()
else if (env.KAFKA_BROKERS) await kafkaProbe()
else ok(`roles ${roles.join(',')} without the dashboard or Kafka: nothing to probe`)
