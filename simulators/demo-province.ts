// Generates the demo registry: a fictional province (示例省, R99) with cities, counties, a chemical
// park and grid cells (rectangle boundaries), enterprises of every industry with realistic sensors,
// one gateway per enterprise (token = HMAC of the secret) and demo users. Deterministic for a seed.
import { createHmac } from 'node:crypto'
import type { Contact, Enterprise, Gateway, Industry, Region, RegistryDoc, Sensor, SensorType, Thresholds, User } from '../core/contracts/registry.js'
import type { Color } from '../core/contracts/levels.js'
import { seededRandom, type Random } from '../core/runtime/random.js'

export interface DemoProvinceOptions {
  seed?: number
  /** Default 72. */
  enterprises?: number
  /** Gateway tokens are derived from it (HMAC-SHA256); the simulator and the server must share it. */
  secret: string
}

/** The secret the demo uses when none is configured (demo only). */
export const DEMO_SECRET = 'yujing-demo-secret'
/** Demo user passwords (demo only; change them in a real registry). */
export const DEMO_USERS = {
  admin: { password: 'yujing-admin', role: 'admin' },
  duty: { password: 'yujing-duty', role: 'duty' },
  viewer: { password: 'yujing-viewer', role: 'viewer' },
  county: { password: 'yujing-county', role: 'duty' },
} as const
export const DEMO_PROVINCE_ID = 'R99'
/** The seed the embedded demo uses (app/registry-bootstrap.ts); `yujing simulate` must generate the same province. */
export const DEMO_PROVINCE_SEED = 7

/** A gateway's demo token: HMAC-SHA256(secret, gatewayId), hex, 32 chars. */
export function gatewayToken(secret: string, gatewayId: string): string {
  return createHmac('sha256', secret).update(gatewayId).digest('hex').slice(0, 32)
}

type Rect = readonly [number, number, number, number] // minLon, minLat, maxLon, maxLat

const r4 = (x: number): number => Math.round(x * 1e4) / 1e4
const r6 = (x: number): number => Math.round(x * 1e6) / 1e6

function polygon(b: Rect): Region['boundary'] {
  const [x0, y0, x1, y1] = b.map(r4) as unknown as Rect
  return { type: 'Polygon', coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] }
}

const SURNAMES = ['张', '王', '李', '赵', '刘', '陈', '杨', '黄', '周', '吴', '徐', '孙', '马', '朱', '胡', '郭', '何', '林', '罗', '高']
const GIVEN = ['伟', '芳', '娜', '敏', '静', '强', '磊', '军', '洋', '勇', '艳', '杰', '涛', '明', '超', '秀英', '建国', '志强', '海燕', '晓东', '红梅', '国庆', '立新', '文华']
const PLACES = ['青龙', '白马', '金沙', '石门', '红岩', '龙潭', '凤凰', '黄桷', '柏林', '高坪', '双河', '新店', '大湾', '桃园', '青山', '明月',
  '九龙', '长岭', '松林', '梅子', '云台', '花溪', '永安', '太平', '福田', '兴隆', '三江', '五里', '沙坪', '观音', '白鹤', '银杏', '鹿鸣', '碧水',
  '天池', '铜锣', '马鞍', '狮子', '玉泉', '宝山', '望江', '清溪', '金鸡', '卧龙', '飞凤', '翠屏', '紫阳', '南岭']
const CITY_DEFS = [
  { name: '甲市', counties: ['甲市东城区', '西山县', '南河县'] },
  { name: '乙市', counties: ['乙市江北区', '临港县', '北川县'] },
  { name: '丙市', counties: ['丙市中心区', '黑石县'] },
] as const
const NUMERALS = ['', '二', '三', '四', '五', '六', '七', '八', '九', '十']

/** Industry mix of 72 enterprises, cycled/scaled for other counts. */
const MIX: readonly [Industry, number][] = [
  ['coal_mine', 10], ['non_coal_mine', 6], ['hazardous_chemical', 16], ['gas_network', 8], ['water_network', 7],
  ['drainage', 7], ['bridge', 8], ['utility_tunnel', 5], ['large_complex', 5],
]

function person(rng: Random): string {
  return rng.pick(SURNAMES) + rng.pick(GIVEN)
}
function phone(rng: Random): string {
  return `1${rng.pick(['38', '39', '58', '86', '77'])}${String(rng.int(0, 1e8)).padStart(8, '0')}`
}

interface SensorSpec { code: string; type: SensorType; role?: string; name: string; gas?: string; thresholds?: Thresholds; key?: boolean }

