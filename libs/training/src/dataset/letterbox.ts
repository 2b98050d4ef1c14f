import type { LabelBox, RgbImage } from './types';

/** Ultralytics' padding grey. */
export const PAD_VALUE = 114;

export type ResizeMode = 'linear' | 'area';

/** Per output index: first source index and the weights of consecutive source pixels. */
interface Taps {
  start: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  stride: number;
}

function taps(src: number, dst: number, mode: ResizeMode): Taps {
  const scale = src / dst;
  if (mode === 'area' && scale > 1) {
    // Box filter over the source span of each output pixel (OpenCV INTER_AREA for downscaling).
    const stride = Math.ceil(scale) + 1;
    const start = new Int32Array(dst);
    const count = new Int32Array(dst);
    const weights = new Float32Array(dst * stride);
    for (let d = 0; d < dst; d++) {
      const lo = d * scale;
      const hi = Math.min(src, (d + 1) * scale);
      const s0 = Math.floor(lo);
      start[d] = s0;
      let k = 0;
      for (let s = s0; s < hi && k < stride; s++, k++)
        weights[d * stride + k] = (Math.min(hi, s + 1) - Math.max(lo, s)) / scale;
      count[d] = k;
    }
    return { start, count, weights, stride };
  }
  // Bilinear with half-pixel centres, edges clamped (OpenCV INTER_LINEAR).
  const start = new Int32Array(dst);
  const count = new Int32Array(dst).fill(2);
  const weights = new Float32Array(dst * 2);
  for (let d = 0; d < dst; d++) {
    const x = Math.min(src - 1, Math.max(0, (d + 0.5) * scale - 0.5));
    const i0 = Math.min(src - 2, Math.floor(x));
    if (src === 1) {
      start[d] = 0;
      count[d] = 1;
      weights[d * 2] = 1;
      continue;
    }
    const f = x - i0;
    start[d] = i0;
    weights[d * 2] = 1 - f;
    weights[d * 2 + 1] = f;
  }
  return { start, count, weights, stride: 2 };
}

/** Separable resize of an RGB image (rows first, then columns). */
export function resizeImage(
  img: RgbImage,
  width: number,
  height: number,
  mode: ResizeMode = 'linear',
): RgbImage {
  if (width === img.width && height === img.height) return { width, height, data: img.data.slice() };
  const tx = taps(img.width, width, mode);
  const ty = taps(img.height, height, mode);
  const tmp = new Float32Array(width * img.height * 3);
  const src = img.data;
  for (let y = 0; y < img.height; y++) {
    const row = y * img.width * 3;
    for (let x = 0; x < width; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      const s0 = tx.start[x]!;
      for (let k = 0; k < tx.count[x]!; k++) {
        const w = tx.weights[x * tx.stride + k]!;
        const o = row + (s0 + k) * 3;
        r += src[o]! * w;
        g += src[o + 1]! * w;
        b += src[o + 2]! * w;
      }
      const t = (y * width + x) * 3;
      tmp[t] = r;
      tmp[t + 1] = g;
      tmp[t + 2] = b;
    }
  }
  const out = new Uint8Array(width * height * 3);
  const rowLen = width * 3;
  const acc = new Float32Array(rowLen);
  for (let y = 0; y < height; y++) {
    acc.fill(0);
    const s0 = ty.start[y]!;
    for (let k = 0; k < ty.count[y]!; k++) {
      const w = ty.weights[y * ty.stride + k]!;
      const srow = (s0 + k) * rowLen;
      for (let i = 0; i < rowLen; i++) acc[i] += tmp[srow + i]! * w;
    }
    const o = y * rowLen;
    // Uint8Array assignment truncates; +0.5 rounds (values are non-negative).
    for (let i = 0; i < rowLen; i++) out[o + i] = Math.min(255, acc[i]! + 0.5);
  }
  return { width, height, data: out };
}

/**
 * Ultralytics load_image: scales so the long side equals `size` (aspect kept), area filter when
 * shrinking for evaluation, bilinear otherwise. Returns the image and the ratio applied.
 */
export function resizeLongSide(
  img: RgbImage,
  size: number,
  augment: boolean,
): { image: RgbImage; ratio: number } {
  const r = size / Math.max(img.width, img.height);
  if (r === 1) return { image: img, ratio: 1 };
  const w = Math.min(size, Math.max(1, Math.ceil(img.width * r)));
  const h = Math.min(size, Math.max(1, Math.ceil(img.height * r)));
  return { image: resizeImage(img, w, h, augment || r > 1 ? 'linear' : 'area'), ratio: r };
}

export interface Letterboxed {
  image: RgbImage;
  /** Scale applied to the source image. */
  ratio: number;
  /** Left and top padding in pixels. */
  padX: number;
  padY: number;
  /** Size of the resized image inside the padding. */
  contentWidth: number;
  contentHeight: number;
}

/**
 * Ultralytics letterbox to a `size` x `size` square: resize keeping the aspect ratio, centre,
 * pad with grey 114 (the odd pixel of padding goes right/bottom as `round(d -/+ 0.1)` does).
 */
export function letterbox(img: RgbImage, size: number, pad = PAD_VALUE): Letterboxed {
  const ratio = Math.min(size / img.width, size / img.height);
  const w = Math.min(size, Math.round(img.width * ratio));
  const h = Math.min(size, Math.round(img.height * ratio));
  const resized =
    w === img.width && h === img.height ? img : resizeImage(img, w, h, ratio < 1 ? 'area' : 'linear');
  // max(0, .) also turns round(-0.1) = -0 into 0.
  const padX = Math.max(0, Math.round((size - w) / 2 - 0.1));
  const padY = Math.max(0, Math.round((size - h) / 2 - 0.1));
  const data = new Uint8Array(size * size * 3).fill(pad);
  for (let y = 0; y < h; y++)
    data.set(resized.data.subarray(y * w * 3, (y + 1) * w * 3), ((y + padY) * size + padX) * 3);
  return { image: { width: size, height: size, data }, ratio, padX, padY, contentWidth: w, contentHeight: h };
}

/** Maps labels normalized to the source image into the letterboxed square, normalized to it. */
export function letterboxBoxes(boxes: LabelBox[], lb: Letterboxed): LabelBox[] {
  const s = lb.image.width;
  const sw = lb.contentWidth;
  const sh = lb.contentHeight;
  return boxes.map((b) => ({
    cls: b.cls,
    cx: (b.cx * sw + lb.padX) / s,
    cy: (b.cy * sh + lb.padY) / s,
    w: (b.w * sw) / s,
    h: (b.h * sh) / s,
  }));
}
