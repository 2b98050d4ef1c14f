export interface BatchNormParams {
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  eps: number;
}

/**
 * Folds an inference-mode BatchNorm into the preceding convolution:
 * w' = w * gamma / sqrt(var + eps) per output channel, b' = (b - mean) * gamma / sqrt(var + eps) + beta.
 * Weights are [out, in/groups, kh, kw]; computed in float64 so folding adds no error beyond the final rounding.
 */
export function foldBatchNorm(
  weight: Float32Array,
  bias: Float32Array | undefined,
  bn: BatchNormParams,
): { weight: Float32Array; bias: Float32Array } {
  const out = bn.gamma.length;
  if (weight.length % out !== 0)
    throw new Error(`foldBatchNorm: ${weight.length} weights for ${out} channels`);
  const perChannel = weight.length / out;
  const w = new Float32Array(weight.length);
  const b = new Float32Array(out);
  for (let c = 0; c < out; c++) {
    const factor = bn.gamma[c]! / Math.sqrt(bn.variance[c]! + bn.eps);
    for (let i = c * perChannel; i < (c + 1) * perChannel; i++) w[i] = weight[i]! * factor;
    b[c] = ((bias?.[c] ?? 0) - bn.mean[c]!) * factor + bn.beta[c]!;
  }
  return { weight: w, bias: b };
}
