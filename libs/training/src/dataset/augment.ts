import { PAD_VALUE } from './letterbox';
import type { DataRng } from './rng';
import type { LabelBox, RgbImage } from './types';

/** A labelled box in pixel corner form, the form geometric augmentation works in. */
export interface PixelBox {
  cls: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** Augmentation hyperparameters, named and scaled as in Ultralytics' hyp.*.yaml. */
export interface AugmentOptions {
  hsvH: number;
  hsvS: number;
  hsvV: number;
  /** Rotation range in degrees (+/-). */
  degrees: number;
  /** Translation as a fraction of the image side (+/-). */
  translate: number;
  /** Scale gain (+/-): 0.5 draws scales in [0.5, 1.5]. */
  scale: number;
  /** Shear range in degrees (+/-). */
  shear: number;
  flipLR: number;
  flipUD: number;
  /** Probability of a 4-image mosaic. */
  mosaic: number;
}

/** hyp.scratch-low.yaml's augmentation, mosaic included (probability 1). */
export const HYP_SCRATCH_LOW: Readonly<AugmentOptions> = {
  hsvH: 0.015,
  hsvS: 0.7,
  hsvV: 0.4,
  degrees: 0,
  translate: 0.1,
  scale: 0.5,
  shear: 0,
  flipLR: 0.5,
  flipUD: 0,
  mosaic: 1,
};

/** The loader's default when augmentation is on: hyp.scratch-low without mosaic (an opt-in). */
export const DEFAULT_AUGMENT: Readonly<AugmentOptions> = { ...HYP_SCRATCH_LOW, mosaic: 0 };

export function toPixelBoxes(
  boxes: LabelBox[],
  width: number,
  height: number,
  padX = 0,
  padY = 0,
): PixelBox[] {
  return boxes.map((b) => ({
    cls: b.cls,
    x1: (b.cx - b.w / 2) * width + padX,
    y1: (b.cy - b.h / 2) * height + padY,
    x2: (b.cx + b.w / 2) * width + padX,
    y2: (b.cy + b.h / 2) * height + padY,
  }));
}

export function toLabelBoxes(boxes: PixelBox[], width: number, height: number): LabelBox[] {
  return boxes.map((b) => ({
    cls: b.cls,
    cx: (b.x1 + b.x2) / 2 / width,
    cy: (b.y1 + b.y2) / 2 / height,
    w: (b.x2 - b.x1) / width,
    h: (b.y2 - b.y1) / height,
  }));
}

/**
 * cv2.warpAffine with bilinear sampling and a constant border: output pixel (x, y) samples the
 * source at M^-1 (x, y), pixel centres on integers as OpenCV does. `m` is the forward 2x3 matrix.
 */
export function warpAffine(
  img: RgbImage,
  m: readonly number[],
  outW: number,
  outH: number,
  border = PAD_VALUE,
): RgbImage {
  const [a, b, c, d, e, f] = m as [number, number, number, number, number, number];
  const det = a * e - b * d;
  const ia = e / det;
  const ib = -b / det;
  const ic = (b * f - c * e) / det;
  const id = -d / det;
  const ie = a / det;
  const iff = (c * d - a * f) / det;
  const { width: w, height: h, data: src } = img;
  const out = new Uint8Array(outW * outH * 3);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const sx = ia * x + ib * y + ic;
      const sy = id * x + ie * y + iff;
      const o = (y * outW + x) * 3;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) {
        out[o] = out[o + 1] = out[o + 2] = border;
        continue;
      }
      const fx = sx - x0;
      const fy = sy - y0;
      const w00 = (1 - fx) * (1 - fy);
      const w01 = fx * (1 - fy);
      const w10 = (1 - fx) * fy;
      const w11 = fx * fy;
      const p00 = (y0 * w + x0) * 3;
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h) {
        // Interior fast path: all four neighbours inside.
        const p10 = p00 + w * 3;
        for (let ch = 0; ch < 3; ch++)
          out[o + ch] =
            src[p00 + ch]! * w00 +
            src[p00 + 3 + ch]! * w01 +
            src[p10 + ch]! * w10 +
            src[p10 + 3 + ch]! * w11 +
            0.5;
        continue;
      }
      const in00 = x0 >= 0 && y0 >= 0;
      const in01 = x0 + 1 < w && y0 >= 0;
      const in10 = x0 >= 0 && y0 + 1 < h;
      const in11 = x0 + 1 < w && y0 + 1 < h;
      const p01 = p00 + 3;
      const p10 = p00 + w * 3;
      const p11 = p10 + 3;
      for (let ch = 0; ch < 3; ch++) {
        const v =
          (in00 ? src[p00 + ch]! : border) * w00 +
          (in01 ? src[p01 + ch]! : border) * w01 +
          (in10 ? src[p10 + ch]! : border) * w10 +
          (in11 ? src[p11 + ch]! : border) * w11;
        out[o + ch] = v + 0.5;
      }
    }
  }
  return { width: outW, height: outH, data: out };
}

