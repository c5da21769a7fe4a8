import { describe, expect, it } from 'vitest'
import { loadConfig } from './load-config.js'

describe('Kafka settings from the environment', () => {
  const base = { KAFKA_BROKERS: '10.0.0.1:9092, 10.0.0.2:9092' }

  it('reads the brokers, the session timeout and the commit interval', () => {
    const c = loadConfig({}, { ...base, KAFKA_SESSION_TIMEOUT_MS: '12000', KAFKA_COMMIT_INTERVAL_MS: '250' })
    expect(c.bus).toMatchObject({ kind: 'kafka', brokers: ['10.0.0.1:9092', '10.0.0.2:9092'], sessionTimeoutMs: 12000, commitIntervalMs: 250 })
  })

  it('leaves the commit interval to the bus default when unset', () => {
    const c = loadConfig({}, base)
    expect(c.bus.kind).toBe('kafka')
    expect('commitIntervalMs' in c.bus).toBe(false)
  })

  it('refuses a commit interval that is not a number or out of range, naming the setting', () => {
    expect(() => loadConfig({}, { ...base, KAFKA_COMMIT_INTERVAL_MS: 'soon' })).toThrow('KAFKA_COMMIT_INTERVAL_MS="soon" is not a number')
    expect(() => loadConfig({}, { ...base, KAFKA_COMMIT_INTERVAL_MS: '0' })).toThrow(/commitIntervalMs/)
  })
})
