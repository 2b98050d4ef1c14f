import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@detsearch/model-tfjs';
import { distillationLoss, nchwToNhwc } from './distill';

describe('distillation loss', () => {
  beforeAll(async () => {
    await initBackend('wasm', { log: () => undefined });
  });

  it('NCHW to NHWC moves channel c of pixel p to position p*C + c', () => {
    // [1, 2, 1, 3]: channel 0 = 0,1,2; channel 1 = 10,11,12.
    expect(Array.from(nchwToNhwc(Float32Array.from([0, 1, 2, 10, 11, 12]), [1, 2, 1, 3]))).toEqual([
      0, 10, 1, 11, 2, 12,
    ]);
  });

  it('has zero gradient when the student equals the teacher and pulls towards it otherwise', () => {
    const nc = 2;
    const shape: [number, number, number, number] = [2, 4, 4, 3 * (nc + 5)];
    const teacher = [tf.randomNormal(shape, 0, 1, 'float32', 1)] as tf.Tensor4D[];
    const same = tf.variable(teacher[0]!.clone());
    const g0 = tf.variableGrads(
      () => distillationLoss([same as tf.Variable<tf.Rank.R4>], teacher, { numClasses: nc, weight: 1 }),
      [same],
    );
    expect(tf.max(tf.abs(g0.grads[same.name]!)).dataSync()[0]).toBeLessThan(1e-5);

    const other = tf.variable(tf.randomNormal(shape, 0, 1, 'float32', 2));
    const loss = (w: number) =>
      distillationLoss([other as tf.Variable<tf.Rank.R4>], teacher, { numClasses: nc, weight: w });
    const g1 = tf.variableGrads(() => loss(1), [other]);
    expect(tf.max(tf.abs(g1.grads[other.name]!)).dataSync()[0]).toBeGreaterThan(1e-4);
    // One small step down the gradient lowers the loss; the weight scales it linearly.
    const before = loss(1).dataSync()[0]!;
    other.assign(tf.sub(other, tf.mul(g1.grads[other.name]!, 0.5)));
    expect(loss(1).dataSync()[0]!).toBeLessThan(before);
    expect(loss(2).dataSync()[0]!).toBeCloseTo(2 * loss(1).dataSync()[0]!, 4);
    tf.dispose([
      ...teacher,
      same,
      other,
      g0.value,
      g1.value,
      ...Object.values(g0.grads),
      ...Object.values(g1.grads),
    ]);
  });

  it("weighs its terms with the detection loss's gains, objectness by the level's balance", () => {
    const nc = 3;
    const level = (seed: number, s: number) =>
      tf.randomNormal([1, s, s, 3 * (nc + 5)], 0, 1, 'float32', seed) as tf.Tensor4D;
    const student = [level(1, 4), level(2, 2)];
    const teacher = [level(3, 4), level(4, 2)];
    const loss = (gains: { box: number; obj: number; cls: number; balance: number[] }, levels = 2) =>
      distillationLoss(student.slice(0, levels), teacher.slice(0, levels), {
        numClasses: nc,
        weight: 1,
        gains,
      }).dataSync()[0]!;
    const gains = { box: 0.05, obj: 0.04, cls: 0.02, balance: [4, 1] };
    expect(loss({ ...gains, box: 0, obj: 0, cls: 0 })).toBe(0);
    expect(loss({ box: 0.1, obj: 0.08, cls: 0.04, balance: [4, 1] })).toBeCloseTo(2 * loss(gains), 5);
    // Objectness alone, the second level's balance 0: only the first level counts.
    const objOnly = { box: 0, obj: 1, cls: 0, balance: [1, 0] };
    expect(loss(objOnly)).toBeCloseTo(loss(objOnly, 1), 5);
    expect(loss(objOnly)).toBeGreaterThan(0);
    // Without gains the unweighted terms are far heavier than the small-image gains make them.
    const plain = distillationLoss(student, teacher, { numClasses: nc, weight: 1 }).dataSync()[0]!;
    expect(plain).toBeGreaterThan(5 * loss(gains));
    tf.dispose([...student, ...teacher]);
  });
});
