// Time is injected so rules, escalation and simulators test deterministically.
export interface Clock {
  now(): number
  setTimeout(fn: () => void, ms: number): TimerHandle
  setInterval(fn: () => void, ms: number): TimerHandle
  clear(handle: TimerHandle): void
}
export interface TimerHandle { readonly id: number }

export function systemClock(): Clock {
  const timers = new Map<number, NodeJS.Timeout>()
  let next = 1
  return {
    now: () => Date.now(),
    setTimeout(fn, ms) {
      const id = next++
      const t = setTimeout(() => { timers.delete(id); fn() }, ms)
      t.unref?.()
      timers.set(id, t)
      return { id }
    },
    setInterval(fn, ms) {
      const id = next++
      const t = setInterval(fn, ms)
      t.unref?.()
      timers.set(id, t)
      return { id }
    },
    clear(h) {
      const t = timers.get(h.id)
      if (t) { clearTimeout(t); clearInterval(t); timers.delete(h.id) }
    },
  }
}

/** A clock moved by hand: `advance(ms)` runs due timers in time order. */
export interface FakeClock extends Clock {
  advance(ms: number): void
  set(ms: number): void
}

export function fakeClock(start = Date.parse('2026-11-28T00:00:00.000Z')): FakeClock {
  let now = start
  let next = 1
  const timers = new Map<number, { at: number; every: number | null; fn: () => void }>()
  const clock: FakeClock = {
    now: () => now,
    setTimeout(fn, ms) { const id = next++; timers.set(id, { at: now + Math.max(0, ms), every: null, fn }); return { id } },
    setInterval(fn, ms) { const id = next++; timers.set(id, { at: now + Math.max(1, ms), every: Math.max(1, ms), fn }); return { id } },
    clear(h) { timers.delete(h.id) },
    advance(ms) {
      const end = now + ms
      for (;;) {
        let dueId = -1
        let dueAt = Infinity
        for (const [id, t] of timers) if (t.at <= end && t.at < dueAt) { dueAt = t.at; dueId = id }
        if (dueId < 0) break
        const t = timers.get(dueId)!
        now = t.at
        if (t.every === null) timers.delete(dueId)
        else t.at += t.every
        t.fn()
      }
      now = end
    },
    set(ms) { clock.advance(ms - now) },
  }
  return clock
}
