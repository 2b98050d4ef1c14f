import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@detsearch/model-tfjs';
import { buildTargets } from './build-targets';
import { ciou, gatherRows } from './ops';
import { scaledLossHyp, SCRATCH_LOW_LOSS, yoloLoss } from './yolo-loss';

/** Scalar CIoU straight from the definition, as the reference for the tensor version. */
function ciouRef(a: number[], b: number[]): number {
  const [x1, y1, w1, h1] = a as [number, number, number, number];
  const [x2, y2, w2, h2] = b as [number, number, number, number];
  const iw = Math.max(0, Math.min(x1 + w1 / 2, x2 + w2 / 2) - Math.max(x1 - w1 / 2, x2 - w2 / 2));
  const ih = Math.max(0, Math.min(y1 + h1 / 2, y2 + h2 / 2) - Math.max(y1 - h1 / 2, y2 - h2 / 2));
  const inter = iw * ih;
  const iou = inter / (w1 * h1 + w2 * h2 - inter);
  const cw = Math.max(x1 + w1 / 2, x2 + w2 / 2) - Math.min(x1 - w1 / 2, x2 - w2 / 2);
  const ch = Math.max(y1 + h1 / 2, y2 + h2 / 2) - Math.min(y1 - h1 / 2, y2 - h2 / 2);
  const rho2 = (x2 - x1) ** 2 + (y2 - y1) ** 2;
  const v = (4 / Math.PI ** 2) * (Math.atan(w2 / h2) - Math.atan(w1 / h1)) ** 2;
  const alpha = v / (v - iou + 1 + 1e-7);
  return iou - (rho2 / (cw * cw + ch * ch) + v * alpha);
}

// 64 px input: P3 8x8, P4 4x4, P5 2x2.
const SHAPES = [
  { ny: 8, nx: 8 },
  { ny: 4, nx: 4 },
  { ny: 2, nx: 2 },
];
const ANCHORS_GRID = [
  [
    [10 / 8, 13 / 8],
    [16 / 8, 30 / 8],
    [33 / 8, 23 / 8],
  ],
  [
    [30 / 16, 61 / 16],
    [62 / 16, 45 / 16],
    [59 / 16, 119 / 16],
  ],
  [
    [116 / 32, 90 / 32],
    [156 / 32, 198 / 32],
    [373 / 32, 326 / 32],
  ],
] as [number, number][][];
const TARGETS = [
  [0, 1, 0.3, 0.55, 0.25, 0.25],
  [1, 0, 0.7, 0.7, 0.25, 0.25],
];

describe('buildTargets (hand-worked)', () => {
  const [p3, p4, p5] = buildTargets(TARGETS, SHAPES, ANCHORS_GRID);

  it('matches every anchor within ratio 4 and the two nearer neighbouring cells, in Ultralytics order', () => {
    // P3: both 2x2-cell boxes pass all three anchors (max ratio 2.06). Target 0 (2.4, 4.4) sits in the
    // left/top half of its cell -> left and upper neighbours; target 1 (5.6, 5.6) -> right and lower.
    expect(p3!.count).toBe(18);
    const rows = Array.from({ length: p3!.count }, (_, i) => [
      p3!.b[i],
      p3!.a[i],
      p3!.gj[i],
      p3!.gi[i],
      p3!.cls[i],
    ]);
    expect(rows).toEqual([
      // offset group 0 (own cell), anchor-major
      [0, 0, 4, 2, 1],
      [1, 0, 5, 5, 0],
      [0, 1, 4, 2, 1],
      [1, 1, 5, 5, 0],
      [0, 2, 4, 2, 1],
      [1, 2, 5, 5, 0],
      // left neighbour (target 0), upper (target 0), right (target 1), lower (target 1)
      [0, 0, 4, 1, 1],
      [0, 1, 4, 1, 1],
      [0, 2, 4, 1, 1],
      [0, 0, 3, 2, 1],
      [0, 1, 3, 2, 1],
      [0, 2, 3, 2, 1],
      [1, 0, 5, 6, 0],
      [1, 1, 5, 6, 0],
      [1, 2, 5, 6, 0],
      [1, 0, 6, 5, 0],
      [1, 1, 6, 5, 0],
      [1, 2, 6, 5, 0],
    ]);
  });

  it('box targets are relative to the assigned cell, in grid units', () => {
    const box = (i: number) => Array.from(p3!.tbox.slice(i * 4, i * 4 + 4));
    const close = (a: number[], b: number[]) => a.forEach((v, k) => expect(v).toBeCloseTo(b[k]!, 5));
    close(box(0), [0.4, 0.4, 2, 2]);
    close(box(6), [1.4, 0.4, 2, 2]); // left neighbour: x offset beyond 1
    close(box(9), [0.4, 1.4, 2, 2]); // upper neighbour
    close(box(12), [-0.4, 0.6, 2, 2]); // right neighbour: negative x offset
    expect(Array.from(p3!.anchors.slice(2, 4))).toEqual([10 / 8, 13 / 8].map(Math.fround));
  });

  it('rejects anchors more than 4x off in either side', () => {
    // P4: a 1x1-cell box; anchor 2 (3.69 x 7.44) is 7.4x too tall. P5: all anchors > 4x too big.
    expect(p4!.count).toBe(2 * 3 * 2);
    expect(new Set(Array.from(p4!.a))).toEqual(new Set([0, 1]));
    expect(p5!.count).toBe(0);
  });
});

