import type { ModelIR, WeightMap } from '@detsearch/genome';
import { calibrate } from './calibrate';
import { buildOnnxModel, DEFAULT_KEEP_FLOAT_LAYERS, shareConcatRanges, type ExportOptions } from './export';
import type { ActivationRanges } from './quantize';
import { rankQuantizationSensitivity, type RowSensitivity } from './sensitivity';

export interface ExportReport {
  bytes: Uint8Array;
  /** int8: table rows the export kept in fp32 (the stem, Detect, the genome's and the automatic ones). */
  floatLayers: number[];
  /** int8 static with `autoFloatLayers`: every quantizable row's sensitivity, most sensitive first. */
  sensitivity?: RowSensitivity[];
  /** int8 static: the activation ranges the export used (calibrated, concat groups shared). */
  ranges?: ActivationRanges;
}

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
  return (await exportOnnxWithReport(ir, weights, options)).bytes;
}

/**
 * `exportOnnx` that also says which rows stayed float. Mixed precision comes from the genome's
 * quantization (`floatLayers`, and `autoFloatLayers`: the k rows whose quantization alone disturbs
 * the outputs most) unless `options.keepFloatLayers` fixes the rows.
 */
export async function exportOnnxWithReport(
  ir: ModelIR,
  weights: WeightMap,
  options: ExportOptions,
): Promise<ExportReport> {
  const q = options.quantization;
  const keep = [
    ...new Set(options.keepFloatLayers ?? [...DEFAULT_KEEP_FLOAT_LAYERS, ...(q?.floatLayers ?? [])]),
  ];
  const sorted = (rows: number[]) => [...rows].sort((a, b) => a - b);
  if (options.precision !== 'int8') return { bytes: buildOnnxModel(ir, weights, options), floatLayers: [] };
  if ((q?.scheme ?? 'static') !== 'static') {
    const bytes = buildOnnxModel(ir, weights, { ...options, keepFloatLayers: keep });
    return { bytes, floatLayers: sorted(keep) };
  }
  const auto = options.keepFloatLayers ? 0 : (q?.autoFloatLayers ?? 0);
  let ranges = options.activationRanges;
  if (!ranges) {
    if (!options.calibrationImages?.length)
      throw new Error('export: int8 static needs calibrationImages (or activationRanges)');
    ranges = await calibrate(ir, weights, options.calibrationImages, {
      method: q?.calibration ?? 'minmax',
      // Ranking needs every row's ranges, not only those the final export quantizes.
      keepFloatLayers: auto > 0 ? DEFAULT_KEEP_FLOAT_LAYERS : keep,
    });
  }
  let sensitivity: RowSensitivity[] | undefined;
  if (auto > 0) {
    if (!options.calibrationImages?.length)
      throw new Error('export: automatic mixed precision needs calibrationImages to rank rows');
    sensitivity = await rankQuantizationSensitivity(ir, weights, options.calibrationImages, ranges, {
      quantization: q,
    });
    keep.push(
      ...sensitivity
        .map((s) => s.layer)
        .filter((l) => !keep.includes(l))
        .slice(0, auto),
    );
  }
  // The ranges the graph carries (concat groups shared): what fake quantization must mirror.
  const used = shareConcatRanges(ir, ranges, keep);
  const bytes = buildOnnxModel(ir, weights, { ...options, activationRanges: used, keepFloatLayers: keep });
  return { bytes, floatLayers: sorted(keep), ranges: used, ...(sensitivity ? { sensitivity } : {}) };
}
