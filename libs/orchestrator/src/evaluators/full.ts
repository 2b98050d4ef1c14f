import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import {
  getHardwareProfile,
  hostCpu,
  measuredProvenance,
  predictedProvenance,
  type HardwareProfile,
} from '@detsearch/latency';
import { buildIR, genomeKey, modelCost, type Genome } from '@detsearch/genome';
import { raceAbort } from '../abort';
import { recordTrialThroughput } from '../throughput';
import type {
  EpochReport,
  EvaluatorDefinition,
  EvaluationContext,
  EvaluationRequest,
  TrialEvaluator,
  TrialMetrics,
} from '../types';

/** Synthetic dataset used when a search names none: generated once per setting, then shared. */
export interface SyntheticDatasetOptions {
  images: number;
  seed: number;
  size: number;
}

export interface FullEvaluatorOptions {
  /** DETSEARCH_HOME: trial artifacts go to <home>/trials/<search>/<trial>, datasets to <home>/datasets. */
  home?: string;
  synthetic?: SyntheticDatasetOptions;
  /** Images per batch; default the trainer's (DEFAULT_BATCH_SIZE). */
  batchSize?: number;
  /** Kill a trial's training process after this long (default: no limit). */
  timeoutMs?: number;
  /** Datasets named by searches are read only below this folder (default: the working directory). */
  dataRoot?: string;
  /** tfjs backend to train on (default 'auto'). */
  backend?: string;
}

/** The training benchmark's set (800 train, 200 val): fewer val images make mAP differences noise. */
export const DEFAULT_SYNTHETIC: SyntheticDatasetOptions = { images: 1000, seed: 0, size: 160 };
/** Fraction of the synthetic images in its val split (the generator's default). */
export const SYNTHETIC_VAL_FRACTION = 0.2;
/** Classes of the synthetic shapes dataset (circle, square, triangle, cross, ring, star). */
export const SYNTHETIC_NUM_CLASSES = 6;

type Training = typeof import('@detsearch/training');

/**
 * The product's evaluator: trains the candidate with TensorFlow.js in a child process (one core),
 * exports ONNX at the genome's precision, scores the exported model's mAP with onnxruntime (as
 * deployed), measures it on this host and predicts its latency on the search's hardware profile.
 * @detsearch/training is loaded lazily so processes that never train do not pay for tfjs.
 */
export class FullEvaluator implements TrialEvaluator {
  readonly name = 'full';
  private readonly home: string;
  private readonly synthetic: SyntheticDatasetOptions;
  private datasetReady: Promise<string> | null = null;
  /** Trainings running in this process, by cache folder: a trial that can reuse one waits for it. */
  private readonly training = new Map<string, Promise<unknown>>();

  /**
   * What a trial's training depends on within a search (the data, recipe and seed are the
   * search's): the architecture and activation, the epochs, and the training size. The precision
   * never changes training, and neither does the input size when the fidelity fixes the training
   * size, so those genomes share one training and deploy it at their own size and precision.
   */
  trainingKey(genome: Genome, fidelity: EvaluationRequest['fidelity']): string {
    return fullTrainingKey(genome, fidelity);
  }

  /** A search's shared trainings are scratch: its trials' models and weights are in the artifact store. */
  async dispose(search: { searchId: string }): Promise<void> {
    rmSync(join(this.home, 'trials', search.searchId, 'trainings'), { recursive: true, force: true });
  }

  constructor(private readonly options: FullEvaluatorOptions = {}) {
    this.home = resolve(options.home ?? '.detsearch');
    this.synthetic = options.synthetic ?? DEFAULT_SYNTHETIC;
  }