/** 3x3 row-major matrix product. */
function mul(p: number[], q: number[]): number[] {
  const r = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) r[i * 3 + j] += p[i * 3 + k]! * q[k * 3 + j]!;
  return r;
}

/**
 * Ultralytics box_candidates: keep boxes wider and taller than 2 px that keep more than 10% of their
 * (scaled) area and an aspect ratio under 100 after the warp.
 */
function boxCandidate(before: PixelBox, after: PixelBox, s: number): boolean {
  const w1 = (before.x2 - before.x1) * s;
  const h1 = (before.y2 - before.y1) * s;
  const w2 = after.x2 - after.x1;
  const h2 = after.y2 - after.y1;
  const eps = 1e-16;
  const ar = Math.max(w2 / (h2 + eps), h2 / (w2 + eps));
  return w2 > 2 && h2 > 2 && (w2 * h2) / (w1 * h1 + eps) > 0.1 && ar < 100;
}

/**
 * Ultralytics random_perspective without the perspective term: centre, rotate+scale, shear, then
 * translate; the output is the input side plus 2*border (border -S/2 turns a 2S mosaic into S).
 * Boxes follow their warped corners, are clipped to the output and filtered by boxCandidate.
 */
export function randomAffine(
  img: RgbImage,
  boxes: PixelBox[],
  rng: DataRng,
  hyp: Pick<AugmentOptions, 'degrees' | 'scale' | 'shear' | 'translate'>,
  border = 0,
): { image: RgbImage; boxes: PixelBox[] } {
  const width = img.width + 2 * border;
  const height = img.height + 2 * border;
  const C = [1, 0, -img.width / 2, 0, 1, -img.height / 2, 0, 0, 1];
  const angle = (rng.uniform(-hyp.degrees, hyp.degrees) * Math.PI) / 180;
  const s = rng.uniform(1 - hyp.scale, 1 + hyp.scale);
  // cv2.getRotationMatrix2D(center=(0, 0), angle, scale): positive angles turn counter-clockwise.
  const al = s * Math.cos(angle);
  const be = s * Math.sin(angle);
  const R = [al, be, 0, -be, al, 0, 0, 0, 1];
  const shx = Math.tan((rng.uniform(-hyp.shear, hyp.shear) * Math.PI) / 180);
  const shy = Math.tan((rng.uniform(-hyp.shear, hyp.shear) * Math.PI) / 180);
  const S = [1, shx, 0, shy, 1, 0, 0, 0, 1];
  const T = [
    1,
    0,
    rng.uniform(0.5 - hyp.translate, 0.5 + hyp.translate) * width,
    0,
    1,
    rng.uniform(0.5 - hyp.translate, 0.5 + hyp.translate) * height,
    0,
    0,
    1,
  ];
  const M = mul(T, mul(S, mul(R, C)));
  const identity = border === 0 && M.every((v, i) => Math.abs(v - [1, 0, 0, 0, 1, 0, 0, 0, 1][i]!) < 1e-12);
  const image = identity ? img : warpAffine(img, M.slice(0, 6), width, height);
  const out: PixelBox[] = [];
  for (const b of boxes) {
    const xs: number[] = [];
    const ys: number[] = [];
    for (const [x, y] of [
      [b.x1, b.y1],
      [b.x2, b.y2],
      [b.x1, b.y2],
      [b.x2, b.y1],
    ] as const) {
      xs.push(M[0]! * x + M[1]! * y + M[2]!);
      ys.push(M[3]! * x + M[4]! * y + M[5]!);
    }
    const nb: PixelBox = {
      cls: b.cls,
      x1: Math.min(width, Math.max(0, Math.min(...xs))),
      y1: Math.min(height, Math.max(0, Math.min(...ys))),
      x2: Math.min(width, Math.max(0, Math.max(...xs))),
      y2: Math.min(height, Math.max(0, Math.max(...ys))),
    };
    if (boxCandidate(b, nb, s)) out.push(nb);
  }
  return { image, boxes: out };
}

