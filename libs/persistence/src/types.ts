import type { Genome } from '@detsearch/genome';
import type { Params } from '@detsearch/search-space';
import type {
  LatencySource,
  ObjectiveName,
  SearchConstraints,
  SearchStatus,
  TrialStatus,
} from '@detsearch/domain';

// The vocabulary lives in the domain registries; re-exported for the repositories' callers.
export {
  SEARCH_STATUSES,
  TRIAL_STATUSES,
  FINISHED_TRIAL_STATUSES,
  OBJECTIVES,
  type SearchStatus,
  type TrialStatus,
  type ObjectiveName,
  type SearchConstraints,
  LATENCY_SOURCES,
  type LatencySource,
} from '@detsearch/domain';

export interface SearchBudget {
  trials: number;
  wallClockMinutes?: number;
}

/**
 * Training fidelity. `epochs` is the full budget of one trial; with `minEpochs` < `epochs` the
 * search runs asynchronous successive halving (ASHA): rungs at minEpochs * eta^k.
 */
export interface SearchFidelity {
  epochs: number;
  minEpochs?: number;
  eta?: number;
  /** Training image size; absent: the genome's. */
  imageSize?: number;
  /**
   * Image size as a fidelity too: the training image size of each ASHA rung segment in order
   * (epochs up to the first rung, then up to the second, ...); later segments train at the full
   * size (imageSize, else the genome's). Low rungs are cheap, promoted trials train larger.
   */
  imageSizes?: number[];
}

/** Summary of the best results so far (feasible completed trials). */
export interface BestSoFar {
  trialId: string;
  number: number;
  map50: number | null;
  map50_95: number;
  latencyMs: number | null;
  sizeBytes: number | null;
  paretoSize: number;
}

export interface Search {
  id: string;
  name: string;
  status: SearchStatus;
  strategy: string;
  objectives: ObjectiveName[];
  constraints: SearchConstraints;
  budget: SearchBudget;
  seed: number;
  /** The resolved search-space spec (preset and request overrides applied). */
  searchSpace: Record<string, unknown>;
  hardwareProfile: string;
  /** Snapshot of the profile at launch, so results stay explainable if the YAML changes. */
  hardwareProfileSpec: Record<string, unknown> | null;
  preset: string | null;
  dataset: string | null;
  fidelity: SearchFidelity;
  evaluator: string;
  /** The launch body as received. */
  request: Record<string, unknown>;
  /** Supernet the 'supernet' evaluator scores with (set at launch, or once one is found or trained). */
  supernetId: string | null;
  /** Final stage after the budget: the front's best fine-tuned with the full trainer. */
  fineTune: FineTuneSettings | null;
  /**
   * What its trials' accuracy depends on (evaluator, dataset fingerprint, fidelity, supernet):
   * searches with the same key can reuse each other's results. Set when the search starts.
   */
  warmStartKey: string | null;
  /** Trials copied in from earlier searches at the start (warm start); not counted in the budget. */
  reusedTrials: number;
  best: BestSoFar | null;
  error: string | null;
  /** Process currently driving the loop, and its last sign of life. */
  runnerId: string | null;
  heartbeatAt: Date | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date;
}

export type NewSearch = Omit<
  Search,
  | 'id'
  | 'status'
  | 'best'
  | 'error'
  | 'runnerId'
  | 'heartbeatAt'
  | 'createdAt'
  | 'startedAt'
  | 'finishedAt'
  | 'updatedAt'
  | 'supernetId'
  | 'fineTune'
  | 'warmStartKey'
  | 'reusedTrials'
> & {
  id?: string;
  status?: SearchStatus;
  supernetId?: string | null;
  fineTune?: FineTuneSettings | null;
};

/** The final stage of a two-stage (supernet) search. */
export interface FineTuneSettings {
  /** How many of the front's best (by mAP@0.5:0.95) are fine-tuned; 0 turns the stage off. */
  topK: number;
  /** Epochs of the full trainer from the inherited weights. */
  epochs: number;
  /** 1, or 2 to repeat with a second seed and report mean and spread. */
  seeds: number;
}

export interface EpochMetric {
  epoch: number;
  loss?: number;
  map50?: number;
  map50_95?: number;
}

