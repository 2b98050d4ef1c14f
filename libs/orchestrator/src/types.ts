import type { Genome } from '@detsearch/genome';
import type {
  BestSoFar,
  ObjectiveName,
  Search,
  SearchStatus,
  SupernetProgress as SupernetProgressView,
  SupernetStatus,
  Trial,
  TrialCounts,
  TrialStatus,
} from '@detsearch/persistence';

// ---------------------------------------------------------------- evaluators

export interface EpochReport {
  epoch: number;
  loss?: number;
  map50?: number;
  map50_95?: number;
}

export type EpochDecision = 'continue' | 'stop';

export interface EvaluationRequest {
  trialId: string;
  searchId: string;
  genome: Genome;
  /** Epochs to train (the trial's full fidelity) and, optionally, a training image size. */
  fidelity: { epochs: number; imageSize?: number };
  /** Name of the search's hardware profile: latency is reported for it. */
  hardwareProfile: string;
  dataset?: string;
  /** The search's seed, for evaluators that draw random numbers. */
  seed?: number;
  /** The search's supernet ('supernet' evaluator), once found or trained. */
  supernetId?: string;
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

export interface TrialMetrics {
  map50: number;
  map50_95: number;
  /** mAP of the fp32 model before quantization (when the genome is quantized). */
  fp32Map50_95?: number;
  /** Latency on the request's hardware profile. */
  latencyMs: number;
  /** Latency measured on this host, when measured. */
  measuredLatencyMs?: number;
  params: number;
  gflops: number;
  sizeBytes: number;
  /** Execution backend (tfjs backend, 'surrogate', ...), stored on the trial. */
  backend: string;
  epochs: EpochReport[];
  onnxPath?: string;
  /** Free text stored on the trial, e.g. the surrogate's disclaimer. */
  notes?: string;
  /** The mAP is an estimate (a supernet's), kept apart from a later fine-tuned value. */
  estimate?: boolean;
}

/** Search-level context of an evaluator's hooks. */
export interface SearchHookContext {
  /** Aborted when the search is cancelled or the process shuts down. */
  signal: AbortSignal;
  /** Progress events for the search's subscribers (CLI progress line, SSE). */
  publish(event: SearchEvent): Promise<void> | void;
}

/** One fine-tuning run of the final stage: a finished trial trained further from its own weights. */
export interface FineTuneRequest extends EvaluationRequest {
  epochs: number;
  seed: number;
}

export interface FineTuneMetrics {
  map50: number;
  map50_95: number;
  onnxPath?: string;
  seconds?: number;
}

export interface TrialEvaluator {
  readonly name: 'full' | 'surrogate' | (string & {});
  evaluate(req: EvaluationRequest, ctx: EvaluationContext): Promise<TrialMetrics>;
  /** Before a search's first trial (e.g. find or train the supernet it scores with). */
  prepare?(search: Search, ctx: SearchHookContext): Promise<void>;
  /** After a search's loop has ended, whatever the outcome. */
  dispose?(search: Search): Promise<void> | void;
  /** The final stage: fine-tunes a finished trial's model with the full trainer and scores it again. */
  fineTune?(req: FineTuneRequest, ctx: { signal: AbortSignal }): Promise<FineTuneMetrics>;
}

// ---------------------------------------------------------------- views

export interface SearchProgress extends TrialCounts {
  /** The trial budget. */
  budget: number;
  /** Finished (completed + pruned + failed) / budget, 0..1. */
  fraction: number;
}

export interface SearchView extends Search {
  progress: SearchProgress;
}

/** One trial of the Pareto front with its objective values in natural units (mAP maximized). */
export interface ParetoPoint {
  trialId: string;
  number: number;
  objectives: Partial<Record<ObjectiveName, number>>;
  map50: number | null;
  map50_95: number;
  latencyMs: number;
  sizeBytes: number | null;
  params: number | null;
  gflops: number | null;
  genome: Genome;
  genomeKey: string;
  evaluator: string | null;
  backend: string | null;
  /** Two-stage searches: the supernet's estimate and, for the fine-tuned top K, the fine-tuned mAP. */
  estimateMap50: number | null;
  estimateMap50_95: number | null;
  finetunedMap50: number | null;
  finetunedMap50_95: number | null;
  finetunedMap50Std: number | null;
  finetunedMap50_95Std: number | null;
}

export interface ParetoFrontView {
  searchId: string;
  objectives: ObjectiveName[];
  /** Completed trials the front was drawn from (infeasible ones cannot be on it). */
  considered: number;
  points: ParetoPoint[];
}

export type SearchEvent =
  | {
      type: 'snapshot';
      searchId: string;
      status: SearchStatus;
      progress: SearchProgress;
      best: BestSoFar | null;
    }
  | {
      type: 'trial-started';
      searchId: string;
      trialId: string;
      number: number;
      progress: SearchProgress;
    }
  | {
      type: 'trial-epoch';
      searchId: string;
      trialId: string;
      number: number;
      epoch: EpochReport;
      decision: EpochDecision;
    }
  | {
      type: 'trial-completed';
      searchId: string;
      trialId: string;
      number: number;
      status: TrialStatus;
      map50_95: number | null;
      latencyMs: number | null;
      progress: SearchProgress;
      best: BestSoFar | null;
      paretoSize: number;
    }
  | {
      type: 'supernet-progress';
      searchId: string;
      supernetId: string;
      status: SupernetStatus;
      /** Named apart from `progress` (the trial counts other events carry). */
      training: SupernetProgressView | null;
      epochs: number;
    }
  | {
      type: 'fine-tune';
      searchId: string;
      trialId: string;
      number: number;
      /** 1-based position among the trials of the final stage. */
      index: number;
      of: number;
      phase: 'started' | 'completed' | 'failed';
      estimateMap50_95: number | null;
      finetunedMap50_95: number | null;
      error?: string;
    }
  | {
      type: 'search-completed';
      searchId: string;
      status: SearchStatus;
      progress: SearchProgress;
      best: BestSoFar | null;
      paretoSize: number;
      error: string | null;
    };

export interface HealthReport {
  ok: boolean;
  database: { kind: 'postgres' | 'pglite'; ok: boolean; latencyMs: number; error?: string };
  /** Searches whose loop runs in this process. */
  activeSearches: number;
  evaluators: string[];
}

export type { Trial };
