import type { Genome } from '@detsearch/genome';
import type { SearchSpaceSpec } from '@detsearch/search-space';

/** One epoch's numbers as an evaluator reports them while it trains. */
export interface EpochReport {
  epoch: number;
  loss?: number;
  map50?: number;
  map50_95?: number;
}

/** The multi-fidelity scheduler's answer after an epoch: 'stop' prunes the trial. */
export type EpochDecision = 'continue' | 'stop';

export interface EvaluationRequest {
  trialId: string;
  searchId: string;
  genome: Genome;
  /**
   * Epochs to train (the trial's full fidelity), optionally a training image size, and the first
   * epoch the multi-fidelity scheduler may prune at (none before it needs a validation). With
   * image-size rungs, `imageSizeByEpoch[e - 1]` is the size epoch e trains at (only evaluators
   * with `imageSizeFidelity` get it).
   */
  fidelity: { epochs: number; imageSize?: number; minEpochs?: number; imageSizeByEpoch?: number[] };
  /** Name of the search's hardware profile: latency is reported for it. */
  hardwareProfile: string;
  dataset?: string;
  /** The search's seed, for evaluators that draw random numbers. */
  seed?: number;
}

export interface EvaluationContext {
  /** Aborted when the search is cancelled or the process shuts down. */
  signal: AbortSignal;
  /**
   * Called after every epoch. 'stop' means the multi-fidelity scheduler pruned the trial: the
   * evaluator returns at once with the metrics it has (the trial is stored as pruned).
   */
  onEpoch(m: EpochReport): Promise<EpochDecision> | EpochDecision;
}

/** A latency timed on a machine, or predicted by a hardware profile's roofline. */
export const LATENCY_SOURCES = ['measured', 'predicted'] as const;
export type LatencySource = (typeof LATENCY_SOURCES)[number];

/** What an evaluator measured for one trial. */
export interface TrialMetrics {
  map50: number;
  map50_95: number;
  /** mAP of the fp32 model before quantization (when the genome is quantized). */
  fp32Map50_95?: number;
  /** Latency on the request's hardware profile. */
  latencyMs: number;
  /** Latency measured on this host, when measured. */
  measuredLatencyMs?: number;
  /** Whether latencyMs was measured or predicted, and where/how (stored on the trial). */
  latencySource?: LatencySource;
  latencyProvenance?: string;
  params: number;
  gflops: number;
  sizeBytes: number;
  /** Execution backend (tfjs backend, 'surrogate', ...), stored on the trial. */
  backend: string;
  epochs: EpochReport[];
  /** The exported model on this machine's disk; the trial job stores it in the artifact store. */
  onnxPath?: string;
  /** The trained weights on this machine's disk (stored beside the model). */
  weightsPath?: string;
  /** A scratch folder of this trial only, removed once its artifacts are stored. */
  workDir?: string;
  /** Free text stored on the trial, e.g. the surrogate's disclaimer. */
  notes?: string;
}

/** Progress of search-level work (e.g. training a shared supernet), for logs and events. */
export interface PrepareProgress {
  message: string;
  /** 0..1 when known. */
  fraction?: number;
}

/** Everything a search-level hook knows about the search it prepares for. */
export interface SearchPreparation {
  searchId: string;
  /** The resolved search-space spec the strategy samples from. */
  space: SearchSpaceSpec;
  dataset?: string;
  hardwareProfile: string;
  fidelity: { epochs: number; minEpochs?: number; eta?: number; imageSize?: number; imageSizes?: number[] };
  seed: number;
  /** Aborted when the search is cancelled or the process shuts down. */
  signal: AbortSignal;
  onProgress(p: PrepareProgress): void;
}

export interface TrialEvaluator {
  readonly name: string;
  /** Trains at a per-epoch image size (`fidelity.imageSizeByEpoch`): image-size rungs are allowed. */
  readonly imageSizeFidelity?: boolean;
  evaluate(req: EvaluationRequest, ctx: EvaluationContext): Promise<TrialMetrics>;
  /**
   * Search-level work done once before the search's first trial (e.g. training a supernet whose
   * weights every trial then inherits). The search runner awaits it; a throw fails the search.
   */
  prepare?(search: SearchPreparation): Promise<void>;
  /** Releases what `prepare` built; called once when the search's loop ends, however it ends. */
  dispose?(search: { searchId: string }): Promise<void>;
  /**
   * Genomes with one key share one training (they differ only in what deployment changes, such
   * as input size or precision): the second is scored on the first one's weights. The search
   * runner avoids starting two trials of one key at once, which would idle a worker.
   */
  trainingKey?(genome: Genome, fidelity: EvaluationRequest['fidelity']): string;
  /**
   * Evaluating a genome again gives the same result (no training of its own, so no training
   * noise): the search runner never evaluates a genome twice in one search.
   */
  readonly repeatable?: boolean;
}

/** Process settings an evaluator may need when it is created (from the process's config). */
export interface EvaluatorSettings {
  /** DETSEARCH_HOME: trial artifacts, generated datasets. */
  home?: string;
  /** Datasets are read only below this folder. */
  dataRoot?: string;
  /** tfjs backend to train on ('auto' tries the fastest available). */
  backend?: string;
  /** Milliseconds the surrogate spends per trial (scale and fault tests). */
  surrogateMs?: number;
}

/** An evaluator as the registry knows it: what it is, and how to load it on first use. */
export interface EvaluatorDefinition {
  name: string;
  label: string;
  description: string;
  /** It trains the candidate (slow, real mAP). */
  trains: boolean;
  /** An analytic stand-in for tests and demos: its mAP is a formula, not a measurement. */
  analytic: boolean;
  load(settings: EvaluatorSettings): TrialEvaluator | Promise<TrialEvaluator>;
}

export type EvaluatorInfo = Omit<EvaluatorDefinition, 'load'>;

export function evaluatorInfo(d: EvaluatorInfo): EvaluatorInfo {
  return { name: d.name, label: d.label, description: d.description, trains: d.trains, analytic: d.analytic };
}
