// The web client in a real browser against the real process: login, the map drawn in the level colours
// (checked on screenshot pixels), a warning from an MQTT reading appearing live, acknowledged in one
// browser and seen changed in another, a viewer without action buttons, registry text shown as text,
// and not a single request leaving the machine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import mqtt from 'mqtt'
import type { Page } from 'playwright-core'
import { PASSWORDS, TOKENS } from '../../../test/fixture-registry.js'
import { decodePng, countPixels, looksLike } from './png.js'
import { resolve } from 'node:path'
import { login, newPage, skipReason, startEnv, stopEnv, waitMapDrawn, WEB_ROOT, type Env } from './harness.js'

const reason = skipReason()
/** Per-test budget: software WebGL on a busy 2-CPU machine is slow. */
const T = 150_000
const XSS_NAME = '<img src=x onerror=alert(1)>化工'

/** With YUJING_SCREENSHOTS=1, save the README screenshots (map with the desk; a warning's detail). */
async function shoot(viewer: Page, dutyPage: Page): Promise<void> {
  if (process.env.YUJING_SCREENSHOTS !== '1') return
  const docs = resolve(WEB_ROOT, '../../docs')
  await dutyPage.waitForTimeout(1500)
  await dutyPage.screenshot({ path: resolve(docs, 'dashboard-map.png'), timeout: 90_000 })
  await dutyPage.locator('#warning-list li.warn-row').first().click()
  await dutyPage.locator('#warning-history li').first().waitFor()
  await dutyPage.screenshot({ path: resolve(docs, 'warning-desk.png'), timeout: 90_000 })
  await dutyPage.keyboard.press('Escape')
  void viewer
}

async function mapPixels(page: Page) {
  // Let a couple more frames land, then read what is really on screen.
  await page.waitForTimeout(300)
  return decodePng(await page.locator('#map').screenshot({ timeout: 90_000 }))
}

