// Reads a registry file (JSON or YAML) and validates it; a broken file says what and where.
import { readFile } from 'node:fs/promises'
import { parse as parseYaml } from 'yaml'
import { AppError } from '../runtime/errors.js'
import type { RegistryDoc } from '../contracts/registry.js'
import { assertRegistry } from './validate-registry.js'

export async function loadRegistryFile(path: string): Promise<RegistryDoc> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new AppError('REGISTRY_INVALID', `cannot read registry file ${path}: ${(err as Error).message}`, { cause: err })
  }
  let doc: unknown
  try {
    doc = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text)
  } catch (err) {
    throw new AppError('REGISTRY_INVALID', `registry file ${path} is not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(err as Error).message}`, { cause: err })
  }
  return assertRegistry(doc, `registry file ${path}`)
}
