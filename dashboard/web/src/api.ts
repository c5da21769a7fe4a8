// HTTP client for the dashboard API (contracts.md §4): bearer token, JSON in and out, errors become
// ApiRequestError with status and code; a 401 on an authenticated call fires `onUnauthorized`.
export class ApiRequestError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) { super(message) }
}

export type Query = Record<string, string | number | undefined | null>

export class ApiClient {
  token = ''
  onUnauthorized: (() => void) | null = null
  constructor(readonly base = '') {}

  private url(path: string, q?: Query): string {
    const params = new URLSearchParams()
    if (q) for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v))
    const s = params.toString()
    return `${this.base}${path}${s ? `?${s}` : ''}`
  }

  async request<T>(method: string, path: string, body?: unknown, q?: Query): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (this.token) headers.authorization = `Bearer ${this.token}`
    if (body !== undefined) headers['content-type'] = 'application/json'
    let res: Response
    try {
      res = await fetch(this.url(path, q), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
    } catch (e) {
      throw new ApiRequestError(0, 'network', e instanceof Error ? e.message : String(e))
    }
    const text = await res.text()
    let parsed: unknown = undefined
    try { parsed = text ? JSON.parse(text) : undefined } catch { parsed = text }
    if (!res.ok) {
      const err = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error
      if (res.status === 401 && this.token && path !== '/api/login') this.onUnauthorized?.()
      throw new ApiRequestError(res.status, err?.code ?? `http_${res.status}`, err?.message ?? `${method} ${path}: ${res.status}`)
    }
    return parsed as T
  }

  get<T>(path: string, q?: Query): Promise<T> { return this.request<T>('GET', path, undefined, q) }
  post<T>(path: string, body: unknown = {}): Promise<T> { return this.request<T>('POST', path, body) }
}
