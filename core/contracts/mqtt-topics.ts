// The MQTT topic grammar (contracts.md §3): sensors/{enterpriseId}/{sensorId} for one reading,
// sensors/{enterpriseId} for a batch.
export const MQTT_ROOT = 'sensors'

export type ParsedTopic =
  | { kind: 'single'; enterpriseId: string; sensorId: string }
  | { kind: 'batch'; enterpriseId: string }
  | { kind: 'invalid' }

export function parseSensorTopic(topic: string): ParsedTopic {
  const parts = topic.split('/')
  if (parts[0] !== MQTT_ROOT) return { kind: 'invalid' }
  const enterpriseId = parts[1]
  if (!enterpriseId) return { kind: 'invalid' }
  if (parts.length === 2) return { kind: 'batch', enterpriseId }
  const sensorId = parts[2]
  if (parts.length === 3 && sensorId) return { kind: 'single', enterpriseId, sensorId }
  return { kind: 'invalid' }
}

export function singleTopic(enterpriseId: string, sensorId: string): string {
  return `${MQTT_ROOT}/${enterpriseId}/${sensorId}`
}

export function batchTopic(enterpriseId: string): string {
  return `${MQTT_ROOT}/${enterpriseId}`
}
