import { describe, expect, it } from 'vitest';
import {
  type PixelBox,
  augmentHsv,
  flipHorizontal,
  flipVertical,
  mosaic4,
  randomAffine,
  toLabelBoxes,
  toPixelBoxes,
  warpAffine,
} from './augment';
import { PAD_VALUE } from './letterbox';
import { DataRng } from './rng';
import type { RgbImage } from './types';

/** Grey image with a white rectangle; returns the image and its box. */
function withRect(
  S: number,
  x1: number,
  y1: number,
  x2: number,
  y2: number,
): { img: RgbImage; box: PixelBox } {
  const data = new Uint8Array(S * S * 3).fill(60);
  for (let y = y1; y < y2; y++) data.fill(255, (y * S + x1) * 3, (y * S + x2) * 3);
  return { img: { width: S, height: S, data }, box: { cls: 1, x1, y1, x2, y2 } };
}

/** Tight box of the bright pixels. */
function brightBox(img: RgbImage): PixelBox {
  let [x1, y1, x2, y2] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let y = 0; y < img.height; y++)
    for (let x = 0; x < img.width; x++)
      if (img.data[(y * img.width + x) * 3]! > 200) {
        x1 = Math.min(x1, x);
        y1 = Math.min(y1, y);
        x2 = Math.max(x2, x + 1);
        y2 = Math.max(y2, y + 1);
      }
  return { cls: -1, x1, y1, x2, y2 };
}

describe('geometric augmentation', () => {
  it('warpAffine with the identity copies the image', () => {
    const { img } = withRect(32, 4, 5, 20, 9);
    expect(warpAffine(img, [1, 0, 0, 0, 1, 0], 32, 32).data).toEqual(img.data);
    // A shift by 40 px leaves only border.
    expect(new Set(warpAffine(img, [1, 0, 40, 0, 1, 0], 32, 32).data)).toEqual(new Set([PAD_VALUE]));
  });

  it('randomAffine moves labels with the pixels (scale and translate)', () => {
    const rng = new DataRng('affine');
    for (let k = 0; k < 10; k++) {
      const { img, box } = withRect(64, 20, 24, 44, 36);
      const out = randomAffine(img, [box], rng, { degrees: 0, shear: 0, scale: 0.5, translate: 0.1 });
      if (out.boxes.length === 0) continue; // pushed out or too small: dropped as Ultralytics does
      const seen = brightBox(out.image);
      const b = out.boxes[0]!;
      expect(b.cls).toBe(1);
      for (const key of ['x1', 'y1', 'x2', 'y2'] as const)
        expect(Math.abs(b[key] - seen[key])).toBeLessThanOrEqual(1.5);
    }
  });

  it('randomAffine with zero ranges is the identity', () => {
    const { img, box } = withRect(32, 4, 5, 20, 9);
    const out = randomAffine(img, [box], new DataRng('x'), { degrees: 0, shear: 0, scale: 0, translate: 0 });
    expect(out.image.data).toEqual(img.data);
    expect(out.boxes).toEqual([box]);
  });

  it('drops boxes that leave the image or shrink below 2 px', () => {
    const { img } = withRect(64, 0, 0, 4, 4);
    const tiny: PixelBox = { cls: 0, x1: 0, y1: 0, x2: 3, y2: 3 };
    const out = randomAffine(img, [tiny], new DataRng('s'), {
      degrees: 0,
      shear: 0,
      scale: 0,
      translate: 0.1,
    });
    for (const b of out.boxes) expect(b.x2 - b.x1).toBeGreaterThan(2);
  });

  it('flips mirror pixels and boxes', () => {
    const { img, box } = withRect(32, 2, 3, 10, 7);
    const [h] = flipHorizontal(img, [box]);
    expect(brightBox(img)).toMatchObject({ x1: h!.x1, x2: h!.x2, y1: 3, y2: 7 });
    expect(h).toMatchObject({ x1: 22, x2: 30 });
    const [v] = flipVertical(img, [h!]);
    expect(v).toMatchObject({ y1: 25, y2: 29 });
    expect(brightBox(img)).toMatchObject({ x1: 22, x2: 30, y1: 25, y2: 29 });
  });

  it('toPixelBoxes and toLabelBoxes are inverse', () => {
    const labels = [{ cls: 2, cx: 0.3, cy: 0.6, w: 0.2, h: 0.4 }];
    const back = toLabelBoxes(toPixelBoxes(labels, 100, 50), 100, 50);
    expect(back[0]!.cx).toBeCloseTo(0.3);
    expect(back[0]!.h).toBeCloseTo(0.4);
  });
});

describe('augmentHsv', () => {
  it('leaves greys grey and changes saturated colours', () => {
    const img = { width: 2, height: 1, data: Uint8Array.from([128, 128, 128, 200, 40, 40]) };
    augmentHsv(img, new DataRng('hsv'), 0.015, 0.7, 0.4);
    expect(img.data[0]).toBe(img.data[1]);
    expect(img.data[1]).toBe(img.data[2]);
    expect([...img.data.subarray(3)]).not.toEqual([200, 40, 40]);
  });

  it('with zero gains changes nothing; tiny gains only the 8-bit HSV rounding OpenCV has too', () => {
    const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 37) % 256);
    const img = { width: 100, height: 1, data: data.slice() };
    augmentHsv(img, new DataRng('hsv'), 0, 0, 0);
    expect(img.data).toEqual(data);
    augmentHsv(img, new DataRng('hsv'), 1e-9, 1e-9, 1e-9);
    const err = data.map((v, i) => Math.abs(img.data[i]! - v));
    // Hue is kept in 2-degree steps: up to 255/60 per step, both roundings together under 8.
    expect(Math.max(...err)).toBeLessThanOrEqual(8);
    expect(err.reduce((s, e) => s + e, 0) / err.length).toBeLessThan(2);
  });
});

describe('mosaic4', () => {
  it('places four tiles around a centre of a 2S canvas with their labels', () => {
    const S = 32;
    const tiles = [0, 1, 2, 3].map(() => {
      const { img } = withRect(S, 8, 8, 24, 24);
      return { image: img, boxes: [{ cls: 0, cx: 0.5, cy: 0.5, w: 0.5, h: 0.5 }] };
    });
    const m = mosaic4(tiles, S, new DataRng('m'));
    expect([m.image.width, m.image.height]).toEqual([2 * S, 2 * S]);
    expect(m.boxes.length).toBeGreaterThan(0);
    // Every label box covers bright pixels at its centre.
    for (const b of m.boxes) {
      const cx = Math.floor((b.x1 + b.x2) / 2);
      const cy = Math.floor((b.y1 + b.y2) / 2);
      expect(m.image.data[(cy * 2 * S + cx) * 3]).toBe(255);
    }
    // The canvas keeps grey 114 where no tile reaches (corners beyond the tiles), or tiles cover it.
    const counts = new Set(m.image.data);
    expect(counts.has(255)).toBe(true);
  });
});
