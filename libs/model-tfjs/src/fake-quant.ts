import * as tf from '@tensorflow/tfjs-core';

/**
 * Quantization-aware training: the forward pass sees int8-rounded weights and uint8-rounded
 * activations, the backward pass the straight-through estimator (gradient 1 inside the range, 0
 * where the value saturates). Ranges come from post-training calibration of the same model, so the
 * fine-tuned weights adapt to exactly the grid the export will use.
 */
export interface FakeQuantConfig {
  /** Activation ranges by IR tensor name (a conv's name stands for its BatchNorm output). */
  ranges: ReadonlyMap<string, { min: number; max: number }>;
  /** Table rows that stay float in the export: neither their weights nor outputs are rounded. */
  floatLayers: ReadonlySet<number>;
  /** Per-output-channel weight scales (else one per tensor). */
  perChannel: boolean;
}

/** uint8 asymmetric fake quantization on [min, max] (widened to hold 0), as the export quantizes. */
export function fakeQuantUint8(x: tf.Tensor, min: number, max: number): tf.Tensor {
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  if (!(hi > lo)) return x;
  const scale = (hi - lo) / 255;
  const zeroPoint = Math.min(255, Math.max(0, Math.round(-lo / scale)));
  const qmin = -zeroPoint * scale;
  const qmax = (255 - zeroPoint) * scale;
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([input]);
    const value = tf.tidy(() =>
      tf.mul(tf.clipByValue(tf.round(tf.div(input, scale)), -zeroPoint, 255 - zeroPoint), scale),
    );
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [v] = saved as [tf.Tensor];
        const inside = tf.logicalAnd(tf.greaterEqual(v, qmin), tf.lessEqual(v, qmax));
        return tf.mul(dy as tf.Tensor, tf.cast(inside, 'float32'));
      },
    };
  });
  return f(x);
}

/**
 * Symmetric int8 fake quantization of conv weights, per output channel (the last axis of HWIO, or
 * of a depthwise [h, w, c, 1] filter's channel axis) or per tensor. Per-channel rounding of the
 * unfolded weights equals rounding the BatchNorm-folded ones, since folding scales each output
 * channel by one factor.
 */
export function fakeQuantWeightsInt8(w: tf.Tensor4D, perChannel: boolean, depthwise: boolean): tf.Tensor4D {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input] = args as [tf.Tensor];
    const value = tf.tidy(() => {
      const axes = depthwise ? [0, 1, 3] : [0, 1, 2];
      const maxAbs = perChannel ? tf.max(tf.abs(input), axes, true) : tf.max(tf.abs(input));
      const scale = tf.div(tf.maximum(maxAbs, 1e-12), 127);
      return tf.mul(tf.clipByValue(tf.round(tf.div(input, scale)), -127, 127), scale);
    });
    // Weights never saturate against their own max: the estimator passes the gradient through.
    return { value, gradFunc: (dy: tf.Tensor | tf.Tensor[]) => dy as tf.Tensor };
  });
  return f(w) as tf.Tensor4D;
}
