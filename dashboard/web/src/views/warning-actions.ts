// Acknowledge / dispose / close a warning (POST /api/warnings/:id/ack|dispose|close) with a note and,
// for close, an outcome; the response (the updated warning) goes straight into the store.
import { h } from '../dom.js'
import { t } from '../i18n.js'
import { OUTCOMES, type Warning } from '../../../../core/contracts/warning.js'
import type { Ctx } from '../context.js'

export type ActionKind = 'ack' | 'dispose' | 'close'

export function allowedActions(w: Warning): ActionKind[] {
  if (w.status === 'closed') return []
  if (w.status === 'open') return ['ack', 'dispose', 'close']
  if (w.status === 'acknowledged') return ['dispose', 'close']
  return ['close']
}

export async function runAction(ctx: Ctx, w: Warning, kind: ActionKind, body: { note?: string; outcome?: string }): Promise<void> {
  const res = await ctx.api.post<Warning>(`/api/warnings/${encodeURIComponent(w.id)}/${kind}`, body)
  if (res && typeof res === 'object' && res.id === w.id) {
    ctx.warnings.upsert(res)
    ctx.emit('warnings')
  }
}

/** Buttons for a row or the detail view; empty for viewers. `ack` is one click; the others ask for a note. */
export function actionButtons(ctx: Ctx, w: Warning, onError: (msg: string) => void): HTMLElement | null {
  if (!ctx.canAct()) return null
  const acts = allowedActions(w)
  if (!acts.length) return null
  const label: Record<ActionKind, string> = { ack: t('desk.ack'), dispose: t('desk.dispose'), close: t('desk.close') }
  return h('div', { class: 'actions' }, ...acts.map((k) => h('button', {
    class: `btn act act-${k}`, data: { action: k, id: w.id },
    on: {
      click: (ev) => {
        ev.stopPropagation()
        const btn = ev.currentTarget as HTMLButtonElement
        if (k === 'ack') {
          btn.disabled = true
          runAction(ctx, w, 'ack', {}).catch((e: unknown) => { btn.disabled = false; onError(`${t('desk.actionFailed')}: ${e instanceof Error ? e.message : String(e)}`) })
        } else openActionDialog(ctx, w, k, onError)
      },
    },
  }, label[k])))
}

export function openActionDialog(ctx: Ctx, w: Warning, kind: Exclude<ActionKind, 'ack'>, onError: (msg: string) => void): void {
  const note = h('textarea', { class: 'note', id: 'action-note', placeholder: t('desk.note') })
  const outcome = h('select', { class: 'sel', id: 'action-outcome' }, ...OUTCOMES.map((o) => h('option', { value: o }, t(`outcome.${o}`))))
  const err = h('div', { class: 'dialog-error', role: 'alert' })
  const submit = h('button', { class: 'btn primary', id: 'action-submit', type: 'submit' }, t('desk.submit'))
  const close = (): void => { overlay.remove(); document.removeEventListener('keydown', onKey) }
  const onKey = (e: KeyboardEvent): void => { if (e.key === 'Escape') close() }
  const form = h('form', {
    class: 'dialog',
    on: {
      submit: (ev) => {
        ev.preventDefault()
        submit.disabled = true
        const body = kind === 'close' ? { outcome: outcome.value, note: note.value } : { note: note.value }
        runAction(ctx, w, kind, body).then(close, (e: unknown) => {
          submit.disabled = false
          const msg = `${t('desk.actionFailed')}: ${e instanceof Error ? e.message : String(e)}`
          err.textContent = msg
          onError(msg)
        })
      },
    },
  },
  h('h3', null, `${kind === 'close' ? t('desk.close') : t('desk.dispose')} · ${w.title}`),
  kind === 'close' ? h('label', null, t('desk.outcome'), outcome) : null,
  h('label', null, t('desk.note'), note),
  err,
  h('div', { class: 'dialog-buttons' }, h('button', { class: 'btn', type: 'button', on: { click: close } }, t('desk.cancel')), submit))
  const overlay = h('div', { class: 'overlay dialog-overlay', on: { click: (e) => { if (e.target === overlay) close() } } }, form)
  document.body.appendChild(overlay)
  document.addEventListener('keydown', onKey)
  note.focus()
}
