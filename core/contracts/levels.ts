// The national four-colour scale: red 重大 (level 1, highest) … blue 低 (level 4). The one table
// every stage and the web client use to turn colours into levels and back.
import Type, { type Static } from 'typebox'

export const COLORS = ['red', 'orange', 'yellow', 'blue'] as const
export const Color = Type.Enum(COLORS)
export type Color = (typeof COLORS)[number]

/** 1 = red (一级, highest) … 4 = blue (四级). */
export const WarningLevel = Type.Union([Type.Literal(1), Type.Literal(2), Type.Literal(3), Type.Literal(4)])
export type WarningLevel = Static<typeof WarningLevel>

export const LEVEL_OF_COLOR: Readonly<Record<Color, WarningLevel>> = { red: 1, orange: 2, yellow: 3, blue: 4 }
export const COLOR_OF_LEVEL: Readonly<Record<WarningLevel, Color>> = { 1: 'red', 2: 'orange', 3: 'yellow', 4: 'blue' }
export const COLOR_NAMES_ZH: Readonly<Record<Color, string>> = { red: '重大', orange: '较大', yellow: '一般', blue: '低' }
export const LEVEL_NAMES_ZH: Readonly<Record<WarningLevel, string>> = { 1: '一级', 2: '二级', 3: '三级', 4: '四级' }
/** RGB of the national colours, for the map and the client. */
export const COLOR_RGB: Readonly<Record<Color, readonly [number, number, number]>> = {
  red: [230, 0, 18],
  orange: [255, 140, 0],
  yellow: [255, 215, 0],
  blue: [30, 110, 255],
}

/** The more severe of two levels (lower number); null means none. */
export function maxLevel(a: WarningLevel | null, b: WarningLevel | null): WarningLevel | null {
  if (a === null) return b
  if (b === null) return a
  return a < b ? a : b
}

/** One level more severe, capped at red. */
export function raiseLevel(l: WarningLevel): WarningLevel {
  return (l > 1 ? l - 1 : 1) as WarningLevel
}
