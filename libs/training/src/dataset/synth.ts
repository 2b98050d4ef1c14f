import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { DomainError } from '@detsearch/common';
import { join, resolve } from 'node:path';
import { encodePng } from './image-io';
import { DataRng } from './rng';
import type { LabelBox, RgbImage } from './types';

/** The synthetic dataset's classes, in label order. */
export const SYNTH_CLASSES: readonly string[] = ['circle', 'square', 'triangle', 'cross', 'ring', 'star'];

export interface SynthOptions {
  images?: number;
  seed?: number;
  /** Square image side in pixels. */
  size?: number;
  valFraction?: number;
}

export interface SynthResult {
  /** Absolute dataset folder. */
  path: string;
  /** Absolute path of its data.yaml. */
  yaml: string;
  train: number;
  val: number;
  classes: string[];
  /** Labelled objects over all images. */
  boxes: number;
}

type Vec = [number, number];
type Sdf = (x: number, y: number) => number;

const YAML_HEADER = '# detsearch synthetic shapes';

/**
 * An existing synthetic dataset is replaced whole (stale images of a larger run would otherwise
 * stay in its splits); any other non-empty folder is refused rather than mixed into.
 */
async function prepareOutDir(path: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(path);
  } catch {
    return;
  }
  if (entries.length === 0) return;
  const yaml = await readFile(`${path}/data.yaml`, 'utf8').catch(() => '');
  if (!yaml.startsWith(YAML_HEADER))
    throw new DomainError(
      'DATASET.OUT_NOT_EMPTY',
      `--out '${path}' is not empty and holds no synthetic dataset: choose an empty or new folder`,
      'out',
    );
  for (const d of ['images', 'labels']) await rm(`${path}/${d}`, { recursive: true, force: true });
}

const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);
// Math.hypot is several times slower than this in V8.
const dist = (dx: number, dy: number) => Math.sqrt(dx * dx + dy * dy);
const clamp255 = (x: number) => (x < 0 ? 0 : x > 255 ? 255 : Math.round(x));

/** Signed distance to a simple polygon (negative inside): Inigo Quilez's sdPolygon. */
function polygonSdf(v: Vec[]): Sdf {
  // Flat coordinate arrays: destructuring tuples in this hot loop costs more than the maths.
  const n = v.length;
  const xs = Float64Array.from(v, (p) => p[0]);
  const ys = Float64Array.from(v, (p) => p[1]);
  return (px, py) => {
    let d = (px - xs[0]!) ** 2 + (py - ys[0]!) ** 2;
    let s = 1;
    for (let i = 0, j = n - 1; i < n; j = i, i++) {
      const xi = xs[i]!;
      const yi = ys[i]!;
      const xj = xs[j]!;
      const yj = ys[j]!;
      const ex = xj - xi;
      const ey = yj - yi;
      const wx = px - xi;
      const wy = py - yi;
      const t = clamp01((wx * ex + wy * ey) / (ex * ex + ey * ey));
      const bx = wx - ex * t;
      const by = wy - ey * t;
      d = Math.min(d, bx * bx + by * by);
      const c1 = py >= yi;
      const c2 = py < yj;
      const c3 = ex * wy > ey * wx;
      if ((c1 && c2 && c3) || (!c1 && !c2 && !c3)) s = -s;
    }
    return s * Math.sqrt(d);
  };
}

function rotated(points: Vec[], cx: number, cy: number, r: number, angle: number): Vec[] {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  return points.map(([x, y]) => [cx + r * (x * c - y * s), cy + r * (x * s + y * c)]);
}

function regular(n: number, radii: number[]): Vec[] {
  const out: Vec[] = [];
  for (let i = 0; i < n * radii.length; i++) {
    const a = (2 * Math.PI * i) / (n * radii.length) - Math.PI / 2;
    const r = radii[i % radii.length]!;
    out.push([r * Math.cos(a), r * Math.sin(a)]);
  }
  return out;
}

