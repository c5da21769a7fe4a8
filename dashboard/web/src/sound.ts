// Alarm tones with Web Audio: enabled only from a user gesture (browser autoplay rules), mutable.
// Red: three high beeps; orange: two lower ones.
import type { Color } from '../../../core/contracts/levels.js'

export class AlarmSound {
  private ctx: AudioContext | null = null
  muted = false
  get enabled(): boolean { return this.ctx !== null }

  /** Call from a click handler. */
  enable(): void {
    if (!this.ctx) {
      const Ctor = window.AudioContext ?? (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext
      if (!Ctor) return
      this.ctx = new Ctor()
    }
    void this.ctx.resume()
    this.muted = false
  }

  play(color: Color): void {
    const ctx = this.ctx
    if (!ctx || this.muted) return
    const [freq, count] = color === 'red' ? [1046, 3] : color === 'orange' ? [784, 2] : [523, 1]
    const t0 = ctx.currentTime + 0.01
    for (let i = 0; i < count; i++) {
      const osc = ctx.createOscillator()
      const gain = ctx.createGain()
      osc.type = 'square'
      osc.frequency.value = freq
      const start = t0 + i * 0.28
      gain.gain.setValueAtTime(0.0001, start)
      gain.gain.exponentialRampToValueAtTime(0.25, start + 0.02)
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.2)
      osc.connect(gain).connect(ctx.destination)
      osc.start(start)
      osc.stop(start + 0.22)
    }
  }
}
