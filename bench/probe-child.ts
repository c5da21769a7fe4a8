// The latency prober's process (forked by createProber in latency.ts): a socket.io client and an MQTT
// probe publisher and nothing else, so its own pauses stay short.
import { createProberHere, type FromProbe, type Prober, type ToProbe } from './latency.js'

let prober: Prober | undefined
const send = (m: FromProbe): void => { process.send?.(m) }

process.on('message', (raw) => {
  const m = raw as ToProbe
  const fail = (err: unknown): void => send({ type: 'error', message: (err as Error).message })
  if (m.type === 'init') createProberHere(m.options).then((p) => { prober = p; send({ type: 'ready' }) }, fail)
  else if (m.type === 'start') prober?.start(m.intervalMs)
  else if (m.type === 'stop') {
    if (!prober) { fail(new Error('not started')); return }
    const p = prober
    p.stop(m.waitMs).then((result) => send({ type: 'stopped', result, published: p.published() }), fail)
  } else if (m.type === 'close') {
    void (prober?.close() ?? Promise.resolve()).finally(() => process.exit(0))
  }
})
process.on('disconnect', () => process.exit(0))
