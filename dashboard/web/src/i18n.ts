// Interface strings in Chinese (default) and English; `t(key)` looks up the current language and falls
// back to Chinese, then to the key itself. Pure and DOM-free apart from the optional persistence hook.
import type { Color } from '../../../core/contracts/levels.js'
import type { Industry } from '../../../core/contracts/registry.js'

export type Lang = 'zh' | 'en'

const zh = {
  'app.title': '安全生产风险监测预警系统', 'app.short': '预警',
  'login.title': '值班登录', 'login.user': '用户名', 'login.password': '密码', 'login.submit': '登录',
  'login.failed': '登录失败', 'login.tooMany': '尝试次数过多，请稍后再试',
  'hdr.enterprises': '企业风险', 'hdr.warnings': '未关闭预警', 'hdr.overdue': '超时未确认', 'hdr.offline': '离线传感器',
  'hdr.rps': '读数/秒', 'hdr.logout': '退出', 'hdr.sound': '开启声音', 'hdr.mute': '静音', 'hdr.unmute': '取消静音',
  'hdr.fullscreen': '大屏', 'hdr.exitFullscreen': '退出大屏', 'hdr.lang': 'EN',
  'conn.lost': '与服务器的连接已断开，正在重连…', 'conn.ok': '已连接', 'conn.reconnected': '已重新连接',
  'conn.auth': '登录已失效，请重新登录',
  'map.level.city': '市', 'map.level.county': '县', 'map.level.grid': '网格', 'map.levelTitle': '区域层级',
  'map.industry': '行业', 'map.allIndustries': '全部行业', 'map.level': '风险等级', 'map.region': '区域', 'map.allRegions': '全部区域',
  'map.legend': '图例', 'map.enterprise': '企业', 'map.warningPulse': '未关闭预警', 'map.score': '风险值',
  'map.openWarnings': '未关闭预警', 'map.error': '底图加载失败', 'map.reset': '全域',
  'group.mine': '矿山', 'group.hazardous_chemical': '危险化学品', 'group.lifeline': '城市生命线',
  'desk.title': '预警处置台', 'desk.empty': '暂无预警', 'desk.search': '搜索企业/标题', 'desk.status': '状态',
  'desk.allOpen': '全部未关闭', 'desk.ack': '确认', 'desk.dispose': '处置', 'desk.close': '关闭',
  'desk.note': '处置说明', 'desk.outcome': '关闭结论', 'desk.submit': '提交', 'desk.cancel': '取消',
  'desk.history': '处置记录', 'desk.detail': '预警详情', 'desk.value': '数值', 'desk.threshold': '阈值', 'desk.peak': '峰值',
  'desk.raisedAt': '发生时间', 'desk.deadline': '确认时限', 'desk.overdue': '已超时', 'desk.occurrences': '次数',
  'desk.tier': '责任层级', 'desk.active': '持续中', 'desk.cleared': '已恢复', 'desk.actionFailed': '操作失败',
  'desk.openEnterprise': '查看企业', 'desk.by': '操作人',
  'status.open': '待确认', 'status.acknowledged': '已确认', 'status.disposing': '处置中', 'status.closed': '已关闭',
  'outcome.resolved': '已处置', 'outcome.false_alarm': '误报', 'outcome.maintenance': '设备检修',
  'ent.profile': '基本信息', 'ent.industry': '行业', 'ent.region': '所在区域', 'ent.staticRisk': '固有风险',
  'ent.majorHazard': '重大危险源', 'ent.none': '无', 'ent.employees': '从业人员', 'ent.contacts': '联系人',
  'ent.risk': '风险研判', 'ent.factors': '影响因素', 'ent.sensors': '监测点', 'ent.warnings': '预警',
  'ent.sensor': '传感器', 'ent.value': '当前值', 'ent.thresholds': '阈值', 'ent.state': '状态', 'ent.time': '时间',
  'ent.trend': '趋势', 'ent.close': '返回', 'ent.range.1h': '1小时(实时)', 'ent.range.6h': '6小时', 'ent.range.24h': '24小时', 'ent.range.7d': '7天',
  'ent.loading': '加载中…', 'ent.noData': '无数据',
  'state.normal': '正常', 'state.alarm': '报警', 'state.offline': '离线', 'state.unknown': '未知', 'state.fault': '故障',
  'err.generic': '出错了',
} as const

export type MsgKey = keyof typeof zh

