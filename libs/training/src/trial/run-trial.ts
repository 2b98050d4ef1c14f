import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DomainError } from '@detsearch/common';
import { modelCost, type Genome, type ModelIR, type WeightMap } from '@detsearch/genome';
import { getHardwareProfile, measureOnnx, predictLatency } from '@detsearch/latency';
import { exportOnnx, OnnxModel } from '@detsearch/model-onnx';
import { createBatchLoader } from '../dataset/batch-loader';
import type { YoloSample } from '../dataset/types';
import type { Detection } from '../eval/boxes';
import { runInChild, type ChildHooks } from '../trainer/child-process';
import { evaluateBatches, imageToNchw, postprocess } from '../trainer/evaluate';
import { trainDetector } from '../trainer/train';
import type {
  DatasetSpec,
  EpochDecision,
  EpochMetrics,
  TrainHooks,
  TrainHyp,
  TrainStatus,
} from '../trainer/types';

/** One trial of the search, evaluated for real: train, export at the genome's precision, score, time. */
export interface TrialRequest {
  genome: unknown;
  dataset: DatasetSpec;
  epochs: number;
  batchSize?: number;
  /** Training/scoring image size (the trial's fidelity); default the genome's. */
  imageSize?: number;
  /** Hardware profile name (search-spaces/hardware) the latency is predicted for. */
  hardwareProfile: string;
  seed: number;
  outDir: string;
  /** Weights file to fine-tune from (e.g. inherited from a supernet); default a fresh initialization. */
  initialWeights?: string;
  /** Exported ONNX of a teacher (same classes, same image size) to distil from. */
  teacherOnnx?: string;
  distillWeight?: number;
  hyp?: Partial<TrainHyp>;
  evalEvery?: number;
  workers?: number;
  backend?: string;
  /** Calibration images for int8 static (default 32 training images). */
  calibrationImages?: number;
  /** Timed onnxruntime runs for the host latency (default 30), threads (default 1: one trial per core). */
  latencyRuns?: number;
  latencyThreads?: number;
  maxBatchesPerEpoch?: number;
  maxValImages?: number;
}

export interface TrialRunResult {
  /** 'stopped' when onEpoch asked to stop early (pruned); the model is still exported and scored. */
  status: Exclude<TrainStatus, 'failed'>;
  /** mAP of the exported ONNX model at the genome's precision, through onnxruntime (as deployed). */
  map50: number;
  map50_95: number;
  /** mAP of the fp32 EMA weights through tfjs, for the quantization loss. */
  fp32Map50: number;
  fp32Map50_95: number;
  /** Predicted on the hardware profile for the genome as given (its own imageSize). */
  latencyMs: number;
  latencyBound: string;
  hardwareProfile: string;
  /** Median on this host with onnxruntime (the exported model, trial image size). */
  measuredLatencyMs: number;
  /** How measuredLatencyMs was taken: timed runs and intra-op threads. */
  measuredLatencyRuns: number;
  measuredLatencyThreads: number;
  params: number;
  gflops: number;
  /** Bytes of the exported ONNX model. */
  sizeBytes: number;
  precision: string;
  backend: string;
  imageSize: number;
  epochs: EpochMetrics[];
  imagesPerSecond: number;
  onnxPath: string;
  weightsPath: string;
  seconds: { train: number; export: number; score: number; latency: number; total: number };
}

/** The trial's training diverged or broke: the message says why; the epochs so far are attached. */
export class TrialFailedError extends DomainError {
  constructor(
    message: string,
    readonly epochs: EpochMetrics[] = [],
  ) {
    super('TRIAL.FAILED', message, undefined, { epochs });
    this.name = 'TrialFailedError';
  }
}

