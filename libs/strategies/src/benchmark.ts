import { hypervolume } from './hypervolume';
import { getProblem, type TestProblem } from './problems';
import { Rng } from './rng';
import type { Strategy, TrialRecord } from './types';

export interface BenchmarkOptions {
  strategy: Strategy;
  problem: string | TestProblem;
  evals: number;
  seed?: number | string;
  /** Candidates per ask; default the strategy's `defaultBatch`. */
  batch?: number;
}

export interface BenchmarkResult {
  strategy: string;
  problem: string;
  evals: number;
  /** Lowest value found (single-objective problems), else null. */
  best: number | null;
  /** Hypervolume of all evaluated points against the reference point (multi-objective), else null. */
  hypervolume: number | null;
  wallMs: number;
}

/** Runs the ask / evaluate / tell loop of one strategy on one test problem. */
export function runBenchmark(options: BenchmarkOptions): BenchmarkResult {
  const strategy = options.strategy;
  const problem = typeof options.problem === 'string' ? getProblem(options.problem) : options.problem;
  const seed = options.seed ?? 0;
  const batch = Math.max(1, options.batch ?? strategy.defaultBatch);
  const start = performance.now();
  const history: TrialRecord[] = [];
  while (history.length < options.evals) {
    const k = Math.min(batch, options.evals - history.length);
    const proposals = strategy.ask(
      { space: problem.space, history, seed, objectives: problem.objectives },
      k,
    );
    for (const params of proposals)
      history.push({ params, values: problem.evaluate(params), status: 'completed' });
  }
  const values = history.map((t) => t.values!);
  const multi = problem.objectives > 1;
  return {
    strategy: strategy.name,
    problem: problem.name,
    evals: history.length,
    best: multi ? null : Math.min(...values.map((v) => v[0])),
    hypervolume: multi
      ? hypervolume(values, problem.referencePoint ?? new Array(problem.objectives).fill(1))
      : null,
    wallMs: performance.now() - start,
  };
}

/** Hypervolume of a problem's true Pareto front (densely sampled) against its reference point. */
export function trueHypervolume(problem: TestProblem, samples = 100_001): number | null {
  if (!problem.paretoFront || !problem.referencePoint) return null;
  return hypervolume(problem.paretoFront(samples), problem.referencePoint);
}

export interface ParallelBenchmarkOptions {
  strategy: Strategy;
  problem: string | TestProblem;
  evals: number;
  /** Trials evaluated at once; the strategy is asked for each free slot while the others run. */
  workers: number;
  seed?: number | string;
  /** Mean simulated cost of one evaluation in minutes; each trial takes 0.5-1.5x of it. */
  costMinutes?: number;
}

export interface ParallelBenchmarkResult {
  strategy: string;
  problem: string;
  workers: number;
  /** Results in completion order with the simulated clock when each came in. */
  completed: { values: number[]; minutes: number }[];
  /** Real time spent in `ask` (the strategy's own overhead). */
  askMs: number;
}

/**
 * Simulates `workers` parallel evaluations with a simulated cost per evaluation, as the search
 * runner drives them: the strategy is asked for as many candidates as there are free slots, with
 * the running trials in the history as pending; a trial's result is told when the simulated clock
 * reaches its end. Trial k's duration depends on the seed and k only, so every strategy and worker
 * count sees the same costs, and the run is a function of the seed.
 */
export function runParallelBenchmark(options: ParallelBenchmarkOptions): ParallelBenchmarkResult {
  const { strategy, workers } = options;
  const problem = typeof options.problem === 'string' ? getProblem(options.problem) : options.problem;
  const seed = options.seed ?? 0;
  const cost = options.costMinutes ?? 10;
  const history: TrialRecord[] = [];
  const running: { record: TrialRecord; end: number; index: number }[] = [];
  const completed: ParallelBenchmarkResult['completed'] = [];
  let clock = 0;
  let askMs = 0;
  while (completed.length < options.evals) {
    const free = Math.min(workers - running.length, options.evals - history.length);
    if (free > 0) {
      const t = performance.now();
      const proposals = strategy.ask(
        { space: problem.space, history, seed, objectives: problem.objectives },
        free,
      );
      askMs += performance.now() - t;
      for (const params of proposals) {
        const record: TrialRecord = { params, status: 'running' };
        const index = history.length;
        const duration = cost * (0.5 + new Rng(`cost|${seed}|${index}`).uniform());
        history.push(record);
        running.push({ record, end: clock + duration, index });
      }
      if (proposals.length === 0 && running.length === 0) break; // space exhausted
    }
    running.sort((a, b) => a.end - b.end || a.index - b.index);
    const next = running.shift();
    if (!next) break;
    clock = next.end;
    next.record.values = problem.evaluate(next.record.params);
    next.record.status = 'completed';
    completed.push({ values: next.record.values, minutes: clock });
  }
  return { strategy: strategy.name, problem: problem.name, workers, completed, askMs };
}