function crossPoints(arm: number): Vec[] {
  const a = arm / 2;
  return [
    [-a, -1],
    [a, -1],
    [a, -a],
    [1, -a],
    [1, a],
    [a, a],
    [a, 1],
    [-a, 1],
    [-a, a],
    [-1, a],
    [-1, -a],
    [-a, -a],
  ];
}

interface Shape {
  sdf: Sdf;
  /** Tight box in pixels. */
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** Builds class `cls` centred at (cx, cy) with circumradius r (pixels). */
function makeShape(cls: number, cx: number, cy: number, r: number, angle: number, rng: DataRng): Shape {
  const box = (pts: Vec[]): Shape => {
    const xs = pts.map((p) => p[0]);
    const ys = pts.map((p) => p[1]);
    return {
      sdf: polygonSdf(pts),
      x1: Math.min(...xs),
      y1: Math.min(...ys),
      x2: Math.max(...xs),
      y2: Math.max(...ys),
    };
  };
  const round = (sdf: Sdf): Shape => ({ sdf, x1: cx - r, y1: cy - r, x2: cx + r, y2: cy + r });
  switch (SYNTH_CLASSES[cls]) {
    case 'circle':
      return round((x, y) => dist(x - cx, y - cy) - r);
    case 'ring': {
      const t = r * rng.uniform(0.28, 0.42);
      return round((x, y) => Math.abs(dist(x - cx, y - cy) - (r - t / 2)) - t / 2);
    }
    case 'square':
      return box(rotated(regular(4, [1]), cx, cy, r, angle));
    case 'triangle':
      return box(rotated(regular(3, [1]), cx, cy, r, angle));
    case 'cross':
      return box(rotated(crossPoints(rng.uniform(0.34, 0.46)), cx, cy, r, angle));
    default:
      return box(rotated(regular(5, [1, rng.uniform(0.4, 0.5)]), cx, cy, r, angle));
  }
}

function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const f = (n: number) => {
    const k = (n + h * 6) % 6;
    return v - v * s * Math.max(0, Math.min(k, 4 - k, 1));
  };
  return [f(5) * 255, f(3) * 255, f(1) * 255];
}

/** Alpha-blends `colour` where the shape covers pixels; coverage from the distance gives anti-aliasing. */
function paint(img: Float32Array, size: number, shape: Shape, colour: number[], opacity = 1): void {
  const x0 = Math.max(0, Math.floor(shape.x1) - 1);
  const y0 = Math.max(0, Math.floor(shape.y1) - 1);
  const x1 = Math.min(size - 1, Math.ceil(shape.x2) + 1);
  const y1 = Math.min(size - 1, Math.ceil(shape.y2) + 1);
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const a = clamp01(0.5 - shape.sdf(x + 0.5, y + 0.5)) * opacity;
      if (a <= 0) continue;
      const o = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) img[o + c] = img[o + c]! * (1 - a) + colour[c]! * a;
    }
  }
}

function luminance(c: number[]): number {
  return 0.299 * c[0]! + 0.587 * c[1]! + 0.114 * c[2]!;
}

function meanColour(img: Float32Array, size: number, s: Shape): number[] {
  const sum = [0, 0, 0];
  let n = 0;
  for (let y = Math.max(0, Math.floor(s.y1)); y < Math.min(size, Math.ceil(s.y2)); y++)
    for (let x = Math.max(0, Math.floor(s.x1)); x < Math.min(size, Math.ceil(s.x2)); x++) {
      const o = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) sum[c] += img[o + c]!;
      n++;
    }
  return sum.map((v) => v / Math.max(1, n));
}