describe.skipIf(reason !== null)(`dashboard web client in Chromium${reason ? ` (${reason})` : ''}`, () => {
  let env: Env
  let gw: mqtt.MqttClient
  let duty: Page
  let other: Page
  let warningId = ''

  beforeAll(async () => {
    env = await startEnv()
    gw = await mqtt.connectAsync(`mqtt://127.0.0.1:${env.proc.mqttPort}`, { username: 'gw-E1', password: TOKENS.E1, reconnectPeriod: 0 })
  }, 120_000)
  afterAll(async () => {
    await gw?.endAsync().catch(() => undefined)
    await stopEnv(env)
  }, T)

  it('logs in (Chinese by default) and draws the regions in their level colours', async () => {
    duty = (await newPage(env)).page
    await login(env, duty, 'duty', PASSWORDS.duty)
    expect(await duty.locator('html').getAttribute('lang')).toBe('zh-CN')
    expect(await duty.locator('.desk-title').textContent()).toBe('预警处置台')
    await waitMapDrawn(duty)
    const img = await mapPixels(duty)
    // Fixture: 甲市 holds a blue-profile coal mine, 乙市 a yellow-profile chemical plant.
    const blue = countPixels(img, looksLike.blue)
    const yellow = countPixels(img, looksLike.yellow)
    expect(blue, 'blue region pixels').toBeGreaterThan(5_000)
    expect(yellow, 'yellow region pixels').toBeGreaterThan(5_000)
    // switching to the county level keeps drawing (layers toggled by `visible`)
    await duty.click('.seg-btn[data-level="county"]')
    await duty.waitForFunction(() => ((window as unknown as { __yujingMapDrawCount?: number }).__yujingMapDrawCount ?? 0) > 2, undefined, { polling: 100, timeout: 30_000 })
    expect(countPixels(await mapPixels(duty), (r, g, b) => looksLike.blue(r, g, b) || looksLike.yellow(r, g, b))).toBeGreaterThan(2_000)
  }, T)

  it('shows a warning raised by an MQTT reading live, and counts it in the header', async () => {
    other = (await newPage(env)).page
    await login(env, other, 'admin', PASSWORDS.admin)
    await waitMapDrawn(other)
    await gw.publishAsync('sensors/E1/E1-CH4-01', JSON.stringify({ ts: new Date().toISOString(), value: 2.0, seq: 1 }), { qos: 1 })
    const row = duty.locator('#warning-list li.warn-row').first()
    await row.waitFor({ timeout: 15_000 })
    warningId = (await row.getAttribute('data-id')) ?? ''
    expect(warningId).not.toBe('')
    expect(await row.getAttribute('data-status')).toBe('open')
    expect(await row.locator('.wr-ent').textContent()).toBe('测试煤矿')
    await other.locator(`#warning-list li[data-id="${warningId}"]`).waitFor({ timeout: 15_000 })
    // header: an open red or orange warning counted within a few stats pushes
    await duty.waitForFunction(() => {
      const n = (k: string) => Number(document.querySelector(`[data-kpi="${k}"]`)?.textContent ?? '0')
      return n('warn-red') + n('warn-orange') >= 1
    }, undefined, { polling: 100, timeout: 10_000 })
  }, T)

  it('acknowledges from the list and the other browser sees the new status without reloading', async () => {
    const rowA = duty.locator(`#warning-list li[data-id="${warningId}"]`)
    await rowA.locator('button.act-ack').click()
    const t0 = Date.now()
    await other.locator(`#warning-list li[data-id="${warningId}"][data-status="acknowledged"]`).waitFor({ timeout: 5_000 })
    const elapsed = Date.now() - t0
    expect(elapsed).toBeLessThan(5_000)
    await duty.locator(`#warning-list li[data-id="${warningId}"][data-status="acknowledged"]`).waitFor({ timeout: 5_000 })
    // the detail view shows the history with the acknowledgement and who did it
    await other.locator(`#warning-list li[data-id="${warningId}"]`).click()
    await other.locator('#warning-history li.ev-acknowledged').waitFor({ timeout: 5_000 })
    expect(await other.locator('#warning-history li.ev-acknowledged .ev-by').textContent()).toBe('duty')
    await other.keyboard.press('Escape')
  }, T)

  it('closes with an outcome and a note from the detail view', async () => {
    await duty.locator(`#warning-list li[data-id="${warningId}"]`).click()
    await duty.locator('#warning-detail button.act-close').click()
    await duty.selectOption('#action-outcome', 'false_alarm')
    await duty.fill('#action-note', '现场核查为传感器标定误差')
    await duty.click('#action-submit')
    await duty.locator('#detail-status').filter({ hasText: '已关闭' }).waitFor({ timeout: 5_000 })
    expect(await duty.locator('#warning-history li.ev-closed .ev-note').textContent()).toBe('现场核查为传感器标定误差')
    await duty.keyboard.press('Escape')
    // gone from the not-closed list in the other browser
    await other.locator(`#warning-list li[data-id="${warningId}"]`).waitFor({ state: 'detached', timeout: 5_000 })
  }, T)

  it('gives a viewer no action buttons', async () => {
    // a new episode after the close: the danger persists, so a new warning is raised
    await gw.publishAsync('sensors/E1/E1-CH4-01', JSON.stringify({ ts: new Date().toISOString(), value: 2.5, seq: 2 }), { qos: 1 })
    const viewer = (await newPage(env)).page
    await login(env, viewer, 'viewer', PASSWORDS.viewer)
    const row = viewer.locator('#warning-list li.warn-row').first()
    await row.waitFor({ timeout: 30_000 })
    await shoot(viewer, duty)
    expect(await viewer.locator('#warning-desk button.act').count()).toBe(0)
    await row.click()
    await viewer.locator('#warning-detail').waitFor()
    expect(await viewer.locator('#warning-detail button.act').count()).toBe(0)
    // while the duty officer on the same warning has them
    const id = await row.getAttribute('data-id')
    await duty.locator(`#warning-list li[data-id="${id}"] button.act-ack`).waitFor({ timeout: 10_000 })
  }, T)

  it('renders registry text as text: a name that looks like markup stays characters', async () => {
    await duty.evaluate(() => (window as unknown as { __yujing: { ctx: { openEnterprise(id: string): void } } }).__yujing.ctx.openEnterprise('E2'))
    await duty.locator('#ent-name').waitFor({ timeout: 10_000 })
    expect(await duty.locator('#ent-name').textContent()).toBe(XSS_NAME)
    expect(await duty.locator('img[src="x"]').count()).toBe(0)
    await duty.click('#ent-close')
    expect(env.dialogs).toEqual([])
  }, T)

  it('made no request that left the machine and threw no page errors', () => {
    expect(env.blocked).toEqual([])
    expect(env.pageErrors).toEqual([])
  })
})
