import { describe, expect, it } from 'vitest';
import { foldBatchNorm } from './fold';

describe('foldBatchNorm', () => {
  it('gives the same result as conv followed by inference BatchNorm', () => {
    // A 1x1 conv, 2 inputs -> 3 outputs, applied to one pixel x.
    const w = Float32Array.from([0.5, -1, 2, 0.25, -0.75, 1.5]);
    const bias = Float32Array.from([0.1, -0.2, 0.3]);
    const bn = {
      gamma: Float32Array.from([1.2, 0.7, -0.4]),
      beta: Float32Array.from([0.05, 0.5, -1]),
      mean: Float32Array.from([0.3, -0.1, 2]),
      variance: Float32Array.from([0.9, 1.7, 0.2]),
      eps: 1e-3,
    };
    const x = [0.8, -1.3];
    const folded = foldBatchNorm(w, bias, bn);
    for (let c = 0; c < 3; c++) {
      const conv = w[2 * c]! * x[0]! + w[2 * c + 1]! * x[1]! + bias[c]!;
      const expected =
        ((conv - bn.mean[c]!) / Math.sqrt(bn.variance[c]! + bn.eps)) * bn.gamma[c]! + bn.beta[c]!;
      const actual = folded.weight[2 * c]! * x[0]! + folded.weight[2 * c + 1]! * x[1]! + folded.bias[c]!;
      expect(actual).toBeCloseTo(expected, 5);
    }
  });

  it('treats a missing conv bias as zero and rejects a shape mismatch', () => {
    const bn = {
      gamma: Float32Array.of(2),
      beta: Float32Array.of(1),
      mean: Float32Array.of(0.5),
      variance: Float32Array.of(1),
      eps: 0,
    };
    expect(Array.from(foldBatchNorm(Float32Array.of(3), undefined, bn).bias)).toEqual([0]);
    expect(() =>
      foldBatchNorm(Float32Array.of(1, 2, 3), undefined, { ...bn, gamma: Float32Array.of(1, 1) }),
    ).toThrow(/3 weights for 2 channels/);
  });
});