describe('YOLOv5 loss', () => {
  beforeAll(async () => {
    await initBackend('wasm', { log: () => undefined });
  });

  it('CIoU of known boxes', () => {
    const pairs = [
      [
        [0, 0, 2, 2],
        [0, 0, 2, 2],
      ],
      [
        [0, 0, 2, 2],
        [1, 0, 2, 2],
      ],
      [
        [0, 0, 2, 2],
        [0, 0, 4, 2],
      ],
      [
        [0, 0, 1, 1],
        [3, 4, 1, 2],
      ],
    ];
    const got = tf.tidy(() =>
      ciou(tf.tensor2d(pairs.map((p) => p[0]!)), tf.tensor2d(pairs.map((p) => p[1]!))).arraySync(),
    );
    expect(got[0]).toBeCloseTo(1, 5);
    expect(got[1]).toBeCloseTo(1 / 3 - 1 / 13, 5); // IoU 1/3, centre distance 1 over diagonal^2 13
    expect(got[2]).toBeCloseTo(0.5 - 0.003248, 4); // IoU 0.5 with an aspect-ratio penalty
    got.forEach((v, i) => expect(v).toBeCloseTo(ciouRef(pairs[i]![0]!, pairs[i]![1]!), 5));
    expect(got[3]).toBeLessThan(0); // disjoint boxes
  });

  it('gatherRows sums the gradient of repeated rows', () => {
    const x = tf.variable(tf.zeros([4, 2]));
    const { grads } = tf.variableGrads(() =>
      tf.sum(gatherRows(x as tf.Variable<tf.Rank.R2>, Int32Array.from([1, 3, 1]))),
    );
    expect(Array.from(grads[x.name]!.dataSync())).toEqual([0, 0, 2, 2, 0, 0, 1, 1]);
    tf.dispose([x, grads[x.name]!]);
  });

  it('scales gains like train.py', () => {
    const h = scaledLossHyp(3, 160);
    expect(h.box).toBeCloseTo(0.05);
    expect(h.cls).toBeCloseTo(0.5 * (3 / 80));
    expect(h.obj).toBeCloseTo((160 / 640) ** 2);
    expect(SCRATCH_LOW_LOSS.balance).toEqual([4.0, 1.0, 0.4]);
  });

  it('equals the hand-computed value at zero logits', () => {
    // sigmoid(0) = 0.5: predicted centre 0.5 in the cell, size = the anchor; every BCE term is ln 2.
    const nc = 2;
    const hyp = { ...SCRATCH_LOW_LOSS, balance: [...SCRATCH_LOW_LOSS.balance] };
    const outputs = SHAPES.map((s) => tf.zeros([2, s.ny, s.nx, 3 * (nc + 5)]) as tf.Tensor4D);
    const loss = yoloLoss(outputs, TARGETS, {
      numClasses: nc,
      hyp,
      strides: [8, 16, 32],
      anchors: [
        [
          [10, 13],
          [16, 30],
          [33, 23],
        ],
        [
          [30, 61],
          [62, 45],
          [59, 119],
        ],
        [
          [116, 90],
          [156, 198],
          [373, 326],
        ],
      ],
    });
    const levels = buildTargets(TARGETS, SHAPES, ANCHORS_GRID);
    let lbox = 0;
    let clsLevels = 0;
    for (const lt of levels) {
      if (!lt.count) continue;
      clsLevels++;
      let s = 0;
      for (let i = 0; i < lt.count; i++)
        s +=
          1 -
          ciouRef(
            [0.5, 0.5, lt.anchors[i * 2]!, lt.anchors[i * 2 + 1]!],
            Array.from(lt.tbox.slice(i * 4, i * 4 + 4)),
          );
      lbox += s / lt.count;
    }
    const ln2 = Math.log(2);
    expect(loss.box.dataSync()[0]).toBeCloseTo(0.05 * lbox, 5);
    expect(loss.obj.dataSync()[0]).toBeCloseTo(1.0 * ln2 * (4 + 1 + 0.4), 4);
    expect(loss.cls.dataSync()[0]).toBeCloseTo(0.5 * ln2 * clsLevels, 5);
    expect(loss.total.dataSync()[0]).toBeCloseTo(2 * (0.05 * lbox + ln2 * 5.4 + 0.5 * ln2 * clsLevels), 4);
    tf.dispose([...outputs, loss.total, loss.box, loss.obj, loss.cls]);
  });

  it('decreases over a few SGD steps with finite gradients, without leaking tensors', () => {
    const nc = 3;
    const hyp = scaledLossHyp(nc, 64);
    const vars = SHAPES.map((s, i) =>
      tf.variable(tf.randomNormal([2, s.ny, s.nx, 3 * (nc + 5)], 0, 0.5, 'float32', i)),
    ) as tf.Variable<tf.Rank.R4>[];
    const opt = tf.train.sgd(20);
    const before = tf.memory().numTensors;
    const losses: number[] = [];
    for (let step = 0; step < 5; step++) {
      const { value, grads } = tf.variableGrads(() => yoloLoss(vars, TARGETS, { numClasses: nc, hyp }).total);
      losses.push(value.dataSync()[0]!);
      tf.tidy(() => {
        for (const g of Object.values(grads)) expect(tf.all(tf.isFinite(g)).dataSync()[0]).toBe(1);
        expect(Object.values(grads).some((g) => tf.max(tf.abs(g)).dataSync()[0]! > 0)).toBe(true);
      });
      opt.applyGradients(grads);
      tf.dispose([value, ...Object.values(grads)]);
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    for (let i = 1; i < losses.length; i++) expect(losses[i]!).toBeLessThan(losses[i - 1]!);
    expect(losses[4]!).toBeLessThan(losses[0]! * 0.98);
    expect(tf.memory().numTensors - before).toBeLessThanOrEqual(0);
    opt.dispose();
    tf.dispose(vars);
  });

  it('with no targets only objectness remains', () => {
    const outputs = SHAPES.map((s) => tf.zeros([1, s.ny, s.nx, 3 * 8]) as tf.Tensor4D);
    const loss = yoloLoss(outputs, [], { numClasses: 3, hyp: SCRATCH_LOW_LOSS as never });
    expect(loss.box.dataSync()[0]).toBe(0);
    expect(loss.cls.dataSync()[0]).toBe(0);
    expect(loss.obj.dataSync()[0]).toBeCloseTo(Math.log(2) * 5.4, 5);
    tf.dispose([...outputs, loss.total, loss.box, loss.obj, loss.cls]);
  });
});
