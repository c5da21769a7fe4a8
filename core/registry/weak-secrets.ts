// Finds plain (unhashed) user passwords and gateway tokens that are known defaults or too weak, so
// the composition root can refuse to start with them outside demo mode. Hashed values are not judged.
import type { RegistryDoc } from '../contracts/registry.js'

export interface WeakSecretProblem { path: string; message: string }

/** Shortest plain secret accepted outside demo mode. */
export const MIN_SECRET_LENGTH = 8

/** Known defaults and the demo registry's passwords (compared case-insensitively). */
export const KNOWN_WEAK_SECRETS: readonly string[] = [
  'change-me', 'changeme', 'admin', 'password', 'passw0rd', '123456', '12345678', '123456789', 'qwerty',
  'secret', 'token', 'default', 'yujing', 'yujing-admin', 'yujing-duty', 'yujing-viewer', 'yujing-county',
]

/** True when the value is stored hashed (bcrypt "$2a$"/"$2b$"/"$2y$" or "sha256:<hex>"). */
export function isHashedSecret(value: string): boolean {
  return /^\$2[aby]\$\d{2}\$/.test(value) || /^sha256:[0-9a-f]{64}$/i.test(value)
}

function weakness(secret: string, ownerName: string): string | undefined {
  if (isHashedSecret(secret)) return undefined
  const lower = secret.toLowerCase()
  if (KNOWN_WEAK_SECRETS.includes(lower)) return `"${secret}" is a known default or demo secret`
  if (lower === ownerName.toLowerCase()) return 'is the same as the name it belongs to'
  if (secret.length < MIN_SECRET_LENGTH) return `is shorter than ${MIN_SECRET_LENGTH} characters`
  if (/^(.)\1*$/.test(secret)) return 'repeats a single character'
  return undefined
}

/** Every weak plain password or gateway token in the document, with its JSON path. */
export function weakSecretProblems(doc: RegistryDoc): WeakSecretProblem[] {
  const out: WeakSecretProblem[] = []
  ;(doc.users ?? []).forEach((u, i) => {
    const w = weakness(u.password, u.username)
    if (w) out.push({ path: `/users/${i}/password`, message: `password of user "${u.username}" ${w.startsWith('"') ? 'is weak: ' + w : w}` })
  })
  ;(doc.gateways ?? []).forEach((g, i) => {
    const w = weakness(g.token, g.id)
    if (w) out.push({ path: `/gateways/${i}/token`, message: `token of gateway "${g.id}" ${w.startsWith('"') ? 'is weak: ' + w : w}` })
  })
  return out
}
