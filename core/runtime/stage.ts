// A stage is started and stopped by the composition root; stages talk only through the bus.
export interface Stage {
  readonly name: string
  start(): Promise<void>
  /** Stop taking new work, finish what was taken, flush. */
  stop(): Promise<void>
  /** For /api/health. */
  health?(): { ok: boolean; detail?: string }
}
