// Login screen: username + password → POST /api/login; Chinese by default with a language switch.
import { h, replaceChildren } from '../dom.js'
import { t, lang, setLang } from '../i18n.js'
import { ApiRequestError, type ApiClient } from '../api.js'
import type { SessionUser } from '../context.js'

export function renderLogin(root: HTMLElement, api: ApiClient, onDone: (token: string, user: SessionUser) => void, notice?: string): void {
  const draw = (msg?: string): void => {
    const user = h('input', { id: 'login-user', name: 'username', autocomplete: 'username', placeholder: t('login.user') })
    const pass = h('input', { id: 'login-pass', name: 'password', type: 'password', autocomplete: 'current-password', placeholder: t('login.password') })
    const err = h('div', { class: 'login-error', role: 'alert' }, msg ?? '')
    const submit = h('button', { type: 'submit', class: 'btn primary big', id: 'login-submit' }, t('login.submit'))
    const form = h('form', {
      class: 'login-card',
      on: {
        submit: (ev) => {
          ev.preventDefault()
          submit.disabled = true
          err.textContent = ''
          api.post<{ token: string; user: SessionUser }>('/api/login', { username: user.value.trim(), password: pass.value })
            .then((r) => onDone(r.token, r.user))
            .catch((e: unknown) => {
              submit.disabled = false
              err.textContent = e instanceof ApiRequestError && e.status === 429 ? t('login.tooMany') : `${t('login.failed')}${e instanceof ApiRequestError && e.status !== 401 ? ` (${e.message})` : ''}`
            })
        },
      },
    },
    h('div', { class: 'login-brand' }, h('span', { class: 'brand-mark' }, '预'), h('div', null, h('div', { class: 'login-app' }, t('app.title')), h('div', { class: 'login-sub' }, t('login.title')))),
    h('label', { for: 'login-user' }, t('login.user')), user,
    h('label', { for: 'login-pass' }, t('login.password')), pass,
    submit, err,
    h('button', { type: 'button', class: 'btn link', id: 'login-lang', on: { click: () => { setLang(lang() === 'zh' ? 'en' : 'zh'); draw() } } }, t('hdr.lang')))
    replaceChildren(root, h('div', { class: 'login-screen' }, form))
    user.focus()
  }
  draw(notice)
}
