import * as tf from '@tensorflow/tfjs-core';
import { bceWithLogits } from './ops';
import type { LossHyp } from './yolo-loss';

export interface DistillOptions {
  numClasses: number;
  /** Weight of the distillation term relative to the detection loss. */
  weight: number;
  /**
   * The detection loss's gains (scaledLossHyp): box, objectness (times the level's balance) and
   * class terms are then weighted as the detection loss weighs its own, so `weight` 1 means "as
   * much as the labels". Without them the terms are unweighted, which at small image sizes and
   * few classes is 20x the detection loss (its objectness gain scales with (size/640)^2).
   */
  gains?: Pick<LossHyp, 'box' | 'obj' | 'cls' | 'balance'>;
}

/**
 * Knowledge distillation on raw Detect outputs (same layout for student and teacher, NHWC
 * [B, ny, nx, na*(nc+5)]): objectness and class logits learn the teacher's probabilities (BCE with
 * soft targets); box channels learn the teacher's sigmoid outputs (MSE), weighted by the teacher's
 * objectness so that background cells, whose boxes mean nothing, do not dominate. Scaled by batch
 * size like the detection loss so the weight is comparable across batch sizes.
 */
export function distillationLoss(
  student: tf.Tensor4D[],
  teacher: tf.Tensor4D[],
  options: DistillOptions,
): tf.Scalar {
  const no = options.numClasses + 5;
  if (student.length !== teacher.length) throw new Error('distill: student and teacher level counts differ');
  return tf.tidy(() => {
    let sum: tf.Scalar = tf.scalar(0);
    student.forEach((s, i) => {
      const t = teacher[i]!;
      if (s.shape.join() !== t.shape.join())
        throw new Error(`distill: level ${i} shapes differ: [${s.shape}] vs [${t.shape}]`);
      const cells = s.size / no;
      const sf = tf.reshape(s, [cells, no]);
      const tp = tf.sigmoid(tf.reshape(t, [cells, no]));
      const sBox = tf.sigmoid(tf.slice(sf, [0, 0], [cells, 4]));
      const tBox = tf.slice(tp, [0, 0], [cells, 4]);
      const tObj = tf.slice(tp, [0, 4], [cells, 1]);
      const box = tf.div(
        tf.sum(tf.mul(tf.sum(tf.squaredDifference(sBox, tBox), 1, true), tObj)),
        tf.add(tf.sum(tObj), 1e-6),
      );
      const g = options.gains;
      if (g) {
        const obj = tf.mean(
          bceWithLogits(tf.slice(sf, [0, 4], [cells, 1]), tf.slice(tp, [0, 4], [cells, 1])),
        );
        const cls = tf.mean(
          bceWithLogits(tf.slice(sf, [0, 5], [cells, no - 5]), tf.slice(tp, [0, 5], [cells, no - 5])),
        );
        const level = tf.addN([
          tf.mul(box, g.box),
          tf.mul(obj, g.obj * (g.balance[i] ?? 1)),
          tf.mul(cls, g.cls),
        ]);
        sum = tf.add(sum, level) as tf.Scalar;
        return;
      }
      const rest = tf.mean(
        bceWithLogits(tf.slice(sf, [0, 4], [cells, no - 4]), tf.slice(tp, [0, 4], [cells, no - 4])),
      );
      sum = tf.add(sum, tf.add(box, rest)) as tf.Scalar;
    });
    return tf.mul(sum, options.weight * student[0]!.shape[0]) as tf.Scalar;
  });
}

/** NCHW [B, C, H, W] (onnxruntime output) to NHWC, in plain JS. */
export function nchwToNhwc(data: Float32Array, dims: readonly number[]): Float32Array {
  const [b, c, h, w] = dims as [number, number, number, number];
  const out = new Float32Array(data.length);
  for (let n = 0; n < b; n++)
    for (let ch = 0; ch < c; ch++) {
      const src = (n * c + ch) * h * w;
      for (let p = 0; p < h * w; p++) out[(n * h * w + p) * c + ch] = data[src + p]!;
    }
  return out;
}