/** Smooth value noise in [-1, 1] on a coarse random grid. */
function valueNoise(rng: DataRng, size: number, cells: number): Float32Array {
  const g = cells + 1;
  const grid = Array.from({ length: g * g }, () => rng.uniform(-1, 1));
  const out = new Float32Array(size * size);
  const smooth = (t: number) => t * t * (3 - 2 * t);
  for (let y = 0; y < size; y++) {
    const fy = (y / size) * cells;
    const iy = Math.floor(fy);
    const ty = smooth(fy - iy);
    for (let x = 0; x < size; x++) {
      const fx = (x / size) * cells;
      const ix = Math.floor(fx);
      const tx = smooth(fx - ix);
      const a = grid[iy * g + ix]!;
      const b = grid[iy * g + ix + 1]!;
      const c = grid[(iy + 1) * g + ix]!;
      const d = grid[(iy + 1) * g + ix + 1]!;
      out[y * size + x] = (a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty;
    }
  }
  return out;
}

function background(rng: DataRng, size: number): Float32Array {
  const img = new Float32Array(size * size * 3);
  const base = hsvToRgb(rng.random(), rng.uniform(0, 0.5), rng.uniform(0.2, 0.9));
  const tint = hsvToRgb(rng.random(), rng.uniform(0, 0.6), rng.uniform(0.2, 0.9));
  const gAngle = rng.uniform(0, 2 * Math.PI);
  const [gx, gy] = [Math.cos(gAngle), Math.sin(gAngle)];
  const noise = valueNoise(rng, size, rng.int(2, 8));
  const noiseAmp = rng.uniform(5, 45);
  const pattern = rng.pick(['plain', 'stripes', 'checker', 'blotches'] as const);
  const period = rng.uniform(6, 30) * (size / 160);
  const pAngle = rng.uniform(0, Math.PI);
  const [px, py] = [Math.cos(pAngle), Math.sin(pAngle)];
  const pAmp = rng.uniform(8, 30);
  const blotch = pattern === 'blotches' ? valueNoise(rng, size, rng.int(6, 14)) : null;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const t = clamp01(0.5 + ((x - size / 2) * gx + (y - size / 2) * gy) / size);
      let v = noise[y * size + x]! * noiseAmp;
      if (pattern === 'stripes') v += Math.sin((2 * Math.PI * (x * px + y * py)) / period) * pAmp;
      else if (pattern === 'checker')
        v +=
          ((Math.floor((x * px + y * py) / period) + Math.floor((y * px - x * py) / period)) & 1 ? 1 : -1) *
          pAmp *
          0.6;
      else if (blotch) v += (blotch[y * size + x]! > 0.3 ? 1 : 0) * pAmp;
      const o = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) img[o + c] = base[c]! * (1 - t) + tint[c]! * t + v;
    }
  return img;
}

function iou(a: Shape, b: Shape): number {
  const iw = Math.max(0, Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1));
  const ih = Math.max(0, Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1));
  const inter = iw * ih;
  const area = (s: Shape) => (s.x2 - s.x1) * (s.y2 - s.y1);
  return inter / (area(a) + area(b) - inter);
}