/** Letterboxed training images as NCHW [1,3,S,S] arrays: int8 calibration data. */
async function calibrationImages(
  samples: YoloSample[],
  count: number,
  imageSize: number,
): Promise<Float32Array[]> {
  const chosen = samples.slice(0, count);
  const loader = createBatchLoader(chosen, {
    batchSize: chosen.length,
    imageSize,
    augment: false,
    workers: 0,
  });
  try {
    const out: Float32Array[] = [];
    for await (const batch of loader.epoch(0))
      for (let i = 0; i < batch.size; i++) out.push(imageToNchw(batch.images, i, imageSize));
    return out;
  } finally {
    await loader.close();
  }
}

/** COCO mAP of an exported model (batch 1, NCHW) on samples, through onnxruntime. */
export async function scoreOnnx(
  onnx: Uint8Array | string,
  samples: YoloSample[],
  options: {
    imageSize: number;
    numClasses: number;
    names?: readonly string[];
    threads?: number;
    batchSize?: number;
  },
): Promise<{ map50: number; map50_95: number }> {
  const model = await OnnxModel.load(onnx, { threads: options.threads ?? 1 });
  const loader = createBatchLoader(samples, {
    batchSize: options.batchSize ?? 16,
    imageSize: options.imageSize,
    augment: false,
    workers: 0,
  });
  try {
    const r = await evaluateBatches(
      loader.epoch(0),
      async (batch) => {
        const dets: Detection[][] = [];
        for (let i = 0; i < batch.size; i++) {
          const outs = await model.run(imageToNchw(batch.images, i, batch.imageSize));
          const levels = outs.map((data, l) => {
            return { data, shape: inferNchwShape(data.length, batch.imageSize, l, options.numClasses) };
          });
          dets.push(postprocess(levels, options.numClasses, 'nchw')[0]!);
        }
        return dets;
      },
      { names: options.names },
    );
    return { map50: r.map50, map50_95: r.map50_95 };
  } finally {
    await loader.close();
    await model.dispose();
  }
}

/** [1, 3*(nc+5), S/stride, S/stride] of Detect level l (strides 8, 16, 32). */
function inferNchwShape(length: number, imageSize: number, level: number, numClasses: number): number[] {
  const g = imageSize / (8 << level);
  const shape = [1, 3 * (numClasses + 5), g, g];
  if (shape.reduce((a, b) => a * b, 1) !== length)
    throw new Error(`ONNX output ${level} has ${length} values, expected [${shape}]`);
  return shape;
}

/**
 * Runs a trial in this process (the 'full' evaluator calls it in a child process): train, export
 * ONNX at the genome's precision (int8 static calibrated on training images), score the exported
 * model on the val split with onnxruntime, measure it on this host, predict it on the profile.
 */
