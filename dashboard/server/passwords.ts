// Checks a password (or token) against its stored form: plain, bcrypt ("$2a$"/"$2b$"/"$2y$") or
// "sha256:<hex>". Comparisons are constant-time; malformed stored forms never match.
import { createHash, timingSafeEqual } from 'node:crypto'
import bcrypt from 'bcryptjs'

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest()

/** A bcrypt hash, compared against when the user does not exist (about the same timing). */
let dummyHash: string | undefined

export async function verifySecret(given: string, stored: string): Promise<boolean> {
  if (/^\$2[aby]\$\d{2}\$/.test(stored)) {
    try { return await bcrypt.compare(given, stored) } catch { return false }
  }
  if (stored.startsWith('sha256:')) {
    const hex = stored.slice(7)
    if (!/^[0-9a-f]{64}$/i.test(hex)) return false
    return timingSafeEqual(sha256(given), Buffer.from(hex, 'hex'))
  }
  return timingSafeEqual(sha256(given), sha256(stored))
}

/** Spend about the time a real check would, for unknown users (no user-enumeration by timing). */
export async function burnVerify(given: string): Promise<void> {
  dummyHash ??= bcrypt.hashSync('yujing-no-such-user', 10)
  await verifySecret(given, dummyHash)
}