export interface Trial {
  id: string;
  searchId: string;
  /** 0-based creation order within the search. */
  number: number;
  genome: Genome;
  genomeKey: string;
  /** The point in the strategy's search space this genome was decoded from. */
  searchParams: Params;
  status: TrialStatus;
  /** Target epochs (the full fidelity). */
  epochs: number;
  /** Training image size when it differs from the genome's. */
  imageSize: number | null;
  /** Highest ASHA rung reached (0 = first). */
  rung: number;
  epochsDone: number;
  epochMetrics: EpochMetric[];
  map50: number | null;
  map50_95: number | null;
  fp32Map50_95: number | null;
  /** Latency on the search's hardware profile (predicted when not measured there). */
  latencyMs: number | null;
  latencyPerProfile: Record<string, number>;
  /** Measured on the evaluating host with onnxruntime, when the evaluator measures. */
  measuredLatencyMs: number | null;
  /** Whether latencyMs was timed on a machine or predicted by the profile's roofline (null: not recorded). */
  latencySource: LatencySource | null;
  /** Where and how: machine and threads when measured, profile and its calibration when predicted. */
  latencyProvenance: string | null;
  /** Trainable parameters. */
  params: number | null;
  gflops: number | null;
  sizeBytes: number | null;
  /** Objective values, all minimized, in the search's objective order. */
  objectiveValues: number[] | null;
  /** Constraint values; feasible when every one is <= 0. */
  constraintValues: number[] | null;
  /** Sum of the positive constraint values (0 = feasible). */
  violation: number | null;
  backend: string | null;
  evaluator: string | null;
  notes: string | null;
  workerId: string | null;
  attempts: number;
  heartbeatAt: Date | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  error: string | null;
  /** Local path of the exported model, written by versions before the artifact store (legacy rows). */
  onnxPath: string | null;
  /** Artifact-store key of the exported model (the fine-tuned one after a final stage). */
  modelKey: string | null;
  /** Artifact-store key of the trained weights (safetensors, PyTorch names). */
  weightsKey: string | null;
  /** On the search's Pareto front (feasible, completed, non-dominated). */
  onFront: boolean;
  /** The supernet's estimate (weights inherited, BatchNorm recalibrated, no training of its own). */
  estimateMap50: number | null;
  estimateMap50_95: number | null;
  /** After the final stage: mAP as deployed of the fine-tuned model, mean over `finetuneSeeds`. */
  finetunedMap50: number | null;
  finetunedMap50_95: number | null;
  /** Standard deviation over the seeds (null with one seed). */
  finetunedMap50Std: number | null;
  finetunedMap50_95Std: number | null;
  finetuneEpochs: number | null;
  finetuneSeeds: number | null;
  /**
   * Within every constraint: true or false once the trial has results (completed or pruned),
   * null before (queued, running) or without any (failed).
   */
  feasible: boolean | null;
  /** Copied from an earlier search's evaluation of the same genome (warm start), not evaluated here. */
  reused: boolean;
  /** The trial it was copied from (null when not reused, or that search was deleted). */
  reusedFromTrialId: string | null;
}

/** What the final stage stores on a trial. */
export interface FineTuneResult {
  finetunedMap50: number;
  finetunedMap50_95: number;
  finetunedMap50Std: number | null;
  finetunedMap50_95Std: number | null;
  finetuneEpochs: number;
  finetuneSeeds: number;
  /** The fine-tuned model: it replaces the trial's exported model. */
  onnxPath?: string | null;
  /** Its artifact-store key (replaces the trial's model key). */
  modelKey?: string | null;
  notes?: string | null;
}

export const SUPERNET_STATUSES = ['training', 'ready', 'failed', 'cancelled'] as const;
export type SupernetStatus = (typeof SUPERNET_STATUSES)[number];

export interface SupernetProgress {
  /** 0..1 of the training budget. */
  fraction: number;
  epoch: number;
  etaSeconds: number | null;
  message: string;
}

