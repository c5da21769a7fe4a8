// Browser test plumbing: builds the web client if dist/ is missing, starts the real yujing process on
// the fixture registry, launches Debian Chromium (software WebGL2) with every non-local request
// blocked and recorded, and logs operators in through the real login form.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { fixtureRegistry } from '../../../test/fixture-registry.js'
import { startProcess, type RunningProcess } from '../../../test/process-harness.js'

export const CHROMIUM = '/usr/bin/chromium'
export const WEB_ROOT = resolve(import.meta.dirname, '..')

export const CHROMIUM_ARGS = ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic']

/** Skip reason when the browser is absent outside CI; in CI a missing browser must fail. */
export function skipReason(): string | null {
  if (existsSync(CHROMIUM)) return null
  if (process.env.CI === 'true') return null
  return `browser tests skipped: ${CHROMIUM} is missing (apt-get install chromium fonts-wqy-microhei)`
}

export async function ensureBuilt(): Promise<void> {
  if (existsSync(join(WEB_ROOT, 'dist/index.html'))) return
  const vite = await import('vite')
  await vite.build({ configFile: join(WEB_ROOT, 'vite.config.ts'), logLevel: 'warn' })
}

export interface Env { proc: RunningProcess; base: string; browser: Browser; blocked: string[]; pageErrors: string[]; dialogs: string[] }

export async function startEnv(registry = fixtureRegistry()): Promise<Env> {
  await ensureBuilt()
  const dir = mkdtempSync(join(tmpdir(), 'yujing-web-e2e-'))
  const file = join(dir, 'registry.json')
  writeFileSync(file, JSON.stringify(registry))
  const proc = await startProcess(['--registry', file, '--data-dir', join(dir, 'data')])
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS })
  return { proc, base: `http://127.0.0.1:${proc.httpPort}`, browser, blocked: [], pageErrors: [], dialogs: [] }
}

export async function newPage(env: Env, viewport = { width: 1600, height: 900 }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await env.browser.newContext({ viewport, deviceScaleFactor: 1, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' })
  await context.route('**', (route) => {
    const url = route.request().url()
    let host = ''
    try { host = new URL(url).hostname } catch { /* data: etc. */ }
    if (host === '127.0.0.1' || url.startsWith('data:') || url.startsWith('blob:')) return route.continue()
    env.blocked.push(url)
    return route.abort('blockedbyclient')
  })
  const page = await context.newPage()
  page.on('pageerror', (e) => env.pageErrors.push(String(e)))
  page.on('dialog', (d) => { env.dialogs.push(d.message()); void d.dismiss() })
  return { context, page }
}

export async function login(env: Env, page: Page, username: string, password: string): Promise<void> {
  await page.goto(env.base + '/')
  await page.fill('#login-user', username)
  await page.fill('#login-pass', password)
  await page.click('#login-submit')
  await page.waitForSelector('#warning-desk', { timeout: 15_000 })
}

export async function waitMapDrawn(page: Page): Promise<void> {
  await page.waitForFunction(() => (window as unknown as { __yujingMapDrawn?: boolean }).__yujingMapDrawn === true, undefined, { polling: 100, timeout: 30_000 })
}

export async function stopEnv(env: Env | undefined): Promise<void> {
  if (!env) return
  await env.browser.close().catch(() => undefined)
  // Never leave the server behind: SIGTERM, then SIGKILL if it has not exited within 10 s.
  const stopped = await Promise.race([env.proc.stop().then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 10_000))])
  if (!stopped && env.proc.child.exitCode === null) env.proc.child.kill('SIGKILL')
}
