// Minimal PNG decoder (8-bit RGB/RGBA, non-interlaced — what Chromium screenshots produce) with
// node:zlib, so the browser tests can check real pixels without another package.
import { inflateSync } from 'node:zlib'

export interface Image { width: number; height: number; rgba: Uint8Array }

export function decodePng(buf: Buffer): Image {
  if (buf.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG')
  let off = 8
  let width = 0, height = 0, colorType = 0, bitDepth = 0, interlace = 0
  const idat: Buffer[] = []
  while (off < buf.length) {
    const len = buf.readUInt32BE(off)
    const type = buf.toString('latin1', off + 4, off + 8)
    const data = buf.subarray(off + 8, off + 8 + len)
    if (type === 'IHDR') { width = data.readUInt32BE(0); height = data.readUInt32BE(4); bitDepth = data[8]!; colorType = data[9]!; interlace = data[12]! }
    else if (type === 'IDAT') idat.push(data)
    else if (type === 'IEND') break
    off += 12 + len
  }
  if (bitDepth !== 8 || (colorType !== 2 && colorType !== 6) || interlace !== 0) throw new Error(`unsupported PNG (depth ${bitDepth}, colour type ${colorType}, interlace ${interlace})`)
  const bpp = colorType === 6 ? 4 : 3
  const raw = inflateSync(Buffer.concat(idat))
  const stride = width * bpp
  const out = new Uint8Array(width * height * 4)
  let prev = new Uint8Array(stride)
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1))
    const cur = new Uint8Array(stride)
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? cur[i - bpp]! : 0
      const b = prev[i]!
      const c = i >= bpp ? prev[i - bpp]! : 0
      let v = line[i]!
      if (filter === 1) v += a
      else if (filter === 2) v += b
      else if (filter === 3) v += (a + b) >> 1
      else if (filter === 4) { const p = a + b - c; const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c); v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c }
      cur[i] = v & 0xff
    }
    for (let x = 0; x < width; x++) {
      out[(y * width + x) * 4] = cur[x * bpp]!
      out[(y * width + x) * 4 + 1] = cur[x * bpp + 1]!
      out[(y * width + x) * 4 + 2] = cur[x * bpp + 2]!
      out[(y * width + x) * 4 + 3] = bpp === 4 ? cur[x * bpp + 3]! : 255
    }
    prev = cur
  }
  return { width, height, rgba: out }
}

/** Pixels whose colour a predicate accepts. */
export function countPixels(img: Image, pred: (r: number, g: number, b: number) => boolean): number {
  let n = 0
  for (let i = 0; i < img.rgba.length; i += 4) if (pred(img.rgba[i]!, img.rgba[i + 1]!, img.rgba[i + 2]!)) n++
  return n
}

/** Region fills are national colours at alpha 120/255 over a near-black background: classify by hue. */
export const looksLike = {
  red: (r: number, g: number, b: number) => r > 90 && g < 0.35 * r && b < 0.4 * r,
  orange: (r: number, g: number, b: number) => r > 100 && g > 0.4 * r && g < 0.72 * r && b < 0.35 * r,
  yellow: (r: number, g: number, b: number) => r > 100 && g > 0.75 * r && b < 0.45 * r,
  blue: (r: number, g: number, b: number) => b > 100 && r < 0.45 * b && g < 0.8 * b && g > 0.2 * b,
}
