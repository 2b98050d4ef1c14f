import { describe, expect, it } from 'vitest';
import { YOLOV5_ANCHORS } from '@detsearch/genome';
import type { Detection } from './boxes';
import { CandidateBuffer, decodeYoloOutputs } from './decode';
import { nonMaxSuppression, postprocessYolo } from './nms';

const logit = (p: number) => Math.log(p / (1 - p));
const NC = 2;
const NO = NC + 5;

/** One level [1, 3*NO, H, W] NCHW of "nothing here" logits, with `set` writing one anchor's values. */
function level(H: number, W: number) {
  const data = new Float32Array(3 * NO * H * W).fill(-20);
  const set = (a: number, y: number, x: number, values: number[]) =>
    values.forEach((v, k) => (data[(a * NO + k) * H * W + y * W + x] = v));
  return { data, shape: [1, 3 * NO, H, W], set };
}

function toNhwc(nchw: Float32Array, C: number, H: number, W: number): Float32Array {
  const out = new Float32Array(nchw.length);
  for (let c = 0; c < C; c++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) out[(y * W + x) * C + c] = nchw[c * H * W + y * W + x]!;
  return out;
}

describe('decodeYoloOutputs', () => {
  it('applies the v6 formulas: xy = (2s - 0.5 + grid) * stride, wh = (2s)^2 * anchor, score = obj * cls', () => {
    const l0 = level(4, 4);
    // Anchor 1 of P3 (16 x 30), cell (x=2, y=1): offsets sigmoid 0.5, size sigmoid 0.5 -> 1x anchor.
    l0.set(1, 1, 2, [0, 0, 0, 0, logit(0.9), -20, logit(0.8)]);
    // Anchor 0 of the same cell, offset sigmoid 0.75 -> +0.5 cell; size sigmoid 0.75 -> 2.25x.
    l0.set(0, 1, 2, [logit(0.75), logit(0.25), logit(0.75), logit(0.25), logit(0.5), logit(0.6), -20]);
    const [dets] = decodeYoloOutputs([l0], { numClasses: NC, layout: 'nchw' });
    expect(dets).toHaveLength(2);
    const a1 = dets!.find((d) => d.cls === 1)!;
    const [aw, ah] = YOLOV5_ANCHORS[0]![1]!;
    expect(a1.score).toBeCloseTo(0.72, 6);
    expect((a1.x1 + a1.x2) / 2).toBeCloseTo((2 * 0.5 - 0.5 + 2) * 8, 4);
    expect((a1.y1 + a1.y2) / 2).toBeCloseTo((2 * 0.5 - 0.5 + 1) * 8, 4);
    expect(a1.x2 - a1.x1).toBeCloseTo(aw, 4);
    expect(a1.y2 - a1.y1).toBeCloseTo(ah, 4);
    const a0 = dets!.find((d) => d.cls === 0)!;
    expect(a0.score).toBeCloseTo(0.3, 6);
    expect((a0.x1 + a0.x2) / 2).toBeCloseTo((1.5 - 0.5 + 2) * 8, 4);
    expect((a0.y1 + a0.y2) / 2).toBeCloseTo((0.5 - 0.5 + 1) * 8, 4);
    expect(a0.x2 - a0.x1).toBeCloseTo(2.25 * 10, 4);
    expect(a0.y2 - a0.y1).toBeCloseTo(0.25 * 13, 4);
  });

  it('reads the same boxes from NHWC (tfjs) as from NCHW (ONNX)', () => {
    const l = level(2, 3);
    l.set(2, 1, 2, [0.3, -0.2, 0.1, 0.4, 2, 1, -1]);
    l.set(0, 0, 0, [-0.3, 0.2, -0.1, 0.4, 1, -1, 3]);
    const opts = { numClasses: NC, strides: [32], anchors: [YOLOV5_ANCHORS[2]!] };
    const nchw = decodeYoloOutputs([l], { ...opts, layout: 'nchw' });
    const nhwc = decodeYoloOutputs([{ data: toNhwc(l.data, 3 * NO, 2, 3), shape: [1, 2, 3, 3 * NO] }], {
      ...opts,
      layout: 'nhwc',
    });
    expect(nchw[0]!.length).toBeGreaterThan(0);
    expect(nhwc).toEqual(nchw);
  });

  it('keeps every class above the threshold (multi-label) or only the best', () => {
    const l = level(1, 1);
    l.set(0, 0, 0, [0, 0, 0, 0, logit(0.9), logit(0.5), logit(0.4)]);
    const opts = { numClasses: NC, layout: 'nchw' as const, strides: [32], anchors: [YOLOV5_ANCHORS[2]!] };
    expect(decodeYoloOutputs([l], opts)[0]!.map((d) => d.cls)).toEqual([0, 1]);
    expect(decodeYoloOutputs([l], { ...opts, multiLabel: false })[0]!.map((d) => d.cls)).toEqual([0]);
    expect(decodeYoloOutputs([l], { ...opts, confThreshold: 0.4 })[0]!.map((d) => d.cls)).toEqual([0]);
  });

  it('handles several images and levels, and rejects a wrong channel count', () => {
    const a = level(4, 4);
    const b = level(2, 2);
    const two = (l: ReturnType<typeof level>) => ({
      data: Float32Array.from([...l.data, ...l.data]),
      shape: [2, ...l.shape.slice(1)],
    });
    a.set(0, 0, 0, [0, 0, 0, 0, 3, 3, -20]);
    b.set(2, 1, 1, [0, 0, 0, 0, 3, -20, 3]);
    const out = decodeYoloOutputs([two(a), two(b)], { numClasses: NC, layout: 'nchw' });
    expect(out).toHaveLength(2);
    expect(out[1]!.map((d) => d.cls)).toEqual([0, 1]);
    expect(() => decodeYoloOutputs([a], { numClasses: 3, layout: 'nchw' })).toThrow(/channels/);
  });
});

