// Test fixtures for ingest: a two-enterprise registry and a tiny in-memory RejectionStore.
import { createHash } from 'node:crypto'
import bcrypt from 'bcryptjs'
import type { Rejection } from '../../core/contracts/reading.js'
import type { RegistryDoc } from '../../core/contracts/registry.js'
import type { RejectionQuery, RejectionStore } from '../../core/store/ports.js'

export function testRegistryDoc(): RegistryDoc {
  return {
    regions: [{ id: 'R1', name: '测试省', level: 'province' }],
    enterprises: [
      { id: 'E1', name: '一号煤矿', industry: 'coal_mine', regionId: 'R1', location: [104, 30] },
      { id: 'E2', name: '二号化工', industry: 'hazardous_chemical', regionId: 'R1', location: [104.1, 30.1] },
    ],
    sensors: [
      { id: 'E1-CH4-01', enterpriseId: 'E1', type: 'ch4', role: 'working_face', unit: '%CH4' },
      { id: 'E1-CO-01', enterpriseId: 'E1', type: 'co' },
      { id: 'E2-GAS-01', enterpriseId: 'E2', type: 'combustible_gas', role: 'point' },
    ],
    gateways: [
      { id: 'gw-E1', enterpriseId: 'E1', token: 'token-e1' },
      { id: 'gw-E2', enterpriseId: 'E2', token: `sha256:${createHash('sha256').update('token-e2').digest('hex')}` },
      { id: 'gw-E2-bcrypt', enterpriseId: 'E2', token: bcrypt.hashSync('token-e2b', 4) },
      { id: 'gw-E1-slow', enterpriseId: 'E1', token: 'slow', maxRate: 5 },
    ],
  }
}

export function memoryRejectionStore(): RejectionStore & { all: Rejection[] } {
  const all: Rejection[] = []
  const counts: Record<string, number> = {}
  return {
    all,
    add(r) { all.push(r); counts[r.reason] = (counts[r.reason] ?? 0) + 1 },
    async list(q: RejectionQuery) {
      return all.filter((r) => (!q.reason || r.reason === q.reason) && (!q.gatewayId || r.gatewayId === q.gatewayId)).slice(-(q.limit ?? 100))
    },
    counts: () => ({ ...counts }),
    async flush() {},
    async close() {},
  }
}