const TOXIC: Record<string, { orange: number; red: number; zh: string }> = {
  H2S: { orange: 10, red: 20, zh: '硫化氢' }, Cl2: { orange: 1, red: 2, zh: '氯气' }, NH3: { orange: 20, red: 40, zh: '氨气' },
}

function sensorSpecs(industry: Industry, rng: Random): SensorSpec[] {
  const s: SensorSpec[] = []
  switch (industry) {
    case 'coal_mine':
      s.push(
        { code: 'CH4', type: 'ch4', role: 'working_face', name: '综采工作面甲烷', key: true },
        { code: 'CH4', type: 'ch4', role: 'upper_corner', name: '工作面上隅角甲烷', key: true },
        { code: 'CH4', type: 'ch4', role: 'return_airway', name: '工作面回风巷甲烷' },
        { code: 'CH4', type: 'ch4', role: 'heading_face', name: '掘进工作面甲烷', key: true },
        { code: 'CH4', type: 'ch4', role: 'intake', name: '进风巷甲烷' },
        { code: 'CO', type: 'co', role: 'working_face', name: '工作面一氧化碳' },
        { code: 'CO', type: 'co', role: 'return_airway', name: '回风巷一氧化碳' },
        { code: 'O2', type: 'o2', role: 'intake', name: '进风流氧气' },
        { code: 'CO2', type: 'co2', name: '回风巷二氧化碳' },
        { code: 'H2S', type: 'h2s', name: '工作面硫化氢' },
        { code: 'WS', type: 'wind_speed', role: 'working_face', name: '工作面风速' },
        { code: 'T', type: 'temperature', role: 'working_face', name: '工作面温度' },
      )
      break
    case 'non_coal_mine':
      s.push(
        { code: 'CO', type: 'co', name: '井下一氧化碳' },
        { code: 'O2', type: 'o2', name: '井下氧气' },
        { code: 'WS', type: 'wind_speed', role: 'roadway', name: '运输巷风速' },
        { code: 'DP', type: 'displacement', name: '尾矿坝位移', thresholds: { yellow: 20, orange: 30, red: 40 } },
        { code: 'WL', type: 'water_level', name: '尾矿库水位', thresholds: { yellow: 70, orange: 80, red: 90, clear: 68 } },
      )
      break
    case 'hazardous_chemical': {
      const gas = rng.pick(Object.keys(TOXIC))
      const tox = TOXIC[gas]!
      s.push(
        { code: 'GAS', type: 'combustible_gas', role: 'point', name: '储罐区可燃气体1#', key: true },
        { code: 'GAS', type: 'combustible_gas', role: 'point', name: '储罐区可燃气体2#' },
        { code: 'GAS', type: 'combustible_gas', role: 'point', name: '装卸区可燃气体' },
        { code: 'TOX', type: 'toxic_gas', gas, name: `生产装置${tox.zh}`, thresholds: { orange: tox.orange, red: tox.red } },
        { code: 'LT', type: 'tank_level', name: '1#储罐液位', thresholds: { yellow: 85, orange: 90, red: 95, clear: 83 } },
        { code: 'LT', type: 'tank_level', name: '2#储罐液位', thresholds: { yellow: 85, orange: 90, red: 95, clear: 83 } },
        { code: 'PT', type: 'tank_pressure', name: '1#储罐压力', thresholds: { yellow: 0.5, orange: 0.55, red: 0.6, clear: 0.48 } },
        { code: 'TT', type: 'tank_temperature', name: '1#储罐温度', thresholds: { yellow: 40, orange: 45, red: 50, clear: 38 } },
        { code: 'O2', type: 'o2', name: '装置区氧气' },
      )
      break
    }
    case 'gas_network':
      for (let i = 1; i <= 2; i++) {
        s.push({ code: 'PP', type: 'pipe_pressure', name: `中压管网压力监测点${i}`, thresholds: { direction: 'low', yellow: 0.2, orange: 0.15, red: 0.1, clear: 0.22, ratePerMinute: { orange: -0.05, red: -0.1, windowSeconds: 60 } } })
      }
      for (let i = 1; i <= 3; i++) s.push({ code: 'GAS', type: 'combustible_gas', role: 'manhole', name: `窨井可燃气体${i}#` })
      s.push({ code: 'FL', type: 'flow', name: '门站出口流量' })
      break
    case 'water_network':
      for (let i = 1; i <= 2; i++) {
        s.push({ code: 'PP', type: 'pipe_pressure', name: `供水管网压力${i}#`, thresholds: { direction: 'low', yellow: 0.2, orange: 0.16, red: 0.12, clear: 0.22, ratePerMinute: { orange: -0.05, red: -0.1, windowSeconds: 60 } } })
        s.push({ code: 'FL', type: 'flow', name: `供水管网流量${i}#`, thresholds: { yellow: 900, orange: 1100, red: 1300 } })
      }
      break
    case 'drainage':
      for (let i = 1; i <= 3; i++) s.push({ code: 'WL', type: 'water_level', name: `排水管网液位${i}#`, thresholds: { yellow: 70, orange: 85, red: 95, clear: 65 } })
      s.push({ code: 'FL', type: 'flow', name: '泵站出水流量' })
      break
    case 'bridge':
      s.push(
        { code: 'ST', type: 'strain', name: '主梁跨中应变', thresholds: { yellow: 150, orange: 200, red: 250 }, key: true },
        { code: 'ST', type: 'strain', name: '主梁支点应变', thresholds: { yellow: 150, orange: 200, red: 250 } },
        { code: 'DF', type: 'deflection', name: '跨中挠度', thresholds: { yellow: 20, orange: 30, red: 40 } },
        { code: 'CW', type: 'crack_width', name: '墩身裂缝宽度', thresholds: { yellow: 0.2, orange: 0.3, red: 0.4, ratePerMinute: { yellow: 0.01, orange: 0.02, red: 0.05, windowSeconds: 120 } } },
        { code: 'DP', type: 'displacement', name: '支座位移', thresholds: { yellow: 10, orange: 15, red: 20 } },
        { code: 'TL', type: 'tilt', name: '桥墩倾角', thresholds: { yellow: 0.3, orange: 0.5, red: 1.0 } },
        { code: 'VB', type: 'vibration', name: '主梁振动加速度', thresholds: { yellow: 0.5, orange: 1.0, red: 1.5 } },
      )
      break
    case 'utility_tunnel':
      s.push(
        { code: 'GAS', type: 'combustible_gas', role: 'tunnel_gas_cabin', name: '天然气舱可燃气体1#', key: true },
        { code: 'GAS', type: 'combustible_gas', role: 'tunnel_gas_cabin', name: '天然气舱可燃气体2#' },
        { code: 'O2', type: 'o2', name: '综合舱氧气' },
        { code: 'T', type: 'temperature', name: '电力舱温度', thresholds: { yellow: 35, orange: 40, red: 45 } },
        { code: 'HU', type: 'humidity', name: '综合舱湿度', thresholds: { yellow: 90, orange: 95 } },
        { code: 'WL', type: 'water_level', name: '集水坑水位', thresholds: { yellow: 60, orange: 80, red: 90 } },
      )
      break
    case 'large_complex':
      s.push(
        { code: 'GAS', type: 'combustible_gas', role: 'point', name: '餐饮区可燃气体' },
        { code: 'CO', type: 'co', name: '地下车库一氧化碳' },
        { code: 'T', type: 'temperature', name: '配电室温度', thresholds: { yellow: 45, orange: 55, red: 65 } },
      )
      break
  }
  return s
}

