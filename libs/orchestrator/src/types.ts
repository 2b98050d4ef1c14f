import type {
  EpochDecision,
  EpochReport,
  EvaluationRequest,
  TrialEvaluator,
  TrialMetrics,
} from '@detsearch/domain';
import type { Genome } from '@detsearch/genome';
import type {
  BestSoFar,
  LatencySource,
  ObjectiveName,
  Search,
  SearchStatus,
  Trial,
  TrialCounts,
  TrialStatus,
} from '@detsearch/persistence';

// ---------------------------------------------------------------- evaluators

export type {
  EpochReport,
  EpochDecision,
  EvaluationRequest,
  EvaluationContext,
  TrialMetrics,
  TrialEvaluator,
  SearchPreparation,
  PrepareProgress,
  EvaluatorDefinition,
  EvaluatorInfo,
  EvaluatorSettings,
} from '@detsearch/domain';

/** Metrics of an evaluator whose mAP is an estimate (a supernet's), kept apart from a later fine-tuned value. */
export type EstimatedMetrics = TrialMetrics & { estimate?: boolean };

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

/** An evaluator with a final stage: fine-tunes a finished trial's model and scores it again. */
export interface FineTuningEvaluator extends TrialEvaluator {
  fineTune(req: FineTuneRequest, ctx: { signal: AbortSignal }): Promise<FineTuneMetrics>;
}

export function canFineTune(e: TrialEvaluator): e is FineTuningEvaluator {
  return typeof (e as Partial<FineTuningEvaluator>).fineTune === 'function';
}

// ---------------------------------------------------------------- views

export interface SearchProgress extends TrialCounts {
  /** The trial budget. */
  budget: number;
  /** Finished (completed + pruned + failed) / budget, 0..1. */
  fraction: number;
  /** Trials a warm start copied in from earlier searches (not in the counts above, nor the budget). */
  reused: number;
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
  /** 'measured' (timed on a machine) or 'predicted' (the profile's roofline); null: not recorded. */
  latencySource: LatencySource | null;
  /** Where and how it was measured, or which profile predicted it and what that is calibrated on. */
  latencyProvenance: string | null;
  /** Copied in by a warm start from an earlier search (its mAP; latency for this search's profile). */
  reused: boolean;
  reusedFromTrialId: string | null;
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
      /** The evaluator's search-level work before the first trial (e.g. training a supernet). */
      type: 'prepare-progress';
      searchId: string;
      message: string;
      fraction?: number;
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
