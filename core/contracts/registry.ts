// The registry: regions, enterprises, sensors, gateways and users (contracts.md §1). Unknown fields
// are an error, so every object is closed (additionalProperties: false).
import Type, { type Static } from 'typebox'
import { Color } from './levels.js'

const closed = { additionalProperties: false } as const

export const REGION_LEVELS = ['province', 'city', 'county', 'park', 'grid'] as const
export const RegionLevel = Type.Enum(REGION_LEVELS)
export type RegionLevel = (typeof REGION_LEVELS)[number]

export const INDUSTRIES = [
  'coal_mine', 'non_coal_mine', 'hazardous_chemical', 'gas_network', 'water_network', 'drainage',
  'bridge', 'utility_tunnel', 'large_complex',
] as const
export const Industry = Type.Enum(INDUSTRIES)
export type Industry = (typeof INDUSTRIES)[number]
/** Coarse industry groups for the map filter. */
export const INDUSTRY_GROUP: Readonly<Record<Industry, 'mine' | 'hazardous_chemical' | 'lifeline'>> = {
  coal_mine: 'mine', non_coal_mine: 'mine', hazardous_chemical: 'hazardous_chemical', gas_network: 'lifeline',
  water_network: 'lifeline', drainage: 'lifeline', bridge: 'lifeline', utility_tunnel: 'lifeline',
  large_complex: 'lifeline',
}

export const SENSOR_TYPES = [
  'ch4', 'co', 'o2', 'co2', 'temperature', 'wind_speed', 'h2s', 'combustible_gas', 'toxic_gas', 'tank_level',
  'tank_pressure', 'tank_temperature', 'pipe_pressure', 'flow', 'water_level', 'strain', 'displacement',
  'deflection', 'crack_width', 'tilt', 'vibration', 'humidity',
] as const
export const SensorType = Type.Enum(SENSOR_TYPES)
export type SensorType = (typeof SENSOR_TYPES)[number]
export const SENSOR_UNITS: Readonly<Record<SensorType, string>> = {
  ch4: '%CH4', co: 'ppm', o2: '%vol', co2: '%vol', temperature: '°C', wind_speed: 'm/s', h2s: 'ppm',
  combustible_gas: '%LEL', toxic_gas: 'mg/m3', tank_level: '%', tank_pressure: 'MPa', tank_temperature: '°C',
  pipe_pressure: 'MPa', flow: 'm3/h', water_level: '%', strain: 'µε', displacement: 'mm', deflection: 'mm',
  crack_width: 'mm', tilt: '°', vibration: 'm/s2', humidity: '%RH',
}

export const LonLat = Type.Tuple([Type.Number({ minimum: -180, maximum: 180 }), Type.Number({ minimum: -90, maximum: 90 })])
export type LonLat = Static<typeof LonLat>

const Ring = Type.Array(Type.Array(Type.Number(), { minItems: 2, maxItems: 3 }))
export const Polygon = Type.Object({ type: Type.Literal('Polygon'), coordinates: Type.Array(Ring) }, closed)
export const MultiPolygon = Type.Object({ type: Type.Literal('MultiPolygon'), coordinates: Type.Array(Type.Array(Ring)) }, closed)
export const Boundary = Type.Union([Polygon, MultiPolygon])
export type Boundary = Static<typeof Boundary>

/** Flat threshold form: a reading at or beyond a colour's value raises a warning of that colour. */
export const FlatThresholds = Type.Object({
  blue: Type.Optional(Type.Number()),
  yellow: Type.Optional(Type.Number()),
  orange: Type.Optional(Type.Number()),
  red: Type.Optional(Type.Number()),
  direction: Type.Optional(Type.Union([Type.Literal('high'), Type.Literal('low')])),
  /** Hysteresis: the condition clears only past this value. Default: the lowest colour's value. */
  clear: Type.Optional(Type.Number()),
  /** The condition must hold this long (reading time) before it raises. */
  forSeconds: Type.Optional(Type.Number({ minimum: 0 })),
  /** The condition must hold for this many consecutive readings before it raises. */
  forCount: Type.Optional(Type.Integer({ minimum: 1 })),
  /** Rate of change per minute (signed: negative for a drop) at which a `rate` warning is raised. */
  ratePerMinute: Type.Optional(Type.Object({
    blue: Type.Optional(Type.Number()), yellow: Type.Optional(Type.Number()),
    orange: Type.Optional(Type.Number()), red: Type.Optional(Type.Number()),
    windowSeconds: Type.Optional(Type.Number({ minimum: 1 })),
  }, closed)),
}, closed)
export type FlatThresholds = Static<typeof FlatThresholds>

/** Two-sided limits (oxygen 19.5 / 23.5, wind speed min / max). */
export const TwoSidedThresholds = Type.Object({ low: Type.Optional(FlatThresholds), high: Type.Optional(FlatThresholds) }, closed)
export type TwoSidedThresholds = Static<typeof TwoSidedThresholds>
export const Thresholds = Type.Union([TwoSidedThresholds, FlatThresholds])
export type Thresholds = Static<typeof Thresholds>
/** Overrides by "<type>" or "<type>:<role>" on regions and enterprises. */
export const ThresholdOverrides = Type.Record(Type.String(), Thresholds)
export type ThresholdOverrides = Static<typeof ThresholdOverrides>