/**
 * The industry order: each industry once first (so any 9 enterprises cover them all), then the rest of
 * the 72-mix by smooth weighted round-robin (every prefix keeps the proportions); cycled beyond 72.
 */
const INDUSTRY_ORDER: readonly Industry[] = (() => {
  const order: Industry[] = MIX.map(([ind]) => ind)
  const left = MIX.map(([ind, w]) => ({ ind, w: w - 1, cur: 0 }))
  const total = left.reduce((s, x) => s + x.w, 0)
  for (let k = 0; k < total; k++) {
    let best = left[0]!
    for (const x of left) { x.cur += x.w; if (x.cur > best.cur) best = x }
    best.cur -= total
    order.push(best.ind)
  }
  return order
})()

function industryAt(i: number): Industry {
  return INDUSTRY_ORDER[i % INDUSTRY_ORDER.length]!
}

function weightedColor(rng: Random): Color {
  const x = rng.next()
  return x < 0.45 ? 'blue' : x < 0.8 ? 'yellow' : x < 0.95 ? 'orange' : 'red'
}

/** Ranges of the static factors that stay within a level (GB 18218 level, assessment class, LEC). */
const STATIC_BANDS: Readonly<Record<Color, { hazardMin: number; assessmentMin: number; lecMax: number }>> = {
  blue: { hazardMin: 4, assessmentMin: 90, lecMax: 69 },
  yellow: { hazardMin: 3, assessmentMin: 75, lecMax: 159 },
  orange: { hazardMin: 2, assessmentMin: 60, lecMax: 319 },
  red: { hazardMin: 1, assessmentMin: 50, lecMax: 400 },
}

