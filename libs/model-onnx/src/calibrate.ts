import type { ModelIR, WeightMap } from '@detsearch/genome';
import seedrandom from 'seedrandom';
import { buildOnnxModel, calibrationTensors, DEFAULT_KEEP_FLOAT_LAYERS } from './export';
import { RangeCollector, type ActivationRanges } from './quantize';
import { OnnxModel } from './runtime';

export type CalibrationMethod = 'minmax' | 'percentile' | 'entropy';

export interface CalibrateOptions {
  method?: CalibrationMethod;
  /** For 'percentile': the upper percentile kept (the lower is 100 - p). */
  percentile?: number;
  keepFloatLayers?: number[];
  threads?: number;
}

/**
 * Runs the fp32 export on the calibration images with onnxruntime, the quantized convs' inputs and
 * outputs added as graph outputs, and returns their ranges: min-max, percentiles of a sample, or the
 * entropy (KL) threshold of the sample's histogram.
 */
export async function calibrate(
  ir: ModelIR,
  weights: WeightMap,
  images: Float32Array[],
  options: CalibrateOptions = {},
): Promise<ActivationRanges> {
  if (images.length === 0) throw new Error('calibrate: no calibration images');
  const method = options.method ?? 'minmax';
  const percentile = method === 'percentile' ? (options.percentile ?? 99.99) : undefined;
  const tensors = calibrationTensors(ir, options.keepFloatLayers ?? DEFAULT_KEEP_FLOAT_LAYERS);
  const fromGraph = tensors.filter((t) => t !== 'images');
  const bytes = buildOnnxModel(ir, weights, {
    precision: 'fp32',
    extraOutputs: fromGraph.filter((t) => !/^output\d+$/.test(t)),
  });
  const model = await OnnxModel.load(bytes, { threads: options.threads });
  const collectors = new Map(tensors.map((t) => [t, new RangeCollector(method === 'minmax' ? 0 : 200_000)]));
  try {
    for (const image of images) {
      collectors.get('images')?.add(image);
      const outputs = await model.runNamed(image);
      for (const t of fromGraph) collectors.get(t)!.add(outputs.get(t)!);
    }
  } finally {
    await model.dispose();
  }
  return new Map(
    [...collectors].map(([t, c]) => [t, method === 'entropy' ? c.entropyRange() : c.range(percentile)]),
  );
}

/** Seeded uniform-noise images in 0..1: a stand-in when no real calibration images are given. */
export function syntheticCalibrationImages(
  imageSize: number,
  count: number,
  seed: string | number = 0,
): Float32Array[] {
  const rng = seedrandom(String(seed));
  return Array.from({ length: count }, () => {
    const img = new Float32Array(3 * imageSize * imageSize);
    for (let i = 0; i < img.length; i++) img[i] = rng();
    return img;
  });
}
