// Tiny DOM builder. Every string child becomes a Text node and attributes are set one by one, so data
// from the registry or the network is always text, never markup (no innerHTML anywhere).
type Child = Node | string | number | null | undefined | false
export interface Attrs {
  class?: string
  title?: string
  id?: string
  type?: string
  value?: string
  placeholder?: string
  disabled?: boolean
  checked?: boolean
  name?: string
  autocomplete?: string
  for?: string
  role?: string
  data?: Record<string, string>
  style?: Partial<Record<string, string>>
  on?: Partial<{ [K in keyof HTMLElementEventMap]: (ev: HTMLElementEventMap[K]) => void }>
  aria?: Record<string, string>
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs | null = null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  if (attrs) {
    if (attrs.class) el.className = attrs.class
    if (attrs.title !== undefined) el.title = attrs.title
    if (attrs.id) el.id = attrs.id
    if (attrs.role) el.setAttribute('role', attrs.role)
    if (attrs.type !== undefined) el.setAttribute('type', attrs.type)
    if (attrs.name !== undefined) el.setAttribute('name', attrs.name)
    if (attrs.placeholder !== undefined) el.setAttribute('placeholder', attrs.placeholder)
    if (attrs.autocomplete !== undefined) el.setAttribute('autocomplete', attrs.autocomplete)
    if (attrs.for !== undefined) el.setAttribute('for', attrs.for)
    if (attrs.value !== undefined) (el as unknown as HTMLInputElement).value = attrs.value
    if (attrs.disabled) (el as unknown as HTMLButtonElement).disabled = true
    if (attrs.checked) (el as unknown as HTMLInputElement).checked = true
    if (attrs.data) for (const [k, v] of Object.entries(attrs.data)) el.dataset[k] = v
    if (attrs.aria) for (const [k, v] of Object.entries(attrs.aria)) el.setAttribute(`aria-${k}`, v)
    if (attrs.style) for (const [k, v] of Object.entries(attrs.style)) if (v !== undefined) el.style.setProperty(k, v)
    if (attrs.on) for (const [k, f] of Object.entries(attrs.on)) el.addEventListener(k, f as EventListener)
  }
  for (const c of children) append(el, c)
  return el
}

export function append(parent: Node, c: Child): void {
  if (c === null || c === undefined || c === false) return
  parent.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c)
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild)
}

export function replaceChildren(el: Element, ...children: Child[]): void {
  clear(el)
  for (const c of children) append(el, c)
}

/** A level chip: colour swatch plus a text label (colour is never the only cue). */
export function chip(color: string, label: string, extraClass = ''): HTMLSpanElement {
  return h('span', { class: `chip lv-${color} ${extraClass}`.trim() }, label)
}
