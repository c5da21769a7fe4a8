// Tallied counters: counts added to plain numbers per message show up, once, whenever the counter is read.
import { describe, expect, it } from 'vitest'
import { createMetrics } from './metrics.js'

describe('tallied counters', () => {
  it('fold their tallies into /metrics and get(), once, next to direct inc()', async () => {
    const m = createMetrics({ defaults: false })
    const accepted = m.readingsAccepted.tally()
    const single = m.mqttMessages.tally('single')
    const batch = m.mqttMessages.tally('batch')
    accepted.inc(100); accepted.inc(); single.inc(); single.inc(); batch.inc()
    m.readingsAccepted.inc(5) // a direct inc adds to the same series
    const text = await m.registry.metrics()
    expect(text).toMatch(/^yujing_readings_accepted_total 106$/m)
    expect(text).toMatch(/^yujing_mqtt_messages_total\{kind="single"\} 2$/m)
    expect(text).toMatch(/^yujing_mqtt_messages_total\{kind="batch"\} 1$/m)
    expect(await m.registry.metrics()).toMatch(/^yujing_readings_accepted_total 106$/m) // not counted twice
    accepted.inc(4)
    expect((await m.readingsAccepted.get()).values[0]?.value).toBe(110)
    expect(() => accepted.inc(-1)).toThrow(/cannot decrease/)
  })

  it('per gateway when asked: one series per tally label', async () => {
    const m = createMetrics({ defaults: false, perGateway: true })
    m.readingsReceived.tally('gw-1').inc(3)
    m.readingsReceived.tally('gw-2').inc(1)
    const text = await m.registry.metrics()
    expect(text).toMatch(/^yujing_readings_received_total\{gateway="gw-1"\} 3$/m)
    expect(text).toMatch(/^yujing_readings_received_total\{gateway="gw-2"\} 1$/m)
  })
})