/**
 * Ultralytics augment_hsv in OpenCV's 8-bit HSV (hue 0..180): random gains in 1 +/- (h, s, v),
 * applied through lookup tables, in place.
 */
export function augmentHsv(img: RgbImage, rng: DataRng, hgain: number, sgain: number, vgain: number): void {
  if (!hgain && !sgain && !vgain) return;
  const rh = rng.uniform(-1, 1) * hgain + 1;
  const rs = rng.uniform(-1, 1) * sgain + 1;
  const rv = rng.uniform(-1, 1) * vgain + 1;
  const lutH = new Uint8Array(256);
  const lutS = new Uint8Array(256);
  const lutV = new Uint8Array(256);
  for (let x = 0; x < 256; x++) {
    lutH[x] = Math.floor((x * rh) % 180);
    lutS[x] = Math.min(255, Math.max(0, x * rs));
    lutV[x] = Math.min(255, Math.max(0, x * rv));
  }
  const d = img.data;
  for (let i = 0; i < d.length; i += 3) {
    const r = d[i]!;
    const g = d[i + 1]!;
    const b = d[i + 2]!;
    const v = Math.max(r, g, b);
    const diff = v - Math.min(r, g, b);
    let h = 0;
    if (diff > 0) {
      if (v === r) h = (60 * (g - b)) / diff;
      else if (v === g) h = 120 + (60 * (b - r)) / diff;
      else h = 240 + (60 * (r - g)) / diff;
      if (h < 0) h += 360;
    }
    const h8 = Math.round(h / 2) % 180;
    const s8 = v === 0 ? 0 : Math.round((255 * diff) / v);
    // HSV -> RGB by sector, inline: closures here would allocate per pixel.
    const hh = (lutH[h8]! * 2) / 60;
    const S = lutS[s8]! / 255;
    const V = lutV[v]!;
    const sector = Math.floor(hh) % 6;
    const f = hh - Math.floor(hh);
    const p = V * (1 - S);
    const q = V * (1 - S * f);
    const t = V * (1 - S * (1 - f));
    let R = V;
    let G = p;
    let B = q;
    if (sector === 0) {
      G = t;
      B = p;
    } else if (sector === 1) {
      R = q;
      G = V;
      B = p;
    } else if (sector === 2) {
      R = p;
      G = V;
      B = t;
    } else if (sector === 3) {
      R = p;
      G = q;
      B = V;
    } else if (sector === 4) {
      R = t;
      G = p;
      B = V;
    }
    d[i] = R + 0.5;
    d[i + 1] = G + 0.5;
    d[i + 2] = B + 0.5;
  }
}

