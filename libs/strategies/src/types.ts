import type { TrialStatus } from '@detsearch/domain';
import type { Params, SearchSpace } from '@detsearch/search-space';

/** One trial as stored; `tell` is nothing more than appending one of these to the history. */
export interface TrialRecord {
  params: Params;
  /** Objective values, all minimized. Required for a completed trial to be used. */
  values?: number[];
  /** Constraint values; the trial is feasible when every value is <= 0. */
  constraints?: number[];
  /** Fidelity the values were measured at (e.g. epochs); higher supersedes lower for the same params. */
  fidelity?: number;
  status: TrialStatus;
}

export interface AskInput {
  space: SearchSpace;
  /** Every trial of the search in creation order, pending ones included. */
  history: TrialRecord[];
  seed: number | string;
  /** Number of objectives (length of `values`). */
  objectives: number;
}

/**
 * A strategy is a pure function of (space, history, seed): it keeps nothing between calls,
 * so any process can continue a search from the stored trials.
 */
export interface Strategy {
  readonly name: string;
  /** Batch size the strategy works best with when the caller may choose (e.g. NSGA-II's population). */
  readonly defaultBatch: number;
  /** Proposes `n` new candidates, distinct from each other and from the history where the space allows. */
  ask(input: AskInput, n: number): Params[];
}
