import type { Genome } from '@detsearch/genome';
import type { Params } from '@detsearch/search-space';

export const SEARCH_STATUSES = ['queued', 'running', 'completed', 'cancelled', 'failed'] as const;
export type SearchStatus = (typeof SEARCH_STATUSES)[number];
export const TRIAL_STATUSES = ['queued', 'running', 'completed', 'pruned', 'failed'] as const;
export type TrialStatus = (typeof TRIAL_STATUSES)[number];
/** Statuses after which a trial never changes again. */
export const FINISHED_TRIAL_STATUSES: readonly TrialStatus[] = ['completed', 'pruned', 'failed'];

/** Objectives a search can optimize; map50_95 is maximized, the others minimized. */
export const OBJECTIVES = ['map50_95', 'latency', 'size'] as const;
export type ObjectiveName = (typeof OBJECTIVES)[number];

/** Upper (or, for mAP, lower) limits a trial must meet to be feasible. */
export interface SearchConstraints {
  maxLatencyMs?: number;
  maxSizeBytes?: number;
  maxParams?: number;
  maxGflops?: number;
  minMap50_95?: number;
}

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
> & { id?: string; status?: SearchStatus };

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
  onnxPath: string | null;
  /** On the search's Pareto front (feasible, completed, non-dominated). */
  onFront: boolean;
  /**
   * Within every constraint: true or false once the trial has results (completed or pruned),
   * null before (queued, running) or without any (failed).
   */
  feasible: boolean | null;
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
  params?: number | null;
  gflops?: number | null;
  sizeBytes?: number | null;
  objectiveValues?: number[] | null;
  constraintValues?: number[] | null;
  backend?: string | null;
  notes?: string | null;
  error?: string | null;
  onnxPath?: string | null;
  epochMetrics?: EpochMetric[];
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

/** A stored hardware profile or preset (a copy of a built-in one, or a fitted profile). */
export interface StoredDocument {
  name: string;
  source: 'builtin' | 'fitted' | 'user';
  document: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
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
