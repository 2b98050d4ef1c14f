import * as tf from '@tensorflow/tfjs-core';

/**
 * Small differentiable building blocks that work on every backend. The stock gradients of
 * gather (UnsortedSegmentSum) and a few others are missing on wasm, so these bring their own.
 */

/** Identity forward, zero gradient (torch's `.detach()`). */
export const detach: (x: tf.Tensor) => tf.Tensor = tf.customGrad((x: tf.Tensor | tf.GradSaveFunc) => ({
  value: tf.clone(x as tf.Tensor),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as (x: tf.Tensor) => tf.Tensor;

/**
 * Rows of a 2-D tensor by index. The gradient scatters back with ScatterNd, which sums duplicate
 * indices as gather's gradient must.
 */
export function gatherRows(x: tf.Tensor2D, indices: Int32Array): tf.Tensor2D {
  const [m, cols] = x.shape;
  const f = tf.customGrad((input: tf.Tensor | tf.GradSaveFunc) => {
    const idx = tf.tensor1d(indices, 'int32');
    const value = tf.gather(input as tf.Tensor2D, idx) as tf.Tensor2D;
    idx.dispose();
    return {
      value,
      gradFunc: (dy: tf.Tensor) =>
        tf.tidy(() => tf.scatterND(tf.tensor2d(indices, [indices.length, 1], 'int32'), dy, [m, cols])),
    };
  });
  return f(x) as tf.Tensor2D;
}

/** log(1 + exp(x)), stable for large |x|: max(x, 0) + log1p(exp(-|x|)). */
export function softplus(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.add(tf.relu(x), tf.log1p(tf.exp(tf.neg(tf.abs(x))))));
}

/**
 * Elementwise binary cross-entropy on logits with a positive-class weight (BCEWithLogitsLoss with
 * pos_weight): p*t*softplus(-x) + (1-t)*softplus(x).
 */
export function bceWithLogits(logits: tf.Tensor, target: tf.Tensor, posWeight = 1): tf.Tensor {
  return tf.tidy(() => {
    const negTerm = tf.mul(tf.sub(1, target), softplus(logits));
    const posTerm = tf.mul(tf.mul(target, posWeight), softplus(tf.neg(logits)));
    return tf.add(posTerm, negTerm);
  });
}

/**
 * Complete IoU of two sets of boxes (cx, cy, w, h), [n, 4] each: IoU minus the normalized centre
 * distance and the aspect-ratio consistency term, alpha detached (Ultralytics `bbox_iou(CIoU=True)`).
 */
export function ciou(box1: tf.Tensor2D, box2: tf.Tensor2D, eps = 1e-7): tf.Tensor1D {
  return tf.tidy(() => {
    const [x1, y1, w1, h1] = tf.unstack(box1, 1) as tf.Tensor1D[];
    const [x2, y2, w2, h2] = tf.unstack(box2, 1) as tf.Tensor1D[];
    const half = (t: tf.Tensor) => tf.mul(t, 0.5);
    const b1x1 = tf.sub(x1!, half(w1!));
    const b1x2 = tf.add(x1!, half(w1!));
    const b1y1 = tf.sub(y1!, half(h1!));
    const b1y2 = tf.add(y1!, half(h1!));
    const b2x1 = tf.sub(x2!, half(w2!));
    const b2x2 = tf.add(x2!, half(w2!));
    const b2y1 = tf.sub(y2!, half(h2!));
    const b2y2 = tf.add(y2!, half(h2!));
    const iw = tf.relu(tf.sub(tf.minimum(b1x2, b2x2), tf.maximum(b1x1, b2x1)));
    const ih = tf.relu(tf.sub(tf.minimum(b1y2, b2y2), tf.maximum(b1y1, b2y1)));
    const inter = tf.mul(iw, ih);
    const union = tf.add(tf.sub(tf.add(tf.mul(w1!, h1!), tf.mul(w2!, h2!)), inter), eps);
    const iou = tf.div(inter, union);
    const cw = tf.sub(tf.maximum(b1x2, b2x2), tf.minimum(b1x1, b2x1));
    const ch = tf.sub(tf.maximum(b1y2, b2y2), tf.minimum(b1y1, b2y1));
    const c2 = tf.add(tf.add(tf.square(cw), tf.square(ch)), eps);
    const rho2 = tf.div(
      tf.add(
        tf.square(tf.sub(tf.add(b2x1, b2x2), tf.add(b1x1, b1x2))),
        tf.square(tf.sub(tf.add(b2y1, b2y2), tf.add(b1y1, b1y2))),
      ),
      4,
    );
    const v = tf.mul(
      4 / Math.PI ** 2,
      tf.square(tf.sub(tf.atan(tf.div(w2!, tf.add(h2!, eps))), tf.atan(tf.div(w1!, tf.add(h1!, eps))))),
    );
    const alpha = detach(tf.div(v, tf.add(tf.sub(v, iou), 1 + eps)));
    return tf.sub(iou, tf.add(tf.div(rho2, c2), tf.mul(v, alpha))) as tf.Tensor1D;
  });
}
