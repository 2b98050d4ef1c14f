import type { Activation, Genome, WeightMap } from '@detsearch/genome';
import type { SearchSpaceSpec } from '@detsearch/search-space';
import type { DatasetSpec } from '@detsearch/training';

/**
 * A weight-sharing supernet: the weights of the largest architecture of a search space (canonical
 * state_dict names), from which every genome of the space takes its weights by slicing. Channels are
 * stored in importance order, so a narrower sub-network keeps the most important ones; the
 * depthwise-separable substitutes of the space's separable rows are held as their own tensors.
 */
export interface SupernetWeights {
  /** The dense largest architecture (numClasses is the dataset's). */
  largest: Genome;
  /** Rows whose depthwise-separable weights are held too. */
  separableRows: number[];
  /** One supernet per activation: every sub-network uses this one. */
  activation: Activation;
  weights: WeightMap;
  /** Shape of every tensor of `weights`. */
  shapes: Map<string, number[]>;
}

export interface LargestGenomeOptions {
  /** The supernet's activation; must be one of the space's. Default: the space's first. */
  activation?: Activation;
  /** The dataset's class count (default the space's). */
  numClasses?: number;
}

/** Progress of a supernet training run. */
export interface SupernetProgress {
  epoch: number;
  /** Step within the epoch and the epoch's length. */
  step: number;
  stepsPerEpoch: number;
  /** Training time so far, over all resumed runs. */
  elapsedMs: number;
  /** Estimated time left (time budget or remaining epochs, whichever ends first). */
  etaMs: number;
  /** Loss of the largest sub-network at this step. */
  loss: number;
  phase: 'prepare' | 'train' | 'checkpoint' | 'evaluate' | 'done';
  /**
   * Per-size training (`perSize`): each size's own run. The fields above then summarize them: the
   * least advanced epoch and phase, the longest elapsed and remaining times, the mean loss.
   */
  sizes?: Array<{ imageSize: number } & Omit<SupernetProgress, 'sizes'>>;
}

export interface TrainSupernetOptions {
  /** The search space spec (the YAML form of libs/search-space), compiled inside. */
  space: SearchSpaceSpec;
  activation: Activation;
  dataset: DatasetSpec;
  /** Checkpoints and the final weights; a new call with the same outDir resumes. */
  outDir: string;
  /** Time budget of training (over all resumed runs), minutes. */
  minutes?: number;
  /** Epochs at most (default 1000 when only minutes are given, else 10). */
  epochs?: number;
  seed: number;
  /** Training image sizes to sample from (default the space's sizes up to 160). */
  imageSizes?: number[];
  /**
   * One weight set per training image size, each trained at its size only (default false: one set
   * shared by every size, trained multi-scale). Sharing weights across input sizes biases the
   * ranking between sizes (the smaller size is over-estimated relative to standalone training,
   * which trains at one size); separate sets remove that bias. The sizes train at once, each in its
   * own process (one core each) under the same time budget, so on a machine with a core per size
   * the wall time is that of one supernet; the file holds every set (saveSupernetSets) and scoring
   * takes the set of the genome's size (supernetForSize).
   */
  perSize?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: SupernetProgress) => void;
  /** Images per step (default 8). */
  batchSize?: number;
  /** Random sub-networks per step besides the largest and the smallest (default 1). */
  randomSubnets?: number;
  /**
   * Weight of in-place distillation from the largest for the other sub-networks, relative to the
   * labels (the detection loss's own gains weigh its terms). Default 0: measured to hurt at budgets
   * of hundreds of steps; 1 weighs it like the labels.
   */
  distillWeight?: number;
  /**
   * Fraction of training over which that weight ramps up from 0 (default 0.5): an untrained
   * largest network has nothing to teach, and distilling towards its early outputs pulls the
   * shared weights away from the labels.
   */
  distillRamp?: number;
  /**
   * Fraction of training in which only the largest network trains (default 0.25): the first stage
   * of Once-for-All's progressive shrinking. Its steps cost a third of a sandwich step, and the
   * sub-networks then start from, and distil from, a network that has learned something.
   */
  largestFirst?: number;
  /**
   * Fraction of the sandwich stage (after `largestFirst`) whose random sub-networks keep every
   * width dimension at its maximum and sample the others (default 0): Once-for-All's order,
   * elastic depth before elastic width, so that shallow sub-networks learn on the full channel
   * set and not only where a random draw makes them wide.
   */
  depthFirst?: number;
  /**
   * The sandwich's smallest member has every separable row substituted (default true): it is the
   * space's least compute, and separable weights then train in every sandwich step instead of only
   * when a random sub-network draws them. false: the dense smallest (the recipe before).
   */
  separableSmallest?: boolean;
  /** Peak learning rate of AdamW (default 4e-3, the trainer's). */
  lr0?: number;
  /** Seconds between checkpoints (default 60). */
  checkpointSeconds?: number;
  /** Caps for quick runs and tests. */
  maxBatchesPerEpoch?: number;
  maxValImages?: number;
  /** Run in this process instead of a child (tests of the in-process loop; never the API). */
  inProcess?: boolean;
}

