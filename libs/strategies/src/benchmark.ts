import { hypervolume } from './hypervolume';
import { getProblem, type TestProblem } from './problems';
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