  async evaluate(req: EvaluationRequest, ctx: EvaluationContext): Promise<TrialMetrics> {
    const training: Training = await import('@detsearch/training');
    const dataset = req.dataset
      ? {
          dataYaml: resolve(req.dataset),
          ...(this.options.dataRoot ? { dataRoot: this.options.dataRoot } : {}),
        }
      : { dataYaml: await this.syntheticDataset(training), dataRoot: join(this.home, 'datasets') };
    const outDir = join(this.home, 'trials', req.searchId, req.trialId);
    mkdirSync(outDir, { recursive: true });
    const cacheDir = join(
      this.home,
      'trials',
      req.searchId,
      'trainings',
      createHash('sha256').update(this.trainingKey(req.genome, req.fidelity)).digest('hex').slice(0, 24),
    );
    const inFlight = this.training.get(cacheDir);
    // A cancel while waiting rejects here; the trial job sees the aborted signal and records that.
    if (inFlight)
      await raceAbort(
        inFlight.catch(() => undefined),
        ctx.signal,
      );
    const reused = readTraining(cacheDir);
    const epochs: EpochReport[] = [];
    const run = training.runTrial(
      {
        genome: req.genome,
        dataset,
        epochs: req.fidelity.epochs,
        imageSize: req.fidelity.imageSize,
        // Nothing can be pruned before minEpochs: validations before it would only cost time.
        ...((req.fidelity.minEpochs ?? 1) >= req.fidelity.epochs ? { evalEvery: req.fidelity.epochs } : {}),
        // The trainer's default recipe (DEFAULT_TRAIN_HYP, DEFAULT_BATCH_SIZE: AdamW lr0 4e-3, a step
        // per batch of 8): search trials train for a few epochs, where the number of optimizer steps
        // limits accuracy; it reaches a given mAP fastest of the recipes measured in bench/train.ts.
        batchSize: this.options.batchSize,
        ...(this.options.backend ? { backend: this.options.backend } : {}),
        hardwareProfile: req.hardwareProfile,
        seed: req.seed ?? 0,
        outDir,
        ...(reused ? { trained: reused.trained } : {}),
      },
      {
        timeoutMs: this.options.timeoutMs,
        signal: ctx.signal,
        onEpoch: async (m) => {
          const report = epochReport(m);
          epochs.push(report);
          return ctx.onEpoch(report);
        },
      },
    );
    if (!reused) this.training.set(cacheDir, run);
    let result: Awaited<typeof run>;
    try {
      result = await run;
    } finally {
      if (this.training.get(cacheDir) === run) this.training.delete(cacheDir);
    }
    // Only a whole training is shared: a pruned one stopped early.
    if (!reused && result.status === 'completed') saveTraining(cacheDir, req.trialId, result);
    // A reusing trial reports the learning curve of the training it deployed.
    if (reused) epochs.push(...result.training.epochs.map(epochReport));
    if (!reused)
      try {
        const trained = modelCost(buildIR({ ...req.genome, imageSize: result.trainImageSize })).gflops;
        recordTrialThroughput(this.home, trained, result.imagesPerSecond);
      } catch {
        // the rate only refines later duration estimates; a trial never fails over it
      }
    const latency = reportedLatency(req, result);
    return {
      map50: result.map50,
      map50_95: result.map50_95,
      fp32Map50_95: result.fp32Map50_95,
      ...latency,
      measuredLatencyMs: result.measuredLatencyMs,
      params: result.params,
      gflops: result.gflops,
      sizeBytes: result.sizeBytes,
      backend: result.backend,
      epochs,
      onnxPath: result.onnxPath,
      weightsPath: result.weightsPath,
      workDir: outDir,
      notes:
        (reused
          ? `no training: deployed the weights trained by trial ${reused.trialId} (same architecture, ` +
            `${result.epochs.length} epochs at ${result.trainImageSize}px; only input size or precision differ); `
          : `trained ${result.epochs.length} epochs at ${result.trainImageSize}px on ${result.backend} ` +
            `(${result.imagesPerSecond.toFixed(1)} img/s, ${result.seconds.total.toFixed(0)} s); `) +
        (result.imageSize !== result.trainImageSize ? `exported and scored at ${result.imageSize}px; ` : '') +
        `mAP@.5:.95 ${result.map50_95.toFixed(4)} as deployed at ${result.precision}, ` +
        `${result.fp32Map50_95.toFixed(4)} fp32; quantization: ${result.quantization.method}, ` +
        `mAP@.5 ${result.quantization.fp32Map50.toFixed(4)} fp32 -> ` +
        (result.quantization.ptqMap50 !== undefined
          ? `${result.quantization.ptqMap50.toFixed(4)} post-training` +
            (result.quantization.qatMap50 !== undefined
              ? `, ${result.quantization.qatMap50.toFixed(4)} quantization-aware`
              : '') +
            ' -> '
          : '') +
        `${result.quantization.deployedMap50.toFixed(4)} deployed; host ${result.measuredLatencyMs.toFixed(2)} ms` +
        (req.dataset
          ? ''
          : `; synthetic dataset (${this.synthetic.images} images, seed ${this.synthetic.seed})`),
    };
  }

  /** data.yaml of the shared synthetic dataset, generated on first use (atomically, for many workers). */
  private syntheticDataset(training: Training): Promise<string> {
    this.datasetReady ??= sharedSyntheticDataset(training, this.home, this.synthetic).catch((err) => {
      this.datasetReady = null;
      throw err;
    });
    return this.datasetReady;
  }
}

/** What runTrial reports about latency, as far as choosing the trial's latency is concerned. */
export interface TrialLatencies {
  latencyMs: number;
  measuredLatencyMs: number;
  measuredLatencyRuns: number;
  measuredLatencyThreads: number;
  /** Image size the model was exported and measured at. */
  imageSize: number;
}

