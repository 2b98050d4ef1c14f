import type { EpochDecision, EpochReport } from '@detsearch/domain';
import type { Genome } from '@detsearch/genome';
import type {
  BestSoFar,
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
