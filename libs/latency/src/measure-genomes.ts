import { buildIR, initWeights, type Genome } from '@detsearch/genome';
import { exportOnnx, syntheticCalibrationImages } from '@detsearch/model-onnx';
import { calibrateProfile, type CalibrationResult } from './calibrate';
import { measureOnnxCpuTime } from './cpu-time';
import { measureOnnx } from './measure';
import type { HardwareProfile } from './profile';

export interface GenomeMeasureOptions {
  runs?: number;
  warmup?: number;
  threads?: number;
  /**
   * Measure every model this many times, interleaved, and keep the lowest median: on a shared
   * machine a burst of other work then spoils one pass, not the result.
   */
  passes?: number;
  /**
   * 'wall' (default): measureOnnx's wall-clock runs. 'cpu': the process's CPU time per run on one
   * thread (measureOnnxCpuTime), for machines busy with other work.
   */
  clock?: 'wall' | 'cpu';
  /** Images the int8 static export calibrates activation ranges on (synthetic, seeded). */
  calibrationImages?: number;
  onProgress?: (done: number, total: number, genome: Genome, medianMs: number) => void;
}

export interface GenomeMeasurement {
  genome: Genome;
  medianMs: number;
  p90Ms: number;
  onnxBytes: number;
}

/** Exports each genome (random weights, its own precision) to ONNX and measures it with onnxruntime here. */
export async function measureGenomes(
  genomes: Genome[],
  options: GenomeMeasureOptions = {},
): Promise<GenomeMeasurement[]> {
  if (options.clock === 'cpu' && (options.threads ?? 1) !== 1)
    throw new Error(
      'measureGenomes: the cpu clock measures one intra-op thread; drop threads or use the wall clock',
    );
  const models: Uint8Array[] = [];
  for (const [i, g] of genomes.entries()) {
    const ir = buildIR(g);
    models.push(
      await exportOnnx(ir, initWeights(ir, { seed: i }), {
        precision: g.quantization.precision,
        quantization: g.quantization,
        calibrationImages: syntheticCalibrationImages(g.imageSize, options.calibrationImages ?? 2, i),
      }),
    );
  }
  const best = genomes.map(() => ({ medianMs: Infinity, p90Ms: Infinity }));
  const passes = options.passes ?? 1;
  for (let pass = 0; pass < passes; pass++) {
    for (const [i, model] of models.entries()) {
      const m =
        options.clock === 'cpu'
          ? await measureOnnxCpuTime(model, { runs: options.runs, warmup: options.warmup })
          : await measureOnnx(model, {
              runs: options.runs,
              warmup: options.warmup,
              threads: options.threads,
            });
      if (m.medianMs < best[i]!.medianMs) best[i] = { medianMs: m.medianMs, p90Ms: m.p90Ms };
      if (pass === passes - 1) options.onProgress?.(i + 1, models.length, genomes[i]!, best[i]!.medianMs);
    }
  }
  return genomes.map((genome, i) => ({ genome, ...best[i]!, onnxBytes: models[i]!.byteLength }));
}

/** Measures genomes here and fits the profile to them (the `host` profile, or a device's via --onnx runs there). */
export async function calibrateByMeasuring(
  profile: HardwareProfile,
  genomes: Genome[],
  options: GenomeMeasureOptions & { fittedAt?: string } = {},
): Promise<CalibrationResult & { measurements: GenomeMeasurement[] }> {
  const measurements = await measureGenomes(genomes, options);
  const result = calibrateProfile(
    profile,
    measurements.map((m) => ({ model: m.genome, measuredMs: m.medianMs })),
    {
      fittedAt: options.fittedAt,
      notes: `${genomes.length} random genomes measured with onnxruntime (${options.clock ?? 'wall'} clock, ${options.threads ?? 'default'} thread(s), median of ${options.runs ?? 'default'} runs)`,
    },
  );
  return { ...result, measurements };
}