export function generateDemoProvince(opts: DemoProvinceOptions): RegistryDoc {
  const rng = seededRandom(opts.seed ?? DEMO_PROVINCE_SEED)
  const count = Math.max(1, Math.floor(opts.enterprises ?? 72))
  const regions: Region[] = []
  const rects = new Map<string, Rect>()
  const tierContacts = (name: string): Contact[] => [
    { role: 'duty', name: `${name}应急管理局值班室`, phone: `0${rng.int(800, 900)}-${rng.int(6000000, 8999999)}` },
    { role: 'leader', name: person(rng), phone: phone(rng) },
  ]
  const province: Rect = [103, 29, 106, 32]
  regions.push({ id: DEMO_PROVINCE_ID, name: '示例省', level: 'province', boundary: polygon(province), contacts: tierContacts('示例省') })
  rects.set(DEMO_PROVINCE_ID, province)
  const counties: string[] = []
  const grids = new Map<string, string[]>() // county -> grid ids
  CITY_DEFS.forEach((c, ci) => {
    const cityId = `${DEMO_PROVINCE_ID}0${ci + 1}`
    const cityRect: Rect = [103 + ci, 29, 104 + ci, 32]
    regions.push({ id: cityId, name: c.name, level: 'city', parentId: DEMO_PROVINCE_ID, boundary: polygon(cityRect), contacts: tierContacts(c.name) })
    rects.set(cityId, cityRect)
    const k = c.counties.length
    c.counties.forEach((countyName, ki) => {
      const countyId = `${cityId}0${ki + 1}`
      const cr: Rect = [cityRect[0], 29 + (3 * ki) / k, cityRect[2], 29 + (3 * (ki + 1)) / k]
      regions.push({ id: countyId, name: countyName, level: 'county', parentId: cityId, boundary: polygon(cr), contacts: tierContacts(countyName) })
      rects.set(countyId, cr)
      counties.push(countyId)
      const gids: string[] = []
      for (let gy = 0; gy < 2; gy++) for (let gx = 0; gx < 2; gx++) {
        const n = gy * 2 + gx + 1
        const gid = `${countyId}-G0${n}`
        const w = (cr[2] - cr[0]) / 2
        const h = (cr[3] - cr[1]) / 2
        const gr: Rect = [cr[0] + gx * w, cr[1] + gy * h, cr[0] + (gx + 1) * w, cr[1] + (gy + 1) * h]
        regions.push({ id: gid, name: `${countyName}第${n}网格`, level: 'grid', parentId: countyId, boundary: polygon(gr), contacts: [{ role: 'grid', name: person(rng), phone: phone(rng) }] })
        rects.set(gid, gr)
        gids.push(gid)
      }
      grids.set(countyId, gids)
    })
  })
  // A chemical park inside 乙市江北区 (R990201).
  const parkCounty = `${DEMO_PROVINCE_ID}0201`
  const pc = rects.get(parkCounty)!
  const parkId = `${parkCounty}-P01`
  const parkRect: Rect = [pc[0] + 0.55, pc[1] + 0.2, pc[0] + 0.85, pc[1] + 0.45]
  regions.push({ id: parkId, name: '示例化工园区', level: 'park', parentId: parkCounty, boundary: polygon(parkRect), contacts: tierContacts('示例化工园区') })
  rects.set(parkId, parkRect)

  const gridsOf = (countyIdx: number[]): string[] => countyIdx.flatMap((i) => grids.get(counties[i % counties.length]!) ?? [])
  // counties: 0..2 甲市, 3..5 乙市, 6..7 丙市
  const placement: Record<Industry, string[]> = {
    coal_mine: gridsOf([1, 2, 7]),
    non_coal_mine: gridsOf([2, 5, 7]),
    hazardous_chemical: [parkId, parkId, parkId, ...gridsOf([4, 6])],
    gas_network: gridsOf([0, 3, 6]),
    water_network: gridsOf([0, 3, 6]),
    drainage: gridsOf([0, 3, 6]),
    bridge: gridsOf([0, 3, 4, 6]),
    utility_tunnel: gridsOf([0, 3, 6]),
    large_complex: gridsOf([0, 3, 6]),
  }

  const places = [...PLACES]
  for (let i = places.length - 1; i > 0; i--) { const j = rng.int(0, i + 1); [places[i], places[j]] = [places[j]!, places[i]!] }

  const enterprises: Enterprise[] = []
  const sensors: Sensor[] = []
  const gateways: Gateway[] = []
  for (let i = 0; i < count; i++) {
    const industry = industryAt(i)
    const id = `E${1001 + i}`
    const place = places[i % places.length]! + (NUMERALS[Math.floor(i / places.length) % NUMERALS.length] ?? '')
    const regionId = rng.pick(placement[industry])
    const rr = rects.get(regionId)!
    const mx = (rr[2] - rr[0]) * 0.1
    const my = (rr[3] - rr[1]) * 0.1
    const location: [number, number] = [r6(rr[0] + mx + rng.next() * (rr[2] - rr[0] - 2 * mx)), r6(rr[1] + my + rng.next() * (rr[3] - rr[1] - 2 * my))]
    const cityName = regions.find((r) => r.id === regionId.slice(0, 5))?.name ?? '示例'
    const name = {
      coal_mine: `${place}煤矿`,
      non_coal_mine: `${place}${rng.pick(['铁矿', '磷矿', '石灰石矿', '铜矿'])}`,
      hazardous_chemical: `${place}${rng.pick(['化工有限公司', '石化有限公司', '精细化工有限公司', '化肥有限公司'])}`,
      gas_network: `${cityName}燃气${place}片区中压管网`,
      water_network: `${cityName}供水${place}片区管网`,
      drainage: `${place}排水泵站片区`,
      bridge: `${place}大桥`,
      utility_tunnel: `${place}路综合管廊`,
      large_complex: `${place}${rng.pick(['商业综合体', '购物中心', '会展中心', '客运枢纽'])}`,
    }[industry]
    const employees = {
      coal_mine: rng.int(300, 1500), non_coal_mine: rng.int(80, 500), hazardous_chemical: rng.int(60, 900), gas_network: rng.int(40, 200),
      water_network: rng.int(40, 200), drainage: rng.int(15, 80), bridge: rng.int(5, 30), utility_tunnel: rng.int(10, 60), large_complex: rng.int(200, 2000),
    }[industry]
    // One drawn level, and every static factor consistent with it (none more severe), so the
    // province looks like a real one: mostly blue and yellow, some orange, a few red.
    const level = weightedColor(rng)
    const band = STATIC_BANDS[level]
    enterprises.push({
      id, name, industry, regionId, location,
      profile: {
        staticRiskLevel: level,
        majorHazardLevel: industry === 'hazardous_chemical' && rng.next() < 0.7 ? rng.int(band.hazardMin, 5) : null,
        employees,
        assessmentScore: rng.int(band.assessmentMin, 100),
        worstLec: rng.int(20, band.lecMax + 1),
        openHiddenDangers: rng.int(0, 6),
        overdueMajorHiddenDangers: rng.next() < 0.05 ? 1 : 0,
      },
      contacts: [
        { role: 'duty', name: person(rng), phone: phone(rng) },
        { role: 'safety_manager', name: person(rng), phone: phone(rng) },
      ],
    })
    const gwId = `gw-${id}`
    gateways.push({ id: gwId, enterpriseId: id, token: gatewayToken(opts.secret, gwId) })
    const perCode = new Map<string, number>()
    for (const sp of sensorSpecs(industry, rng)) {
      const n = (perCode.get(sp.code) ?? 0) + 1
      perCode.set(sp.code, n)
      const sensor: Sensor = {
        id: `${id}-${sp.code}-${String(n).padStart(2, '0')}`,
        enterpriseId: id,
        type: sp.type,
        name: sp.name,
        location: [r6(location[0] + (rng.next() - 0.5) * 0.004), r6(location[1] + (rng.next() - 0.5) * 0.004)],
      }
      if (sp.role) sensor.role = sp.role
      if (sp.gas) sensor.gas = sp.gas
      if (sp.thresholds) sensor.thresholds = sp.thresholds
      if (sp.key) sensor.key = true
      sensors.push(sensor)
    }
  }
  const users: User[] = [
    { username: 'admin', password: DEMO_USERS.admin.password, role: 'admin', name: '系统管理员' },
    { username: 'duty', password: DEMO_USERS.duty.password, role: 'duty', name: '省应急值班员' },
    { username: 'viewer', password: DEMO_USERS.viewer.password, role: 'viewer', name: '观察员' },
    { username: 'county', password: DEMO_USERS.county.password, role: 'duty', name: '甲市东城区值班员', regionIds: [counties[0]!] },
  ]
  return { regions, enterprises, sensors, gateways, users }
}
