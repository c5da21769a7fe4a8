// Pure map/list filters: industry (a group such as mines, or one industry), risk levels and a region
// subtree. A memo keeps the filtered array identical while its inputs are unchanged, so deck.gl does
// not re-upload attributes.
import { INDUSTRY_GROUP, type Industry } from '../../../core/contracts/registry.js'
import type { Color } from '../../../core/contracts/levels.js'
import type { EnterpriseItem } from './store.js'

export type IndustryGroup = 'mine' | 'hazardous_chemical' | 'lifeline'
export const INDUSTRY_GROUPS: readonly IndustryGroup[] = ['mine', 'hazardous_chemical', 'lifeline']

/** 'all', 'group:<group>' or an industry code. */
export type IndustryFilter = 'all' | `group:${IndustryGroup}` | Industry

export interface MapFilter {
  industry: IndustryFilter
  /** Levels shown; empty = all. */
  levels: ReadonlySet<Color>
  /** Region whose subtree is shown; null = all. */
  regionId: string | null
}

export const NO_FILTER: MapFilter = { industry: 'all', levels: new Set(), regionId: null }

export function groupOf(industry: string): IndustryGroup | undefined {
  return (INDUSTRY_GROUP as Record<string, IndustryGroup>)[industry]
}

export function industryMatches(f: IndustryFilter, industry: string): boolean {
  if (f === 'all') return true
  if (f.startsWith('group:')) return groupOf(industry) === f.slice(6)
  return f === industry
}

/** The ids of a region and everything below it. */
export function regionSubtree(regions: readonly { id: string; parentId?: string | null }[], rootId: string): Set<string> {
  const children = new Map<string, string[]>()
  for (const r of regions) {
    if (!r.parentId) continue
    const arr = children.get(r.parentId)
    if (arr) arr.push(r.id)
    else children.set(r.parentId, [r.id])
  }
  const out = new Set<string>([rootId])
  const stack = [rootId]
  while (stack.length) {
    const id = stack.pop()!
    for (const c of children.get(id) ?? []) if (!out.has(c)) { out.add(c); stack.push(c) }
  }
  return out
}

export function filterEnterprises(items: readonly EnterpriseItem[], f: MapFilter, subtree: ReadonlySet<string> | null): EnterpriseItem[] {
  return items.filter((e) =>
    industryMatches(f.industry, e.industry) &&
    (f.levels.size === 0 || f.levels.has(e.riskLevel)) &&
    (!subtree || subtree.has(e.regionId)))
}

export function isFiltering(f: MapFilter): boolean {
  return f.industry !== 'all' || f.levels.size > 0 || f.regionId !== null
}

/** Memoised filter: returns the same array while (dataVersion, colorVersion if levels filter on,
 * filter key) are unchanged; with no filter at all it returns the source array itself. */
export function createEnterpriseFilterMemo() {
  let lastKey = ''
  let last: EnterpriseItem[] = []
  return (items: EnterpriseItem[], dataVersion: number, colorVersion: number, f: MapFilter, subtree: ReadonlySet<string> | null): EnterpriseItem[] => {
    if (!isFiltering(f)) { lastKey = ''; return items }
    const key = `${dataVersion}|${f.levels.size ? colorVersion : '-'}|${f.industry}|${[...f.levels].sort().join(',')}|${f.regionId ?? ''}`
    if (key !== lastKey) { last = filterEnterprises(items, f, subtree); lastKey = key }
    return last
  }
}