const box = (x1: number, score: number, cls = 0, w = 10): Detection => ({
  x1,
  y1: 0,
  x2: x1 + w,
  y2: 10,
  score,
  cls,
});

describe('nonMaxSuppression', () => {
  it('suppresses lower-scored boxes of the same class above the IoU threshold, keeps other classes', () => {
    // IoU of box(0) and box(1): 9*10 / (200 - 90) = 0.818.
    const kept = nonMaxSuppression([box(1, 0.8), box(0, 0.9), box(0, 0.7, 1)]);
    expect(kept.map((d) => [d.x1, d.cls])).toEqual([
      [0, 0],
      [0, 1],
    ]);
    expect(
      nonMaxSuppression([box(1, 0.8), box(0, 0.9), box(0, 0.7, 1)], { classAgnostic: true }),
    ).toHaveLength(1);
  });

  it('suppresses only above the threshold (IoU exactly 0.6 survives), sorts by score, cuts to maxDetections', () => {
    // Widths 10 and 6 nested: IoU 0.6 exactly.
    expect(nonMaxSuppression([box(0, 0.9), box(0, 0.8, 0, 6)])).toHaveLength(2);
    expect(nonMaxSuppression([box(0, 0.9), box(0, 0.8, 0, 6)], { iouThreshold: 0.59 })).toHaveLength(1);
    const many = Array.from({ length: 20 }, (_, i) => box(i * 20, i / 20));
    const kept = nonMaxSuppression(many, { maxDetections: 5 });
    expect(kept.map((d) => d.score)).toEqual([0.95, 0.9, 0.85, 0.8, 0.75]);
  });

  it('postprocessYolo decodes and suppresses per image', () => {
    const l = level(4, 4);
    // Same object seen by two neighbouring cells: one detection survives.
    l.set(0, 1, 1, [0, 0, 0, 0, 4, 4, -20]);
    l.set(0, 1, 2, [logit(0.25), 0, 0, 0, 3, 4, -20]);
    const [dets] = postprocessYolo([l], {
      numClasses: NC,
      layout: 'nchw',
      strides: [8],
      anchors: [
        [
          [40, 40],
          [40, 40],
          [40, 40],
        ],
      ],
    });
    expect(dets).toHaveLength(1);
    expect(dets![0]!.score).toBeCloseTo(1 / (1 + Math.exp(-4)) ** 2, 6);
  });
});

describe('CandidateBuffer.topIndices', () => {
  it('equals the prefix of a stable descending sort, ties included', () => {
    const buf = new CandidateBuffer();
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    // 5000 scores on a coarse grid: many ties, and the buffer grows past its first size.
    for (let i = 0; i < 5000; i++) buf.push(i, 0, i + 1, 1, Math.floor(rand() * 50) / 50, i % 3);
    const stable = Array.from({ length: buf.count }, (_, i) => i).sort(
      (a, b) => buf.score[b]! - buf.score[a]! || a - b,
    );
    for (const k of [1, 7, 100, 1234, 4999, 5000, 9000])
      expect([...buf.topIndices(k)]).toEqual(stable.slice(0, k));
  });

  it('NMS over a buffer matches NMS over the same detections as objects', () => {
    const buf = new CandidateBuffer();
    const dets: Detection[] = [];
    for (let i = 0; i < 400; i++) {
      const d = box((i * 7) % 90, ((i * 37) % 100) / 100, i % 2);
      buf.push(d.x1, d.y1, d.x2, d.y2, d.score, d.cls);
      dets.push(buf.detection(i));
    }
    expect(nonMaxSuppression(buf, { maxCandidates: 150 })).toEqual(
      nonMaxSuppression(dets, { maxCandidates: 150 }),
    );
  });
});