export async function runTrialInProcess(
  request: TrialRequest,
  hooks: TrainHooks = {},
): Promise<TrialRunResult> {
  const t0 = performance.now();
  const profile = getHardwareProfile(request.hardwareProfile);
  const outDir = resolve(request.outDir);
  const trained = await trainDetector(
    {
      genome: request.genome,
      dataset: request.dataset,
      epochs: request.epochs,
      batchSize: request.batchSize,
      imageSize: request.imageSize,
      seed: request.seed,
      outDir,
      hyp: request.hyp,
      evalEvery: request.evalEvery,
      workers: request.workers,
      backend: request.backend,
      initialWeights: request.initialWeights,
      teacherOnnx: request.teacherOnnx,
      distillWeight: request.distillWeight,
      maxBatchesPerEpoch: request.maxBatchesPerEpoch,
      maxValImages: request.maxValImages,
    },
    hooks,
  );
  const { summary, ir, genome, weights, data } = trained;
  if (summary.status === 'failed' || !weights || !summary.weightsPath)
    throw new TrialFailedError(summary.reason ?? 'training produced no weights', summary.epochs);
  const tTrain = performance.now();

  const onnx = await exportAtPrecision(ir, weights, genome, data.train, request.calibrationImages ?? 32);
  const onnxPath = join(outDir, 'model.onnx');
  await writeFile(onnxPath, onnx);
  const tExport = performance.now();

  const valSamples = request.maxValImages ? data.val.slice(0, request.maxValImages) : data.val;
  const deployed = await scoreOnnx(onnx, valSamples, {
    imageSize: summary.imageSize,
    numClasses: genome.numClasses,
    names: data.names,
    batchSize: request.batchSize,
  });
  const tScore = performance.now();

  const measured = await measureOnnx(onnx, {
    runs: request.latencyRuns ?? 30,
    threads: request.latencyThreads ?? 1,
  });
  // The search optimizes the candidate as deployed: the genome at its own image size and precision.
  const predicted = predictLatency({ ...(request.genome as object), numClasses: genome.numClasses }, profile);
  const cost = modelCost(ir);
  const tEnd = performance.now();
  const s = (a: number, b: number) => (b - a) / 1000;
  return {
    status: summary.status === 'stopped' ? 'stopped' : 'completed',
    map50: deployed.map50,
    map50_95: deployed.map50_95,
    fp32Map50: summary.map50,
    fp32Map50_95: summary.map50_95,
    latencyMs: predicted.predictedMs,
    latencyBound: predicted.bound,
    hardwareProfile: profile.name,
    measuredLatencyMs: measured.medianMs,
    measuredLatencyRuns: measured.runs,
    measuredLatencyThreads: measured.threads,
    params: cost.params,
    gflops: cost.gflops,
    sizeBytes: onnx.byteLength,
    precision: genome.quantization.precision,
    backend: summary.backend,
    imageSize: summary.imageSize,
    epochs: summary.epochs,
    imagesPerSecond: summary.imagesPerSecond,
    onnxPath,
    weightsPath: summary.weightsPath,
    seconds: {
      train: s(t0, tTrain),
      export: s(tTrain, tExport),
      score: s(tExport, tScore),
      latency: s(tScore, tEnd),
      total: s(t0, tEnd),
    },
  };
}

/** ONNX bytes of trained weights at the genome's precision; int8 static is calibrated on training images. */
export async function exportAtPrecision(
  ir: ModelIR,
  weights: WeightMap,
  genome: Genome,
  trainSamples: YoloSample[],
  calibrationCount = 32,
): Promise<Uint8Array> {
  const q = genome.quantization;
  const needsCalibration = q.precision === 'int8' && (q.scheme ?? 'static') === 'static';
  return exportOnnx(ir, weights, {
    precision: q.precision,
    quantization: q,
    ...(needsCalibration
      ? { calibrationImages: await calibrationImages(trainSamples, calibrationCount, ir.input.shape.height) }
      : {}),
  });
}

/** Progress of a running trial: a log line, or an epoch's metrics (answered with continue/stop). */
export type TrialProgress = { type: 'log'; line: string } | { type: 'epoch'; metrics: EpochMetrics };
export type TrialProgressListener = (
  event: TrialProgress,
) => EpochDecision | void | Promise<EpochDecision | void>;

/**
 * Runs a trial in a child process (off the event loop; a crash cannot take the caller down). Progress
 * goes to `onProgress` (or hooks); returning 'stop' for an epoch event ends training early (the model
 * is still exported and scored, status 'stopped'). `options.signal` aborts (kills the child).
 * Rejects with TrialFailedError (code TRIAL.FAILED) when training diverges, a DomainError for bad input.
 */
export function runTrial(
  request: TrialRequest,
  onProgress?: TrialProgressListener | ChildHooks,
  options: Pick<ChildHooks, 'signal' | 'timeoutMs'> = {},
): Promise<TrialRunResult> {
  const hooks: ChildHooks =
    typeof onProgress === 'function'
      ? {
          ...options,
          onLog: (line) => void onProgress({ type: 'log', line }),
          onEpoch: async (metrics) => (await onProgress({ type: 'epoch', metrics })) ?? 'continue',
        }
      : { ...options, ...onProgress };
  return runInChild<TrialRunResult>('trial', request, hooks).catch((e: unknown) => {
    if (e instanceof DomainError && e.code === 'TRIAL.FAILED') throw new TrialFailedError(e.message);
    throw e;
  });
}