/** A weight-sharing supernet over one search space, trained on one dataset, for one activation. */
export interface Supernet {
  id: string;
  status: SupernetStatus;
  activation: string;
  /** Hash of the dataset (data.yaml content and its files' names and sizes, or the synthetic settings). */
  datasetFingerprint: string;
  /** Hash of the canonical resolved search space. */
  spaceFingerprint: string;
  /** The data.yaml path, or a description of the synthetic dataset. */
  dataset: string | null;
  searchSpace: Record<string, unknown>;
  imageSizes: number[];
  /** Training time budget asked for, minutes (null: the library's default). */
  budgetMinutes: number | null;
  epochs: number;
  minutes: number;
  progress: SupernetProgress | null;
  metrics: Record<string, unknown> | null;
  sizeBytes: number | null;
  /** Its weights file relative to DETSEARCH_HOME (rows written before the artifact store). */
  artifactPath: string | null;
  /** Artifact-store key of its weights (every machine reads it from the store). */
  artifactKey: string | null;
  error: string | null;
  runnerId: string | null;
  heartbeatAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

export interface NewSupernet {
  id?: string;
  activation: string;
  datasetFingerprint: string;
  spaceFingerprint: string;
  dataset: string | null;
  searchSpace: Record<string, unknown>;
  imageSizes: number[];
  budgetMinutes?: number | null;
  artifactPath?: string | null;
  runnerId?: string | null;
}

export interface NewTrial {
  id?: string;
  searchId: string;
  number: number;
  genome: Genome;
  genomeKey: string;
  searchParams: Params;
  epochs: number;
  imageSize?: number | null;
  /** Genome-derived costs known before training. */
  params?: number | null;
  gflops?: number | null;
  sizeBytes?: number | null;
  latencyMs?: number | null;
  latencyPerProfile?: Record<string, number>;
  latencySource?: LatencySource | null;
  latencyProvenance?: string | null;
  evaluator?: string | null;
}

/** What an evaluator reports when a trial ends (completed, or pruned with partial metrics). */
export interface TrialResult {
  status: 'completed' | 'pruned' | 'failed';
  map50?: number | null;
  map50_95?: number | null;
  fp32Map50_95?: number | null;
  latencyMs?: number | null;
  latencyPerProfile?: Record<string, number>;
  measuredLatencyMs?: number | null;
  latencySource?: LatencySource | null;
  latencyProvenance?: string | null;
  params?: number | null;
  gflops?: number | null;
  sizeBytes?: number | null;
  objectiveValues?: number[] | null;
  constraintValues?: number[] | null;
  backend?: string | null;
  notes?: string | null;
  error?: string | null;
  onnxPath?: string | null;
  modelKey?: string | null;
  weightsKey?: string | null;
  epochMetrics?: EpochMetric[];
  /** Set when the metrics are a supernet's estimate (kept apart from a later fine-tuned value). */
  estimateMap50?: number | null;
  estimateMap50_95?: number | null;
}

/** Sortable leaderboard columns; prefix '-' for descending. */
export const TRIAL_SORT_KEYS = [
  'number',
  'map50_95',
  'map50',
  'latencyMs',
  'params',
  'gflops',
  'sizeBytes',
  'createdAt',
  'finishedAt',
] as const;
export type TrialSortKey = (typeof TRIAL_SORT_KEYS)[number];
/**
 * The ranked order, and the leaderboard's default: feasible completed trials first, then feasible
 * pruned ones (partial training), then those over a constraint, then the rest; best mAP@0.5:0.95
 * first within each group, ties by number.
 */
export const RANK_SORT = 'rank';
export type TrialSort = TrialSortKey | `-${TrialSortKey}` | typeof RANK_SORT;
/** The order of the API's leaderboard, the dashboard and the CLI's leaderboard.csv by default. */
export const DEFAULT_LEADERBOARD_SORT: TrialSort = RANK_SORT;

export interface ListTrialsQuery {
  sort?: TrialSort;
  limit?: number;
  offset?: number;
  status?: TrialStatus | TrialStatus[];
  /** Only trials within every constraint (true) or over one (false); trials without results match neither. */
  feasible?: boolean;
  /** Keyset cursor: the `nextCursor` of the previous page (same sort); not with offset > 0. */
  after?: string;
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

/** A leaderboard page: `nextCursor` continues after its last row (null when there is no more). */
export interface TrialPage<T> extends Page<T> {
  nextCursor: string | null;
}

export interface TrialCounts {
  total: number;
  queued: number;
  running: number;
  completed: number;
  pruned: number;
  failed: number;
}

/** A registered worker process (see WorkerRepository). */
export interface WorkerInfo {
  /** host:pid:random */
  id: string;
  host: string;
  pid: number;
  /** 'trials' evaluates trials; 'measure' measures latency for one hardware profile on a device. */
  kind: 'trials' | 'measure';
  profile: string | null;
  /** Jobs it runs at once. */
  concurrency: number;
  startedAt: Date;
  heartbeatAt: Date;
}

export const MEASUREMENT_STATUSES = ['queued', 'running', 'done', 'failed'] as const;
export type MeasurementStatus = (typeof MEASUREMENT_STATUSES)[number];

/** A genome's latency measured with onnxruntime on a device that a hardware profile describes. */
export interface LatencyMeasurement {
  id: string;
  profile: string;
  /** The trial whose genome this is, when requested for a trial. */
  trialId: string | null;
  genome: Genome;
  genomeKey: string;
  status: MeasurementStatus;
  workerId: string | null;
  attempts: number;
  medianMs: number | null;
  p90Ms: number | null;
  runs: number | null;
  threads: number | null;
  onnxBytes: number | null;
  error: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface NewMeasurement {
  id?: string;
  profile: string;
  genome: Genome;
  genomeKey: string;
  trialId?: string | null;
}
