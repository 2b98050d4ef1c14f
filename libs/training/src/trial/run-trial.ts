import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DomainError } from '@detsearch/common';
import {
  buildIR,
  modelCost,
  parseGenome,
  type Genome,
  type ModelIR,
  type WeightMap,
} from '@detsearch/genome';
import { getHardwareProfile, measureOnnx, predictLatency } from '@detsearch/latency';
import {
  exportOnnxWithReport,
  loadWeights,
  OnnxModel,
  weightMismatches,
  type ExportReport,
} from '@detsearch/model-onnx';
import { createBatchLoader } from '../dataset/batch-loader';
import type { YoloSample } from '../dataset/types';
import type { Detection } from '../eval/boxes';
import { runInChild, type ChildHooks } from '../trainer/child-process';
import { evaluateBatches, imageToNchw, postprocess } from '../trainer/evaluate';
import { DEFAULT_TRAIN_HYP, prepareDataset, trainDetector, type TrainOutcome } from '../trainer/train';
import type {
  DatasetSpec,
  EpochDecision,
  EpochMetrics,
  TrainHooks,
  TrainHyp,
  TrainStatus,
  TrainSummary,
} from '../trainer/types';

/** One trial of the search, evaluated for real: train, export at the genome's precision, score, time. */
export interface TrialRequest {
  genome: unknown;
  dataset: DatasetSpec;
  epochs: number;
  batchSize?: number;
  /**
   * Training image size (the trial's fidelity); default the genome's. The model is always exported,
   * scored and timed at the genome's own size: that is how it deploys.
   */
  imageSize?: number;
  /**
   * A completed earlier training whose weights this genome can deploy as they are: same
   * architecture, activation, data, recipe, epochs and training size; only deploy-time genes
   * (input size, precision) differ. Training is skipped; export, scoring and timing run as usual.
   */
  trained?: ReusedTraining;
  /** Hardware profile name (search-spaces/hardware) the latency is predicted for. */
  hardwareProfile: string;
  seed: number;
  outDir: string;
  /** Weights file to fine-tune from (e.g. inherited from a supernet); default a fresh initialization. */
  initialWeights?: string;
  /** int8 static: quantization-aware fine-tuning when post-training quantization loses too much. */
  qat?: Partial<QatOptions>;
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

export interface ReusedTraining {
  weightsPath: string;
  summary: TrainSummary;
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
  /** Size the model was exported, scored and timed at (the genome's). */
  imageSize: number;
  /** Size it was trained at (the fidelity's, or the genome's). */
  trainImageSize: number;
  /** Training was not run: the weights of an earlier completed training were deployed. */
  reusedTraining: boolean;
  /** The training run's own summary (what a later trial needs to reuse it). */
  training: TrainSummary;
  epochs: EpochMetrics[];
  imagesPerSecond: number;
  onnxPath: string;
  weightsPath: string;
  /** What quantization cost: how the model was quantized and its mAP before and after. */
  quantization: QuantizationReport;
  seconds: { train: number; export: number; score: number; latency: number; total: number };
}

export interface QuantizationReport {
  /** e.g. "int8 static per-channel, entropy calibration on 32 training images, fp32 rows 0,9,24". */
  method: string;
  /** int8: the rows kept in fp32 (the stem, Detect, and any mixed-precision rows). */
  floatLayers: number[];
  fp32Map50: number;
  /** int8: mAP@0.5 after post-training quantization, and after quantization-aware fine-tuning when it ran. */
  ptqMap50?: number;
  qatMap50?: number;
  /** The better of the two (what the trial deploys). */
  deployedMap50: number;
}

/** When int8 post-training quantization costs too much, fine-tune with fake quantization. */
export interface QatOptions {
  /** mAP@0.5 lost by post-training quantization above which fine-tuning runs (default 0.01). */
  threshold: number;
  /** Fine-tuning epochs (default 2; 0 turns it off). */
  epochs: number;
  /** Learning rate as a fraction of the training lr0 (default 0.1). */
  lrScale: number;
}

export const DEFAULT_QAT: Readonly<QatOptions> = Object.freeze({ threshold: 0.01, epochs: 2, lrScale: 0.1 });

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
  const trained = request.trained
    ? await reuseTraining(request, request.trained, outDir)
    : await trainDetector(
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
  const { summary, genome: trainedGenome, weights, data } = trained;
  if (summary.status === 'failed' || !weights || !summary.weightsPath)
    throw new TrialFailedError(summary.reason ?? 'training produced no weights', summary.epochs);
  const tTrain = performance.now();

  // A convolutional detector runs at any multiple of 32: deploy at the genome's own size.
  const deploySize = parseGenome(request.genome).imageSize;
  const genome = parseGenome({ ...trainedGenome, imageSize: deploySize });
  const ir = deploySize === trainedGenome.imageSize ? trained.ir : buildIR(genome);
  const calibrationCount = request.calibrationImages ?? 32;
  const exported = await exportAtPrecision(ir, weights, genome, data.train, calibrationCount);
  const tExport = performance.now();

  const valSamples = request.maxValImages ? data.val.slice(0, request.maxValImages) : data.val;
  const score = (bytes: Uint8Array) =>
    scoreOnnx(bytes, valSamples, {
      imageSize: deploySize,
      numClasses: genome.numClasses,
      names: data.names,
      batchSize: request.batchSize,
    });
  const ptq = await score(exported.bytes);
  // The float reference at the deployed size (the trainer validated at its own size).
  const fp32 =
    deploySize === summary.imageSize
      ? { map50: summary.map50, map50_95: summary.map50_95 }
      : genome.quantization.precision === 'fp32'
        ? ptq
        : await score((await exportOnnxWithReport(ir, weights, { precision: 'fp32' })).bytes);
  let onnx = exported.bytes;
  let deployed = ptq;
  let qatMap50: number | undefined;
  const qat = { ...DEFAULT_QAT, ...request.qat };
  const ptqLoss = fp32.map50 - ptq.map50;
  if (exported.ranges && qat.epochs > 0 && ptqLoss > qat.threshold) {
    hooks.onLog?.(
      `int8 post-training quantization lost ${ptqLoss.toFixed(4)} mAP@0.5 (> ${qat.threshold}): ` +
        `quantization-aware fine-tuning for ${qat.epochs} epochs`,
    );
    const tuned = await quantizationAwareFineTune(request, summary.weightsPath, exported, ir, qat, hooks);
    const tunedScore = await score(tuned);
    qatMap50 = tunedScore.map50;
    if (tunedScore.map50 > ptq.map50) {
      onnx = tuned;
      deployed = tunedScore;
    }
  }
  const onnxPath = join(outDir, 'model.onnx');
  await writeFile(onnxPath, onnx);
  const tScore = performance.now();

  const measured = await measureOnnx(onnx, {
    runs: request.latencyRuns ?? 30,
    threads: request.latencyThreads ?? 1,
  });
  // The search optimizes the candidate as deployed: the genome at its own image size and precision.
  const predicted = predictLatency(
    { ...(request.genome as object), numClasses: genome.numClasses },
    profile,
    {
      // The rows this export actually kept in float (automatic mixed precision picks them from the weights).
      ...(genome.quantization.precision === 'int8' ? { floatLayers: exported.floatLayers } : {}),
    },
  );
  const cost = modelCost(ir);
  const tEnd = performance.now();
  const s = (a: number, b: number) => (b - a) / 1000;
  return {
    status: summary.status === 'stopped' ? 'stopped' : 'completed',
    map50: deployed.map50,
    map50_95: deployed.map50_95,
    fp32Map50: fp32.map50,
    fp32Map50_95: fp32.map50_95,
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
    imageSize: deploySize,
    trainImageSize: summary.imageSize,
    reusedTraining: request.trained !== undefined,
    training: summary,
    epochs: summary.epochs,
    imagesPerSecond: summary.imagesPerSecond,
    onnxPath,
    weightsPath: summary.weightsPath,
    quantization: {
      method:
        describeQuantization(genome, exported.floatLayers, calibrationCount) +
        (qatMap50 === undefined
          ? ''
          : onnx === exported.bytes
            ? `; quantization-aware fine-tuning (${qat.epochs} epochs) did not beat post-training quantization`
            : `; quantization-aware fine-tuning, ${qat.epochs} epochs`),
      floatLayers: exported.floatLayers,
      fp32Map50: fp32.map50,
      ptqMap50: ptq.map50,
      ...(qatMap50 !== undefined ? { qatMap50 } : {}),
      deployedMap50: deployed.map50,
    },
    seconds: {
      train: s(t0, tTrain),
      export: s(tTrain, tExport),
      score: s(tExport, tScore),
      latency: s(tScore, tEnd),
      total: s(t0, tEnd),
    },
  };
}

/**
 * Fine-tunes the trained weights with the export's own rounding in the forward pass (fake
 * quantization on its calibrated ranges and float rows), then exports them on the same grid.
 */
export async function quantizationAwareFineTune(
  request: TrialRequest,
  trainedWeights: string,
  ptq: ExportReport,
  deployIr: ModelIR,
  qat: QatOptions,
  hooks: TrainHooks,
): Promise<Uint8Array> {
  const genome = parseGenome(request.genome);
  const q = genome.quantization;
  const lr0 = (request.hyp?.lr0 ?? DEFAULT_TRAIN_HYP.lr0) * qat.lrScale;
  const tuned = await trainDetector(
    {
      genome: request.genome,
      dataset: request.dataset,
      epochs: qat.epochs,
      batchSize: request.batchSize,
      imageSize: request.imageSize,
      seed: request.seed,
      outDir: join(resolve(request.outDir), 'qat'),
      hyp: { ...request.hyp, lr0, warmupEpochs: 0 },
      evalEvery: qat.epochs,
      workers: request.workers,
      backend: request.backend,
      initialWeights: trainedWeights,
      fakeQuant: {
        ranges: [...ptq.ranges!].map(([name, r]) => [name, r.min, r.max]),
        floatLayers: ptq.floatLayers,
        perChannel: q.granularity !== 'per-tensor',
      },
      maxBatchesPerEpoch: request.maxBatchesPerEpoch,
      maxValImages: request.maxValImages,
    },
    { onLog: hooks.onLog },
  );
  if (tuned.summary.status === 'failed' || !tuned.weights)
    throw new TrialFailedError(tuned.summary.reason ?? 'quantization-aware fine-tuning failed', []);
  const report = await exportOnnxWithReport(deployIr, tuned.weights, {
    precision: 'int8',
    quantization: q,
    activationRanges: ptq.ranges,
    keepFloatLayers: ptq.floatLayers,
  });
  return report.bytes;
}

/** How a genome's model is deployed, in words: precision, scheme, calibration, float rows. */
export function describeQuantization(
  genome: Genome,
  floatLayers: number[],
  calibrationImages: number,
): string {
  const q = genome.quantization;
  if (q.precision !== 'int8') return `${q.precision} (not quantized)`;
  const parts = [`int8 ${q.scheme} ${q.granularity}`];
  if (q.scheme === 'static')
    parts.push(`${q.calibration} calibration on ${calibrationImages} training images`);
  else parts.push('activation ranges computed at run time');
  parts.push(`fp32 rows ${floatLayers.join(',')}`);
  if (q.autoFloatLayers) parts.push(`${q.autoFloatLayers} chosen by sensitivity`);
  return parts.join(', ');
}

/**
 * ONNX bytes of trained weights at the genome's precision (int8 static calibrated on training
 * images), with the rows the export kept in float.
 */
/**
 * The outcome of an earlier completed training, loaded instead of training again: its data, its
 * genome at the training size and its EMA weights, checked against this genome's architecture.
 */
async function reuseTraining(
  request: TrialRequest,
  reused: ReusedTraining,
  outDir: string,
): Promise<Pick<TrainOutcome, 'summary' | 'genome' | 'ir' | 'weights' | 'data'>> {
  const data = await prepareDataset(request.dataset, outDir);
  const parsed = parseGenome(request.genome);
  const genome = parseGenome({
    ...parsed,
    numClasses: data.numClasses,
    imageSize: reused.summary.imageSize,
  });
  const ir = buildIR(genome);
  const file = loadWeights(reused.weightsPath);
  const problems = weightMismatches(ir, file);
  if (problems.length > 0)
    throw new TrialFailedError(
      `the reused training ${reused.weightsPath} does not fit the genome (${problems.slice(0, 3).join('; ')})`,
    );
  return {
    summary: { ...reused.summary, weightsPath: reused.weightsPath },
    genome,
    ir,
    weights: file.weights,
    data,
  };
}

export async function exportAtPrecision(
  ir: ModelIR,
  weights: WeightMap,
  genome: Genome,
  trainSamples: YoloSample[],
  calibrationCount = 32,
): Promise<ExportReport> {
  const q = genome.quantization;
  const needsCalibration = q.precision === 'int8' && (q.scheme ?? 'static') === 'static';
  return exportOnnxWithReport(ir, weights, {
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
