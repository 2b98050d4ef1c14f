import * as tf from '@tensorflow/tfjs-core';
import { buildIR, parseGenome, type Genome, type ModelIR, type WeightMap } from '@detsearch/genome';
import { TfjsDetector } from '@detsearch/model-tfjs';
import { compileSearchSpace, validateSearchSpaceSpec } from '@detsearch/search-space';

/** A tiny space for tests: two depths, two widths, three separable rows, 64 px. */
export const TINY_SPACE_SPEC = validateSearchSpaceSpec({
  name: 'tiny',
  depthMultiple: { type: 'ordinal', values: [0.33, 0.67] },
  widthMultiple: { type: 'ordinal', values: [0.0625, 0.125] },
  imageSize: { type: 'ordinal', values: [64, 96] },
  numClasses: 2,
  separable: { type: 'subset', layers: [3, 4, 18] },
  activation: 'silu',
});
export const TINY_SPACE = compileSearchSpace(TINY_SPACE_SPEC);

/** A sub-network of the tiny space that differs from `largest` in depth, width, size and one separable row. */
export function tinySubnetGenome(largest: Genome): Genome {
  return parseGenome({
    ...largest,
    depthMultiple: 0.33,
    widthMultiple: 0.0625,
    imageSize: 64,
    separable: [4],
  });
}

/** Deterministic pseudo-images NHWC [n, s, s, 3] in 0..1. */
export function pseudoImages(n: number, s: number, salt = 0): Float32Array {
  return Float32Array.from({ length: n * s * s * 3 }, (_, i) => (((i + salt) * 7919) % 1000) / 1000);
}

/** Raw Detect outputs of a model (inference mode), flattened per level. */
export function forwardFlat(
  ir: ModelIR,
  weights: WeightMap,
  images: Float32Array,
  n: number,
): Float32Array[] {
  const model = TfjsDetector.build(ir, weights);
  try {
    const s = ir.input.shape.height;
    const outs = tf.tidy(() => model.forward(tf.tensor4d(images, [n, s, s, 3]), false));
    const flat = outs.map((o) => o.dataSync() as Float32Array);
    tf.dispose(outs);
    return flat;
  } finally {
    model.dispose();
  }
}

export function maxAbsDiff(a: Float32Array[], b: Float32Array[]): number {
  let m = 0;
  a.forEach((x, l) => {
    const y = b[l]!;
    if (x.length !== y.length) throw new Error(`level ${l}: ${x.length} vs ${y.length} values`);
    for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  });
  return m;
}

export function irOf(g: Genome): ModelIR {
  return buildIR(g);
}
