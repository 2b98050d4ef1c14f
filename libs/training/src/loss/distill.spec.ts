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
});