/** Unlabelled clutter the detector must learn to ignore: lines, specks, elongated ellipses, thin bars. */
function distractor(rng: DataRng, size: number, scale: number): Shape {
  const cx = rng.uniform(0, size);
  const cy = rng.uniform(0, size);
  const kind = rng.pick(['line', 'speck', 'ellipse', 'bar'] as const);
  if (kind === 'line') {
    const len = rng.uniform(10, 60) * scale;
    const a = rng.uniform(0, Math.PI);
    const [dx, dy] = [(Math.cos(a) * len) / 2, (Math.sin(a) * len) / 2];
    const w = rng.uniform(0.6, 2) * scale;
    const [ax, ay, bx, by] = [cx - dx, cy - dy, cx + dx, cy + dy];
    return {
      sdf: (x, y) => {
        const t = clamp01(((x - ax) * (bx - ax) + (y - ay) * (by - ay)) / (len * len));
        return dist(x - ax - t * (bx - ax), y - ay - t * (by - ay)) - w / 2;
      },
      x1: Math.min(ax, bx) - w,
      y1: Math.min(ay, by) - w,
      x2: Math.max(ax, bx) + w,
      y2: Math.max(ay, by) + w,
    };
  }
  if (kind === 'speck') {
    const r = rng.uniform(0.8, 2.2) * scale;
    return { sdf: (x, y) => dist(x - cx, y - cy) - r, x1: cx - r, y1: cy - r, x2: cx + r, y2: cy + r };
  }
  const a = rng.uniform(4, 22) * scale;
  const b = a / rng.uniform(kind === 'bar' ? 4 : 2.2, kind === 'bar' ? 8 : 3.5);
  const ang = rng.uniform(0, Math.PI);
  if (kind === 'bar') {
    const pts = rotated(
      [
        [-1, -b / a],
        [1, -b / a],
        [1, b / a],
        [-1, b / a],
      ],
      cx,
      cy,
      a,
      ang,
    );
    const xs = pts.map((p) => p[0]);
    const ys = pts.map((p) => p[1]);
    return {
      sdf: polygonSdf(pts),
      x1: Math.min(...xs),
      y1: Math.min(...ys),
      x2: Math.max(...xs),
      y2: Math.max(...ys),
    };
  }
  const [c, s] = [Math.cos(ang), Math.sin(ang)];
  return {
    // Scaled-space approximation of the ellipse distance: exact enough for a one-pixel edge.
    sdf: (x, y) => {
      const u = (x - cx) * c + (y - cy) * s;
      const v = -(x - cx) * s + (y - cy) * c;
      return (dist(u / a, v / b) - 1) * b;
    },
    x1: cx - a,
    y1: cy - a,
    x2: cx + a,
    y2: cy + a,
  };
}

/**
 * Renders image `index` of the synthetic dataset for `seed`: textured background, clutter, 0-8
 * labelled shapes from tiny (about 10 px at 160) to large, overlapping up to IoU 0.3, pixel noise.
 * Each image has its own generator, so an image does not depend on the others.
 */
export function renderSynthImage(
  seed: number,
  index: number,
  size = 160,
): { image: RgbImage; boxes: LabelBox[] } {
  const rng = new DataRng(`detsearch-synth|${seed}|${index}`);
  const scale = size / 160;
  const img = background(rng, size);
  const clutter = rng.int(0, 6);
  for (let i = 0; i < clutter; i++) {
    const c = hsvToRgb(rng.random(), rng.uniform(0, 1), rng.uniform(0.1, 1));
    paint(img, size, distractor(rng, size, scale), c, rng.uniform(0.5, 1));
  }
  // About 5% background images, as Ultralytics recommends for fewer false positives.
  const count = rng.chance(0.05) ? 0 : rng.pick([1, 1, 2, 2, 3, 3, 4, 4, 5, 6, 7, 8]);
  const placed: { shape: Shape; cls: number; r: number; angle: number }[] = [];
  for (let i = 0, attempts = 0; i < count && attempts < 60; attempts++) {
    const cls = rng.int(0, SYNTH_CLASSES.length - 1);
    // Log-uniform circumradius: diameters from about 10 px to 96 px at 160 px.
    const r = Math.exp(rng.uniform(Math.log(5), Math.log(48))) * scale;
    const cx = rng.uniform(r, size - r);
    const cy = rng.uniform(r, size - r);
    const angle = rng.uniform(0, 2 * Math.PI);
    const shape = makeShape(cls, cx, cy, r, angle, rng);
    if (placed.some((p) => iou(p.shape, shape) > 0.3)) continue;
    placed.push({ shape, cls, r, angle });
    i++;
  }
  // Large first, so small objects stay visible on top.
  placed.sort((a, b) => b.r - a.r);
  const boxes: LabelBox[] = [];
  for (const p of placed) {
    const bg = luminance(meanColour(img, size, p.shape));
    let colour = hsvToRgb(rng.random(), rng.uniform(0.4, 1), rng.uniform(0.3, 1));
    // Keep a minimum contrast to the local background: learnable, still varied.
    for (let k = 0; k < 8 && Math.abs(luminance(colour) - bg) < 45; k++)
      colour = hsvToRgb(
        rng.random(),
        rng.uniform(0.4, 1),
        bg > 128 ? rng.uniform(0.05, 0.45) : rng.uniform(0.7, 1),
      );
    paint(img, size, p.shape, colour);
    const x1 = Math.max(0, p.shape.x1);
    const y1 = Math.max(0, p.shape.y1);
    const x2 = Math.min(size, p.shape.x2);
    const y2 = Math.min(size, p.shape.y2);
    boxes.push({
      cls: p.cls,
      cx: (x1 + x2) / 2 / size,
      cy: (y1 + y2) / 2 / size,
      w: (x2 - x1) / size,
      h: (y2 - y1) / size,
    });
  }
  const sigma = rng.uniform(0, 10);
  // Sensor noise: a seeded table of normals indexed by xorshift; alea per pixel is 10x slower.
  const table = Float32Array.from({ length: 4096 }, () => rng.normal() * sigma);
  let state = (rng.random() * 0xffffffff) | 1;
  const data = new Uint8Array(size * size * 3);
  for (let i = 0; i < data.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    data[i] = clamp255(img[i]! + table[state & 4095]!);
  }
  return { image: { width: size, height: size, data }, boxes };
}

