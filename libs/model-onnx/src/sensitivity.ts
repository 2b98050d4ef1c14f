import { QUANTIZABLE_ROWS, type ModelIR, type Quantization, type WeightMap } from '@detsearch/genome';
import { buildOnnxModel, DEFAULT_KEEP_FLOAT_LAYERS } from './export';
import type { ActivationRanges } from './quantize';
import { OnnxModel } from './runtime';

export interface RowSensitivity {
  layer: number;
  /** Output noise when only this row is int8: sum (q - f)^2 / sum (f - mean f)^2 over the Detect outputs. */
  noise: number;
}

/**
 * Ranks the quantizable rows by how much quantizing each one alone disturbs the model's outputs
 * (most sensitive first). The proxy for "mAP drop when only that row is quantized" is the Detect
 * outputs' noise-to-signal ratio on calibration images: one forward pass per row instead of a
 * validation run per row, and it needs no labels. Layer-wise output error is what onnxruntime's and
 * TensorRT's quantization debuggers report for the same decision.
 */
export async function rankQuantizationSensitivity(
  ir: ModelIR,
  weights: WeightMap,
  images: Float32Array[],
  ranges: ActivationRanges,
  options: { quantization?: Quantization; maxImages?: number; threads?: number } = {},
): Promise<RowSensitivity[]> {
  const probe = images.slice(0, options.maxImages ?? 4);
  if (probe.length === 0) throw new Error('sensitivity: no calibration images');
  const outputsOf = async (bytes: Uint8Array): Promise<Float32Array[][]> => {
    const model = await OnnxModel.load(bytes, { threads: options.threads ?? 1 });
    try {
      const all: Float32Array[][] = [];
      for (const image of probe) all.push(await model.run(image));
      return all;
    } finally {
      await model.dispose();
    }
  };
  const reference = await outputsOf(buildOnnxModel(ir, weights, { precision: 'fp32' }));
  let signal = 0;
  for (const outs of reference)
    for (const o of outs) {
      let mean = 0;
      for (const v of o) mean += v;
      mean /= o.length;
      for (const v of o) signal += (v - mean) ** 2;
    }
  const quantization: Quantization = { precision: 'int8', scheme: 'static', ...options.quantization };
  const result: RowSensitivity[] = [];
  for (const layer of QUANTIZABLE_ROWS) {
    const keepFloatLayers = [...DEFAULT_KEEP_FLOAT_LAYERS, ...QUANTIZABLE_ROWS.filter((r) => r !== layer)];
    const bytes = buildOnnxModel(ir, weights, {
      precision: 'int8',
      quantization,
      activationRanges: ranges,
      keepFloatLayers,
    });
    const outs = await outputsOf(bytes);
    let noise = 0;
    outs.forEach((o, i) =>
      o.forEach((q, l) => {
        const f = reference[i]![l]!;
        for (let k = 0; k < f.length; k++) noise += (q[k]! - f[k]!) ** 2;
      }),
    );
    result.push({ layer, noise: signal > 0 ? noise / signal : noise });
  }
  return result.sort((a, b) => b.noise - a.noise || a.layer - b.layer);
}
