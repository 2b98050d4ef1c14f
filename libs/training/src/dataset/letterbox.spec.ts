import { describe, expect, it } from 'vitest';
import { PAD_VALUE, letterbox, letterboxBoxes, resizeImage, resizeLongSide } from './letterbox';
import type { RgbImage } from './types';

function solid(width: number, height: number, rgb: [number, number, number]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, i * 3);
  return { width, height, data };
}

const px = (img: RgbImage, x: number, y: number) => [
  ...img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3),
];

describe('resizeImage', () => {
  it('keeps a constant image constant in both modes', () => {
    const img = solid(37, 23, [10, 200, 77]);
    for (const mode of ['linear', 'area'] as const) {
      for (const [w, h] of [
        [16, 9],
        [80, 50],
      ]) {
        const r = resizeImage(img, w!, h!, mode);
        expect(r.data.length).toBe(w! * h! * 3);
        expect(new Set(r.data)).toEqual(new Set([10, 200, 77]));
      }
    }
  });

  it('averages blocks when shrinking by an integer factor (area)', () => {
    // 4x2 image: columns 0,1 black and 2,3 white -> 2x1: black and white exactly.
    const img = { width: 4, height: 2, data: new Uint8Array(4 * 2 * 3) };
    for (let y = 0; y < 2; y++)
      for (let x = 2; x < 4; x++) img.data.fill(255, (y * 4 + x) * 3, (y * 4 + x) * 3 + 3);
    const r = resizeImage(img, 2, 1, 'area');
    expect([...r.data]).toEqual([0, 0, 0, 255, 255, 255]);
    // 3 -> 1 averages three pixels.
    const g = { width: 3, height: 1, data: Uint8Array.from([0, 0, 0, 90, 90, 90, 180, 180, 180]) };
    expect([...resizeImage(g, 1, 1, 'area').data]).toEqual([90, 90, 90]);
  });
});

describe('letterbox', () => {
  it('fits a wide image, centres it and pads with grey 114', () => {
    const lb = letterbox(solid(200, 100, [255, 0, 0]), 160);
    expect(lb.ratio).toBeCloseTo(0.8);
    expect([lb.contentWidth, lb.contentHeight, lb.padX, lb.padY]).toEqual([160, 80, 0, 40]);
    expect(px(lb.image, 80, 0)).toEqual([PAD_VALUE, PAD_VALUE, PAD_VALUE]);
    expect(px(lb.image, 80, 39)).toEqual([PAD_VALUE, PAD_VALUE, PAD_VALUE]);
    expect(px(lb.image, 80, 40)).toEqual([255, 0, 0]);
    expect(px(lb.image, 80, 119)).toEqual([255, 0, 0]);
    expect(px(lb.image, 80, 120)).toEqual([PAD_VALUE, PAD_VALUE, PAD_VALUE]);
  });

  it('puts the odd padding pixel right/bottom as Ultralytics (round(d -/+ 0.1))', () => {
    const lb = letterbox(solid(64, 33, [0, 0, 0]), 64);
    expect([lb.contentHeight, lb.padY]).toEqual([33, 15]);
    expect(px(lb.image, 0, 14)).toEqual([PAD_VALUE, PAD_VALUE, PAD_VALUE]);
    expect(px(lb.image, 0, 15)).toEqual([0, 0, 0]);
    expect(px(lb.image, 0, 47)).toEqual([0, 0, 0]);
    expect(px(lb.image, 0, 48)).toEqual([PAD_VALUE, PAD_VALUE, PAD_VALUE]);
  });

  it('moves labels with the image', () => {
    const lb = letterbox(solid(200, 100, [0, 0, 0]), 160);
    const [b] = letterboxBoxes([{ cls: 3, cx: 0.5, cy: 0.5, w: 0.5, h: 1 }], lb);
    expect(b!.cls).toBe(3);
    expect(b!.cx).toBeCloseTo(0.5);
    expect(b!.cy).toBeCloseTo(0.5);
    expect(b!.w).toBeCloseTo(0.5);
    expect(b!.h).toBeCloseTo(0.5);
    const [c] = letterboxBoxes([{ cls: 0, cx: 0, cy: 0, w: 0.1, h: 0.1 }], lb);
    expect(c!.cy * 160).toBeCloseTo(40);
  });

  it('resizeLongSide scales the long side to the target keeping the aspect', () => {
    const { image, ratio } = resizeLongSide(solid(300, 150, [1, 2, 3]), 160, false);
    expect([image.width, image.height, ratio]).toEqual([160, 80, 160 / 300]);
  });
});
