// Tiny HTTP and socket.io clients for end-to-end tests against a running yujing.
import { io, type Socket } from 'socket.io-client'
import type { Warning } from '../core/contracts/warning.js'

export class Api {
  constructor(readonly base: string, public token = '') {}
  static async login(base: string, username: string, password: string): Promise<Api> {
    const res = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) })
    if (res.status !== 200) throw new Error(`login ${username}: ${res.status} ${await res.text()}`)
    const body = (await res.json()) as { token: string }
    return new Api(base, body.token)
  }
  async req(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    })
    const text = await res.text()
    let parsed: unknown = text
    try { parsed = JSON.parse(text) } catch { /* text */ }
    return { status: res.status, body: parsed }
  }
  get(path: string) { return this.req('GET', path) }
  post(path: string, body: unknown = {}) { return this.req('POST', path, body) }
}

export function connectSocket(base: string, token: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = io(base, { auth: { token }, transports: ['websocket'], reconnection: false })
    s.once('connect', () => resolve(s))
    s.once('connect_error', (e) => reject(e))
  })
}

/** Collects `warning` events; `waitFor` resolves with the first (past or future) one matching. */
export function warningCollector(s: Socket) {
  const seen: Warning[] = []
  const waiters: { pred: (w: Warning) => boolean; resolve: (w: Warning) => void }[] = []
  s.on('warning', (w: Warning) => {
    seen.push(w)
    for (const x of [...waiters]) if (x.pred(w)) { waiters.splice(waiters.indexOf(x), 1); x.resolve(w) }
  })
  return {
    seen,
    waitFor(pred: (w: Warning) => boolean, timeoutMs = 10_000): Promise<Warning> {
      const hit = seen.find(pred)
      if (hit) return Promise.resolve(hit)
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no matching warning within ${timeoutMs} ms; saw ${seen.length}: ${JSON.stringify(seen.map((w) => [w.ruleId, w.level, w.status]))}`)), timeoutMs)
        waiters.push({ pred, resolve: (w) => { clearTimeout(t); resolve(w) } })
      })
    },
  }
}

export async function eventually<T>(fn: () => Promise<T | undefined | false>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < end) {
    try { const v = await fn(); if (v) return v } catch (e) { last = e }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${what} not reached within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`)
}