export function formatLabelRows(boxes: LabelBox[]): string {
  return boxes
    .map((b) => `${b.cls} ${b.cx.toFixed(6)} ${b.cy.toFixed(6)} ${b.w.toFixed(6)} ${b.h.toFixed(6)}\n`)
    .join('');
}

/**
 * Writes a deterministic synthetic detection dataset in the Ultralytics YOLO format:
 * `images/{train,val}/*.png`, `labels/{train,val}/*.txt` and a data.yaml with relative paths
 * (no `path` key: Ultralytics then resolves against the yaml's folder). Same options, same bytes.
 */
export async function synthDataset(outDir: string, opts: SynthOptions = {}): Promise<SynthResult> {
  const images = opts.images ?? 300;
  const seed = opts.seed ?? 0;
  const size = opts.size ?? 160;
  const valFraction = opts.valFraction ?? 0.2;
  if (!Number.isInteger(images) || images < 1) throw new RangeError('images must be a positive integer');
  if (!Number.isInteger(size) || size < 32) throw new RangeError('size must be an integer >= 32');
  if (!(valFraction >= 0 && valFraction < 1)) throw new RangeError('valFraction must be in [0, 1)');
  const path = resolve(outDir);
  const val = images > 1 ? Math.max(valFraction > 0 ? 1 : 0, Math.round(images * valFraction)) : 0;
  const train = images - val;
  await prepareOutDir(path);
  for (const split of ['train', 'val']) {
    await mkdir(join(path, 'images', split), { recursive: true });
    await mkdir(join(path, 'labels', split), { recursive: true });
  }
  let boxes = 0;
  for (let i = 0; i < images; i++) {
    const split = i < train ? 'train' : 'val';
    const name = String(i).padStart(6, '0');
    const { image, boxes: b } = renderSynthImage(seed, i, size);
    boxes += b.length;
    await writeFile(join(path, 'images', split, `${name}.png`), encodePng(image));
    await writeFile(join(path, 'labels', split, `${name}.txt`), formatLabelRows(b));
  }
  const yaml =
    `${YAML_HEADER}: seed ${seed}, ${images} images of ${size} px\n` +
    `train: images/train\nval: images/val\nnc: ${SYNTH_CLASSES.length}\n` +
    `names: [${SYNTH_CLASSES.join(', ')}]\n`;
  await writeFile(join(path, 'data.yaml'), yaml);
  return { path, yaml: join(path, 'data.yaml'), train, val, classes: [...SYNTH_CLASSES], boxes };
}