export const Contact = Type.Object({
  role: Type.String({ maxLength: 64 }),
  name: Type.String({ maxLength: 128 }),
  phone: Type.Optional(Type.String({ maxLength: 64 })),
  email: Type.Optional(Type.String({ maxLength: 256 })),
}, closed)
export type Contact = Static<typeof Contact>

const Id = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]*$' })

export const Region = Type.Object({
  id: Id,
  name: Type.String({ minLength: 1, maxLength: 256 }),
  level: RegionLevel,
  parentId: Type.Optional(Id),
  boundary: Type.Optional(Boundary),
  thresholds: Type.Optional(ThresholdOverrides),
  contacts: Type.Optional(Type.Array(Contact)),
}, closed)
export type Region = Static<typeof Region>

export const EnterpriseProfile = Type.Object({
  staticRiskLevel: Type.Optional(Type.Union([Color, Type.Null()])),
  /** GB 18218-2018 major hazard level 1..4 (一级 highest), null if none. */
  majorHazardLevel: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 4 }), Type.Null()])),
  /** Enterprise assessment score (100-point deduction, 应急管理部 2018). */
  assessmentScore: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
  /** Worst LEC risk point, D = L×E×C. */
  worstLec: Type.Optional(Type.Number({ minimum: 0 })),
  employees: Type.Optional(Type.Integer({ minimum: 0 })),
  overdueMajorHiddenDangers: Type.Optional(Type.Integer({ minimum: 0 })),
  openHiddenDangers: Type.Optional(Type.Integer({ minimum: 0 })),
  notes: Type.Optional(Type.String({ maxLength: 4000 })),
}, closed)
export type EnterpriseProfile = Static<typeof EnterpriseProfile>

export const Enterprise = Type.Object({
  id: Id,
  name: Type.String({ minLength: 1, maxLength: 256 }),
  industry: Industry,
  regionId: Id,
  location: LonLat,
  profile: Type.Optional(EnterpriseProfile),
  contacts: Type.Optional(Type.Array(Contact)),
  thresholds: Type.Optional(ThresholdOverrides),
}, closed)
export type Enterprise = Static<typeof Enterprise>

export const Sensor = Type.Object({
  id: Id,
  enterpriseId: Id,
  type: SensorType,
  role: Type.Optional(Type.String({ maxLength: 64 })),
  name: Type.Optional(Type.String({ maxLength: 256 })),
  unit: Type.Optional(Type.String({ maxLength: 32 })),
  gas: Type.Optional(Type.String({ maxLength: 32 })),
  gatewayId: Type.Optional(Id),
  location: Type.Optional(LonLat),
  thresholds: Type.Optional(Thresholds),
  maxSilenceSeconds: Type.Optional(Type.Number({ minimum: 1 })),
  /** A key sensor's silence raises the enterprise's risk one level. */
  key: Type.Optional(Type.Boolean()),
}, closed)
export type Sensor = Static<typeof Sensor>

export const Gateway = Type.Object({
  id: Id,
  enterpriseId: Id,
  /** Plain token, or a bcrypt hash ("$2a$…"/"$2b$…") or "sha256:<hex>". */
  token: Type.String({ minLength: 1, maxLength: 512 }),
  maxSilenceSeconds: Type.Optional(Type.Number({ minimum: 1 })),
  /** Readings per second allowed for this gateway (flood control); default from config. */
  maxRate: Type.Optional(Type.Number({ minimum: 1 })),
}, closed)
export type Gateway = Static<typeof Gateway>

export const USER_ROLES = ['viewer', 'duty', 'admin'] as const
export const UserRole = Type.Enum(USER_ROLES)
export type UserRole = (typeof USER_ROLES)[number]

export const User = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.@-]+$' }),
  /** Plain password, or a bcrypt hash ("$2a$…"/"$2b$…") or "sha256:<hex>". */
  password: Type.String({ minLength: 1, maxLength: 512 }),
  role: UserRole,
  name: Type.Optional(Type.String({ maxLength: 128 })),
  regionIds: Type.Optional(Type.Array(Id)),
  enterpriseIds: Type.Optional(Type.Array(Id)),
}, closed)
export type User = Static<typeof User>

export const RegistryDoc = Type.Object({
  regions: Type.Array(Region),
  enterprises: Type.Array(Enterprise),
  sensors: Type.Array(Sensor),
  gateways: Type.Optional(Type.Array(Gateway)),
  users: Type.Optional(Type.Array(User)),
}, closed)
export type RegistryDoc = Static<typeof RegistryDoc>

/** A user as the API shows it: never the password. */
export const PublicUser = Type.Object({
  username: Type.String(),
  role: UserRole,
  name: Type.Optional(Type.String()),
  regionIds: Type.Optional(Type.Array(Type.String())),
  enterpriseIds: Type.Optional(Type.Array(Type.String())),
})
export type PublicUser = Static<typeof PublicUser>
