import type { ModelIR, WeightMap } from '@detsearch/genome';
import { calibrate } from './calibrate';
import { buildOnnxModel, type ExportOptions } from './export';

/**
 * IR + weights -> ONNX bytes at the given precision. For int8 static the activation ranges are
 * calibrated first by running the fp32 export on `calibrationImages` with onnxruntime (hence async);
 * every other precision is a pure graph rewrite (`buildOnnxModel`).
 */
export async function exportOnnx(
  ir: ModelIR,
  weights: WeightMap,
  options: ExportOptions,
): Promise<Uint8Array> {
  const q = options.quantization;
  if (options.precision === 'int8' && (q?.scheme ?? 'static') === 'static' && !options.activationRanges) {
    if (!options.calibrationImages?.length)
      throw new Error('export: int8 static needs calibrationImages (or activationRanges)');
    const activationRanges = await calibrate(ir, weights, options.calibrationImages, {
      method: q?.calibration ?? 'minmax',
      keepFloatLayers: options.keepFloatLayers,
    });
    return buildOnnxModel(ir, weights, { ...options, activationRanges });
  }
  return buildOnnxModel(ir, weights, options);
}
