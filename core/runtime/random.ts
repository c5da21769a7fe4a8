// A seeded PRNG (mulberry32) so simulators and tests are reproducible.
export interface Random {
  next(): number
  int(min: number, maxExclusive: number): number
  pick<T>(items: readonly T[]): T
  normal(mean?: number, sd?: number): number
}

export function seededRandom(seed: number): Random {
  let a = seed >>> 0
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min)),
    pick: (items) => items[Math.floor(next() * items.length)] as (typeof items)[number],
    normal(mean = 0, sd = 1) {
      const u = Math.max(next(), 1e-12)
      const v = next()
      return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
    },
  }
}
