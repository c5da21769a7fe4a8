// Checks a gateway token against the registry's stored form: plain (constant-time compare),
// bcrypt ("$2a$"/"$2b$"/"$2y$", bcryptjs, async) or "sha256:<hex>". Never throws on malformed input.
import { createHash, timingSafeEqual } from 'node:crypto'
import bcrypt from 'bcryptjs'

function sha256(s: string | Buffer): Buffer {
  return createHash('sha256').update(s).digest()
}

/** Constant-time equality of two strings of any length (compares their SHA-256 digests). */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  return timingSafeEqual(sha256(a), sha256(b))
}

export async function verifySecret(stored: string, given: string): Promise<boolean> {
  if (/^\$2[aby]\$/.test(stored)) {
    try {
      return await bcrypt.compare(given, stored)
    } catch {
      return false
    }
  }
  if (stored.startsWith('sha256:')) {
    const hex = stored.slice(7).trim().toLowerCase()
    if (!/^[0-9a-f]{64}$/.test(hex)) return false
    return timingSafeEqual(sha256(given), Buffer.from(hex, 'hex'))
  }
  return safeEqual(stored, given)
}

/**
 * Remembers successful checks of slow (bcrypt) hashes so reconnect storms stay cheap. Keyed by the
 * stored hash and the digest of the given secret; bounded.
 */
export function cachedVerifier(maxEntries = 10_000): (stored: string, given: string) => Promise<boolean> {
  const ok = new Set<string>()
  return async (stored, given) => {
    if (!stored.startsWith('$2')) return verifySecret(stored, given)
    const key = `${stored}\u0000${sha256(given).toString('hex')}`
    if (ok.has(key)) return true
    const good = await verifySecret(stored, given)
    if (good) {
      if (ok.size >= maxEntries) ok.clear()
      ok.add(key)
    }
    return good
  }
}
