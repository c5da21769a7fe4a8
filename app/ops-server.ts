// A small HTTP endpoint for processes that run without the dashboard role (ingest, rules, alerting at
// scale): GET /api/health and GET /metrics, so every process can be probed and scraped.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Metrics } from '../core/runtime/metrics.js'
import { AppError } from '../core/runtime/errors.js'

export interface OpsServer { port: number; close(): Promise<void> }

export async function startOpsServer(opts: {
  host: string
  port: number
  metrics: Metrics
  health: () => { status: 'ok' | 'degraded'; checks: Record<string, { ok: boolean; detail?: string }> }
}): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method === 'GET' && path === '/api/health') {
      const h = opts.health()
      const strict = (req.url ?? '').includes('strict=1')
      res.writeHead(strict && h.status !== 'ok' ? 503 : 200, { 'content-type': 'application/json; charset=utf-8' })
      res.end(JSON.stringify(h))
      return
    }
    if (req.method === 'GET' && path === '/metrics') {
      opts.metrics.registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': opts.metrics.registry.contentType })
        res.end(text)
      }, () => { res.writeHead(500); res.end() })
      return
    }
    res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' })
    res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${path?.slice(0, 200)}` } }))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE'
        ? new AppError('PORT_IN_USE', `HTTP port ${opts.port} is already in use (set PORT or --port; 0 picks a free port)`, { cause: err })
        : err)
    })
    server.listen(opts.port, opts.host, () => resolve())
  })
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }),
  }
}