export interface SupernetMetrics {
  /** Validation mAP of the largest and smallest sub-networks (BatchNorm recalibrated, fp32 tfjs). */
  largestMap50: number;
  largestMap50_95: number;
  smallestMap50: number;
  smallestMap50_95: number;
  /** Sandwich steps (over every weight set when per size). */
  steps: number;
  imageSizes: number[];
  /** Per-size training: each set's own numbers (the fields above are the largest size's, steps the sum). */
  perSize?: Array<{
    imageSize: number;
    largestMap50: number;
    largestMap50_95: number;
    smallestMap50: number;
    smallestMap50_95: number;
    steps: number;
    epochs: number;
    minutes: number;
  }>;
}

export interface TrainSupernetResult {
  weightsPath: string;
  /** Epochs trained (per size: the fewest of any size; metrics.perSize has each). */
  epochs: number;
  /** Training time over all resumed runs (per size: the longest of any size, the runs being concurrent). */
  minutes: number;
  metrics: SupernetMetrics;
  /** 'budget' when the time budget ended training before the epochs did (per size: of any size). */
  status: 'completed' | 'budget';
  /** Runs that resumed from a checkpoint (0 for a run that went through at once; per size: the most of any size). */
  resumed: number;
}

export interface ScoreCandidateOptions {
  /**
   * A supernet file (saveSupernet, or saveSupernetSets: the set of the scoring size), or weights
   * already in memory (in-process only).
   */
  supernetPath?: string;
  weights?: SupernetWeights;
  genome: Genome;
  dataset: DatasetSpec;
  hardwareProfile: string;
  outDir: string;
  /** Training images for BatchNorm recalibration (default 256). */
  bnImages?: number;
  /** Training images for int8 static calibration (default 32). */
  calibrationImages?: number;
  /** Scoring image size (default the genome's). */
  imageSize?: number;
  /** Validation images scored (default all). */
  maxValImages?: number;
  /** Timed onnxruntime runs for the host latency (default 10). */
  latencyRuns?: number;
  /**
   * Training steps (batches of 8 training images, AdamW at `adaptLr`) from the inherited weights
   * before BatchNorm recalibration (default 0: the weights as sliced). See adaptSubnet. The same
   * batches for every candidate of an image size: at most 64 distinct ones at 160 px (fewer at
   * larger sizes), cycled beyond that.
   */
  adaptSteps?: number;
  /** Learning rate of those steps (default 1e-3). */
  adaptLr?: number;
  /** Fraction of those steps over which the rate ramps up linearly from near 0 (default 0). */
  adaptWarmup?: number;
  /** After the warm-up the rate falls linearly towards 0 (default false: constant). See adaptSubnet. */
  adaptDecay?: boolean;
  signal?: AbortSignal;
  /** Run in this process instead of a child. */
  inProcess?: boolean;
}

export interface CandidateScore {
  /** mAP of the exported ONNX model at the genome's precision, through onnxruntime. */
  map50: number;
  map50_95: number;
  /** mAP of the fp32 weights through the same exported graph at fp32. */
  fp32Map50: number;
  fp32Map50_95: number;
  /** Predicted on the hardware profile at the genome's own image size. */
  latencyMs: number;
  /** Median on this host (onnxruntime, one thread). */
  measuredLatencyMs: number;
  params: number;
  gflops: number;
  sizeBytes: number;
  onnxPath: string;
  /** The extracted, recalibrated weights (safetensors), ready for fine-tuning. */
  weightsPath: string;
  seconds: number;
  /** Where the seconds went (the first candidate of a process also reads the dataset). */
  phaseSeconds?: { adapt: number; recalibrate: number; export: number; score: number; latency: number };
}

/** A batch of images NHWC [size, S, S, 3] in 0..1 (the training loader's Batch fits). */
export interface ImageBatch {
  images: Float32Array;
  size: number;
  imageSize: number;
}