/**
 * The latency a trial reports. On the `host` profile the search runs where it deploys: the
 * latency it optimizes is the one measured here (when measured at the genome's own input size),
 * not a prediction beside it. Elsewhere, the profile's prediction; both say which they are.
 */
export function reportedLatency(
  req: Pick<EvaluationRequest, 'hardwareProfile' | 'genome'>,
  result: TrialLatencies,
  profile: () => HardwareProfile = () => getHardwareProfile(req.hardwareProfile),
): Pick<TrialMetrics, 'latencyMs' | 'latencySource' | 'latencyProvenance'> {
  if (req.hardwareProfile === 'host' && result.imageSize === req.genome.imageSize)
    return {
      latencyMs: result.measuredLatencyMs,
      latencySource: 'measured',
      latencyProvenance: measuredProvenance({
        where: `this host (${hostCpu().model})`,
        threads: result.measuredLatencyThreads,
        runs: result.measuredLatencyRuns,
      }),
    };
  return {
    latencyMs: result.latencyMs,
    latencySource: 'predicted',
    latencyProvenance: predictedProvenance(profile()),
  };
}

/**
 * The synthetic dataset of these settings under <home>/datasets, generated once and shared by every
 * trial, worker and supernet; returns its data.yaml.
 */
export async function sharedSyntheticDataset(
  training: Pick<Training, 'synthDataset'>,
  home: string,
  synthetic: SyntheticDatasetOptions,
): Promise<string> {
  const { images, seed, size } = synthetic;
  const dir = join(home, 'datasets', `synth-n${images}-s${seed}-px${size}`);
  const yaml = join(dir, 'data.yaml');
  if (existsSync(yaml)) return yaml;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await training.synthDataset(tmp, { images, seed, size });
  try {
    renameSync(tmp, dir);
  } catch (err) {
    // another process finished first: same seed, same bytes, so use theirs
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(yaml)) throw err;
  }
  return yaml;
}
export const fullEvaluator: EvaluatorDefinition = {
  name: 'full',
  label: 'Train and score',
  description:
    'Trains the candidate, exports ONNX at its precision, scores the exported model with onnxruntime and measures its latency.',
  trains: true,
  analytic: false,
  load: (s) => new FullEvaluator({ home: s.home, dataRoot: s.dataRoot, backend: s.backend }),
};

/** An epoch as the search counts it: the trainer counts epochs from 0, the search (and ASHA) from 1. */
function epochReport(m: import('@detsearch/training').EpochMetrics): EpochReport {
  return {
    epoch: m.epoch + 1,
    loss: m.box + m.obj + m.cls + (m.distill ?? 0),
    ...(m.map50 !== null ? { map50: m.map50 } : {}),
    ...(m.map50_95 !== null ? { map50_95: m.map50_95 } : {}),
  };
}

/** The full evaluator's training key (see FullEvaluator.trainingKey). */
export function fullTrainingKey(genome: Genome, fidelity: EvaluationRequest['fidelity']): string {
  const trained = {
    ...genome,
    imageSize: fidelity.imageSize ?? genome.imageSize,
    quantization: { precision: 'fp32' as const },
  };
  return `${genomeKey(trained)} e${fidelity.epochs}`;
}

type ReusedTraining = import('@detsearch/training').ReusedTraining;

/** A completed training saved for reuse: its weights and its summary, and the trial that ran it. */
function readTraining(dir: string): { trained: ReusedTraining; trialId: string } | null {
  try {
    const meta = JSON.parse(readFileSync(join(dir, 'training.json'), 'utf8')) as {
      trialId: string;
      summary: ReusedTraining['summary'];
    };
    const weightsPath = join(dir, 'weights.safetensors');
    return existsSync(weightsPath)
      ? { trained: { weightsPath, summary: meta.summary }, trialId: meta.trialId }
      : null;
  } catch {
    return null;
  }
}

/** Saves a completed training for the genomes that share it; written whole or not at all. */
function saveTraining(
  dir: string,
  trialId: string,
  result: { weightsPath: string; training: ReusedTraining['summary'] },
): void {
  if (existsSync(dir)) return;
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  try {
    mkdirSync(tmp, { recursive: true });
    copyFileSync(result.weightsPath, join(tmp, 'weights.safetensors'));
    writeFileSync(join(tmp, 'training.json'), JSON.stringify({ trialId, summary: result.training }));
    renameSync(tmp, dir);
  } catch {
    // another process saved it first, or the disk is full: the trial itself is unaffected
    rmSync(tmp, { recursive: true, force: true });
  }
}