export function flipHorizontal(img: RgbImage, boxes: PixelBox[]): PixelBox[] {
  const { width: w, height: h, data: d } = img;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w >> 1; x++) {
      const a = (y * w + x) * 3;
      const b = (y * w + (w - 1 - x)) * 3;
      for (let c = 0; c < 3; c++) {
        const t = d[a + c]!;
        d[a + c] = d[b + c]!;
        d[b + c] = t;
      }
    }
  }
  return boxes.map((bx) => ({ ...bx, x1: w - bx.x2, x2: w - bx.x1 }));
}

export function flipVertical(img: RgbImage, boxes: PixelBox[]): PixelBox[] {
  const { width: w, height: h, data: d } = img;
  const row = w * 3;
  const tmp = new Uint8Array(row);
  for (let y = 0; y < h >> 1; y++) {
    const a = y * row;
    const b = (h - 1 - y) * row;
    tmp.set(d.subarray(a, a + row));
    d.copyWithin(a, b, b + row);
    d.set(tmp, b);
  }
  return boxes.map((bx) => ({ ...bx, y1: h - bx.y2, y2: h - bx.y1 }));
}

/** A source image resized so its long side is the target size, with its normalized labels. */
export interface LoadedImage {
  image: RgbImage;
  boxes: LabelBox[];
}

/**
 * Ultralytics load_mosaic: four images around a random centre of a 2S x 2S grey canvas, labels
 * shifted with them and clipped to the canvas. The caller then warps it with border -S/2.
 */
export function mosaic4(
  tiles: LoadedImage[],
  size: number,
  rng: DataRng,
): { image: RgbImage; boxes: PixelBox[] } {
  const s2 = size * 2;
  const canvas = new Uint8Array(s2 * s2 * 3).fill(PAD_VALUE);
  const xc = Math.floor(rng.uniform(size / 2, (3 * size) / 2));
  const yc = Math.floor(rng.uniform(size / 2, (3 * size) / 2));
  const boxes: PixelBox[] = [];
  tiles.slice(0, 4).forEach((tile, i) => {
    const { width: w, height: h, data } = tile.image;
    let x1a: number, y1a: number, x2a: number, y2a: number, x1b: number, y1b: number;
    if (i === 0) {
      [x1a, y1a, x2a, y2a] = [Math.max(xc - w, 0), Math.max(yc - h, 0), xc, yc];
      [x1b, y1b] = [w - (x2a - x1a), h - (y2a - y1a)];
    } else if (i === 1) {
      [x1a, y1a, x2a, y2a] = [xc, Math.max(yc - h, 0), Math.min(xc + w, s2), yc];
      [x1b, y1b] = [0, h - (y2a - y1a)];
    } else if (i === 2) {
      [x1a, y1a, x2a, y2a] = [Math.max(xc - w, 0), yc, xc, Math.min(s2, yc + h)];
      [x1b, y1b] = [w - (x2a - x1a), 0];
    } else {
      [x1a, y1a, x2a, y2a] = [xc, yc, Math.min(xc + w, s2), Math.min(s2, yc + h)];
      [x1b, y1b] = [0, 0];
    }
    const cw = x2a - x1a;
    for (let y = 0; y < y2a - y1a; y++) {
      const src = ((y1b + y) * w + x1b) * 3;
      canvas.set(data.subarray(src, src + cw * 3), ((y1a + y) * s2 + x1a) * 3);
    }
    for (const b of toPixelBoxes(tile.boxes, w, h, x1a - x1b, y1a - y1b)) {
      const c = {
        cls: b.cls,
        x1: Math.min(s2, Math.max(0, b.x1)),
        y1: Math.min(s2, Math.max(0, b.y1)),
        x2: Math.min(s2, Math.max(0, b.x2)),
        y2: Math.min(s2, Math.max(0, b.y2)),
      };
      if (c.x2 > c.x1 && c.y2 > c.y1) boxes.push(c);
    }
  });
  return { image: { width: s2, height: s2, data: canvas }, boxes };
}
