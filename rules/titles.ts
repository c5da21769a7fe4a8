// Chinese, human-readable finding titles ("甲煤矿 E1001-CH4-01 甲烷浓度 1.62 %CH4 超过断电值 1.5").
// Only called when a finding is emitted, never per plain reading.
import type { CompiledSensor, Direction } from './compile.js'

/** A number as operators read it: at most 3 decimals, no float noise. */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v)
  return String(Math.round(v * 1000) / 1000)
}

function head(c: CompiledSensor): string {
  return `${c.enterpriseName} ${c.sensorId} ${c.measure}`
}

export function thresholdTitle(c: CompiledSensor, direction: Direction, value: number, label: string, threshold: number): string {
  return `${head(c)} ${fmt(value)} ${c.unit} ${direction === 'high' ? '超过' : '低于'}${label} ${fmt(threshold)}`
}

export function holdingTitle(c: CompiledSensor, direction: Direction, value: number, clear: number): string {
  return `${head(c)} ${fmt(value)} ${c.unit} 尚未${direction === 'high' ? '降至' : '升至'}解除值 ${fmt(clear)}${direction === 'high' ? '以下' : '以上'}`
}

export function clearedTitle(c: CompiledSensor, value: number, clear: number): string {
  return `${head(c)} ${fmt(value)} ${c.unit} 已恢复正常（解除值 ${fmt(clear)}）`
}

export function rateTitle(c: CompiledSensor, rate: number, label: string, threshold: number): string {
  return `${head(c)}变化速率 ${fmt(rate)} ${c.unit}/分钟 达到${label} ${fmt(threshold)}`
}

export function rateClearedTitle(c: CompiledSensor, rate: number): string {
  return `${head(c)}变化速率 ${fmt(rate)} ${c.unit}/分钟 已恢复正常`
}

export function faultTitle(c: CompiledSensor, active: boolean): string {
  return `${c.enterpriseName} ${c.sensorId} ${active ? '设备故障（传感器上报故障）' : '设备故障已恢复'}`
}

export function sensorOfflineTitle(c: CompiledSensor, silenceS: number): string {
  return `${c.enterpriseName} ${c.sensorId} 离线：${Math.round(silenceS)} 秒未收到数据（限值 ${fmt(c.maxSilenceMs / 1000)} 秒）`
}

export function sensorOnlineTitle(c: CompiledSensor): string {
  return `${c.enterpriseName} ${c.sensorId} 已恢复在线`
}

export function gatewayOfflineTitle(enterpriseName: string, gatewayId: string, sensors: number, silenceS: number): string {
  return `${enterpriseName} 网关 ${gatewayId} 离线：全部 ${sensors} 个传感器 ${Math.round(silenceS)} 秒未收到数据`
}

export function gatewayOnlineTitle(enterpriseName: string, gatewayId: string): string {
  return `${enterpriseName} 网关 ${gatewayId} 已恢复在线`
}

export function platformSilentTitle(silenceS: number): string {
  return `平台接入中断：${Math.round(silenceS)} 秒未收到任何读数或接入心跳（传感器离线判断暂停）`
}

export function platformRecoveredTitle(): string {
  return '平台接入已恢复'
}
