// Holds the current registry; the composition root swaps it when an admin changes the registry
// (a `registryChanged` message on the bus), and stages that compile from it listen for changes.
import type { RegistryIndex } from './registry-index.js'

export interface RegistryHolder {
  current(): RegistryIndex
  onChange(cb: (next: RegistryIndex) => void): () => void
}

export function createRegistryHolder(initial: RegistryIndex): RegistryHolder & { set(next: RegistryIndex): void } {
  let cur = initial
  const listeners = new Set<(next: RegistryIndex) => void>()
  return {
    current: () => cur,
    onChange(cb) { listeners.add(cb); return () => listeners.delete(cb) },
    set(next) { cur = next; for (const cb of listeners) cb(next) },
  }
}