const en: Record<MsgKey, string> = {
  'app.title': 'Safety Production Risk Monitoring', 'app.short': 'yujing',
  'login.title': 'Duty sign-in', 'login.user': 'Username', 'login.password': 'Password', 'login.submit': 'Sign in',
  'login.failed': 'Sign-in failed', 'login.tooMany': 'Too many attempts, try again later',
  'hdr.enterprises': 'Enterprise risk', 'hdr.warnings': 'Open warnings', 'hdr.overdue': 'Overdue ack', 'hdr.offline': 'Sensors offline',
  'hdr.rps': 'Readings/s', 'hdr.logout': 'Sign out', 'hdr.sound': 'Enable sound', 'hdr.mute': 'Mute', 'hdr.unmute': 'Unmute',
  'hdr.fullscreen': 'Wall', 'hdr.exitFullscreen': 'Exit wall', 'hdr.lang': '中文',
  'conn.lost': 'Connection to the server lost, reconnecting…', 'conn.ok': 'Connected', 'conn.reconnected': 'Reconnected',
  'conn.auth': 'Session expired, please sign in again',
  'map.level.city': 'City', 'map.level.county': 'County', 'map.level.grid': 'Grid', 'map.levelTitle': 'Regions',
  'map.industry': 'Industry', 'map.allIndustries': 'All industries', 'map.level': 'Risk level', 'map.region': 'Region', 'map.allRegions': 'All regions',
  'map.legend': 'Legend', 'map.enterprise': 'Enterprise', 'map.warningPulse': 'Open warning', 'map.score': 'Score',
  'map.openWarnings': 'Open warnings', 'map.error': 'Base map failed', 'map.reset': 'All',
  'group.mine': 'Mines', 'group.hazardous_chemical': 'Hazardous chemicals', 'group.lifeline': 'Urban lifelines',
  'desk.title': 'Warning desk', 'desk.empty': 'No warnings', 'desk.search': 'Search enterprise/title', 'desk.status': 'Status',
  'desk.allOpen': 'All not closed', 'desk.ack': 'Ack', 'desk.dispose': 'Dispose', 'desk.close': 'Close',
  'desk.note': 'Note', 'desk.outcome': 'Outcome', 'desk.submit': 'Submit', 'desk.cancel': 'Cancel',
  'desk.history': 'History', 'desk.detail': 'Warning', 'desk.value': 'Value', 'desk.threshold': 'Threshold', 'desk.peak': 'Peak',
  'desk.raisedAt': 'Raised', 'desk.deadline': 'Ack by', 'desk.overdue': 'Overdue', 'desk.occurrences': 'Occurrences',
  'desk.tier': 'Tier', 'desk.active': 'Active', 'desk.cleared': 'Cleared', 'desk.actionFailed': 'Action failed',
  'desk.openEnterprise': 'Enterprise', 'desk.by': 'By',
  'status.open': 'Open', 'status.acknowledged': 'Acknowledged', 'status.disposing': 'Disposing', 'status.closed': 'Closed',
  'outcome.resolved': 'Resolved', 'outcome.false_alarm': 'False alarm', 'outcome.maintenance': 'Maintenance',
  'ent.profile': 'Profile', 'ent.industry': 'Industry', 'ent.region': 'Region', 'ent.staticRisk': 'Static risk',
  'ent.majorHazard': 'Major hazard', 'ent.none': 'None', 'ent.employees': 'Employees', 'ent.contacts': 'Contacts',
  'ent.risk': 'Risk', 'ent.factors': 'Factors', 'ent.sensors': 'Sensors', 'ent.warnings': 'Warnings',
  'ent.sensor': 'Sensor', 'ent.value': 'Value', 'ent.thresholds': 'Thresholds', 'ent.state': 'State', 'ent.time': 'Time',
  'ent.trend': 'Trend', 'ent.close': 'Back', 'ent.range.1h': '1 h (live)', 'ent.range.6h': '6 h', 'ent.range.24h': '24 h', 'ent.range.7d': '7 d',
  'ent.loading': 'Loading…', 'ent.noData': 'No data',
  'state.normal': 'Normal', 'state.alarm': 'Alarm', 'state.offline': 'Offline', 'state.unknown': 'Unknown', 'state.fault': 'Fault',
  'err.generic': 'Something went wrong',
}

const LEVEL_ZH: Record<Color, string> = { red: '重大', orange: '较大', yellow: '一般', blue: '低' }
const LEVEL_EN: Record<Color, string> = { red: 'Major', orange: 'High', yellow: 'Moderate', blue: 'Low' }
const WLEVEL_ZH: Record<Color, string> = { red: '一级', orange: '二级', yellow: '三级', blue: '四级' }
const WLEVEL_EN: Record<Color, string> = { red: 'L1', orange: 'L2', yellow: 'L3', blue: 'L4' }
const IND_ZH: Record<Industry, string> = {
  coal_mine: '煤矿', non_coal_mine: '非煤矿山', hazardous_chemical: '危险化学品', gas_network: '燃气管网', water_network: '供水管网',
  drainage: '排水', bridge: '桥梁', utility_tunnel: '综合管廊', large_complex: '大型综合体',
}
const IND_EN: Record<Industry, string> = {
  coal_mine: 'Coal mine', non_coal_mine: 'Non-coal mine', hazardous_chemical: 'Hazardous chemicals', gas_network: 'Gas network',
  water_network: 'Water network', drainage: 'Drainage', bridge: 'Bridge', utility_tunnel: 'Utility tunnel', large_complex: 'Large complex',
}

let current: Lang = 'zh'
const listeners = new Set<(l: Lang) => void>()

export function lang(): Lang { return current }
export function setLang(l: Lang): void {
  if (l === current) return
  current = l
  for (const f of listeners) f(l)
}
export function onLangChange(f: (l: Lang) => void): () => void { listeners.add(f); return () => listeners.delete(f) }

export function t(key: MsgKey, l: Lang = current): string {
  return (l === 'en' ? en[key] : zh[key]) ?? zh[key] ?? key
}
/** Risk level name: 重大/较大/一般/低. */
export function levelName(c: Color, l: Lang = current): string { return (l === 'en' ? LEVEL_EN : LEVEL_ZH)[c] }
/** Warning level name: 一级…四级. */
export function warningLevelName(c: Color, l: Lang = current): string { return (l === 'en' ? WLEVEL_EN : WLEVEL_ZH)[c] }
export function industryName(i: string, l: Lang = current): string {
  const table = l === 'en' ? IND_EN : IND_ZH
  return (table as Record<string, string>)[i] ?? i
}
/** Date-time in Asia/Shanghai (the centre's time), compact. */
export function fmtTime(iso: string | number | null | undefined, l: Lang = current): string {
  if (iso === null || iso === undefined) return '—'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return '—'
  return new Intl.DateTimeFormat(l === 'en' ? 'en-GB' : 'zh-CN', {
    timeZone: 'Asia/Shanghai', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
  }).format(d)
}
export function fmtNumber(n: number | null | undefined, digits = 2): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—'
  return Number.isInteger(n) ? String(n) : n.toFixed(digits)
}
