/** Quantization arithmetic (ONNX conventions: x = (q - zeroPoint) * scale). Pure. */

export interface ActivationRange {
  min: number;
  max: number;
}

/** Calibrated range per ONNX tensor name of the fp32 export. */
export type ActivationRanges = Map<string, ActivationRange>;

export interface AffineQParams {
  scale: number;
  zeroPoint: number;
}

/** uint8 asymmetric parameters for an activation range; the range is widened to include 0 so 0 is exact. */
export function uint8QParams(range: ActivationRange): AffineQParams {
  const min = Math.min(range.min, 0);
  const max = Math.max(range.max, 0);
  if (!(max > min) || !Number.isFinite(max - min)) return { scale: 1, zeroPoint: 0 };
  const scale = (max - min) / 255;
  const zeroPoint = Math.min(255, Math.max(0, Math.round(-min / scale)));
  return { scale, zeroPoint };
}

export interface QuantizedWeights {
  data: Int8Array;
  /** One scale (per-tensor) or one per output channel (axis 0). */
  scales: Float32Array;
}

/**
 * Symmetric int8 weights in [-127, 127] with zero point 0, per tensor or per output channel. int8
 * (not uint8) weights are what onnxruntime's x86 kernels speed up.
 */
export function quantizeWeightsInt8(
  weight: Float32Array,
  outChannels: number,
  perChannel: boolean,
  /** Lower bounds on each channel's scale (see `minWeightScalesForBias`). */
  minScales?: ArrayLike<number>,
): QuantizedWeights {
  const per = weight.length / outChannels;
  const groups = perChannel ? outChannels : 1;
  const span = perChannel ? per : weight.length;
  const scales = new Float32Array(groups);
  const data = new Int8Array(weight.length);
  for (let g = 0; g < groups; g++) {
    let maxAbs = 0;
    for (let i = g * span; i < (g + 1) * span; i++) maxAbs = Math.max(maxAbs, Math.abs(weight[i]!));
    let floor = 0;
    const [c0, c1] = perChannel ? [g, g + 1] : [0, outChannels];
    if (minScales) for (let c = c0; c < c1; c++) floor = Math.max(floor, minScales[c]!);
    scales[g] = Math.max(maxAbs > 0 ? maxAbs / 127 : 1, floor);
    const s = scales[g]!; // the float32 value the runtime will use
    for (let i = g * span; i < (g + 1) * span; i++)
      data[i] = Math.max(-127, Math.min(127, Math.round(weight[i]! / s)));
  }
  return { data, scales };
}

/**
 * Smallest weight scales that keep the int32 bias (scale inputScale * weightScale) within 2^30: for
 * a tiny input range a large bias would otherwise overflow and clip (onnxruntime's quantizer widens
 * the weight scale the same way).
 */
export function minWeightScalesForBias(bias: Float32Array, inputScale: number): Float32Array {
  return Float32Array.from(bias, (b) => Math.abs(b) / (inputScale * 2 ** 30));
}

/** int32 bias with scale inputScale * weightScale[c] (what QLinearConv requires), zero point 0. */
export function quantizeBiasInt32(
  bias: Float32Array,
  inputScale: number,
  weightScales: Float32Array,
): { data: Int32Array; scales: Float32Array } {
  const scales = new Float32Array(weightScales.length);
  for (let i = 0; i < scales.length; i++) scales[i] = inputScale * weightScales[i]!;
  const data = new Int32Array(bias.length);
  for (let c = 0; c < bias.length; c++) {
    const s = scales[scales.length === 1 ? 0 : c]!;
    data[c] = Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.round(bias[c]! / s)));
  }
  return { data, scales };
}

/** Streams values into min/max and a bounded sample for percentile ranges. */
export class RangeCollector {
  min = Infinity;
  max = -Infinity;
  private readonly samples: number[] = [];
  private seen = 0;

  constructor(private readonly maxSamples = 0) {}

  add(values: ArrayLike<number>): void {
    // A strided sample keeps memory bounded on large maps while covering the whole tensor.
    const stride = this.maxSamples > 0 ? Math.max(1, Math.floor(values.length / this.maxSamples)) : 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v < this.min) this.min = v;
      if (v > this.max) this.max = v;
      if (stride && i % stride === 0) this.samples.push(v);
    }
    this.seen += values.length;
  }

  /** min-max, or the [100 - p, p] percentiles of the sample (p = 99.99 clips rare outliers). */
  range(percentile?: number): ActivationRange {
    if (percentile === undefined || this.samples.length === 0) return { min: this.min, max: this.max };
    const sorted = Float64Array.from(this.samples).sort();
    const at = (q: number) =>
      sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))]!;
    return { min: at(1 - percentile / 100), max: at(percentile / 100) };
  }
}
