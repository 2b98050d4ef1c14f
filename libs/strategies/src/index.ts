export * from './types';
export { Rng } from './rng';
export {
  dominates,
  nonDominatedSort,
  paretoRanks,
  constrainedSort,
  crowdingDistance,
  ParetoFront,
} from './pareto';
export { hypervolume, hypervolume2d, hypervolume3d, hypervolumeWfg } from './hypervolume';
export { observations, totalViolation, type Observation } from './history';
export { RandomStrategy } from './random';
export { EvolutionStrategy, type EvolutionOptions } from './evolution';
export { Nsga2Strategy, type Nsga2Options } from './nsga2';
export { BayesStrategy, type BayesOptions } from './bayes/bayes';
export { logExpectedImprovement, logNormCdf } from './bayes/acquisition';
export {
  zdt1,
  zdt2,
  zdt3,
  dtlz2,
  branin,
  hartmann6,
  nas,
  PROBLEMS,
  PROBLEM_NAMES,
  getProblem,
  type TestProblem,
} from './problems';
export {
  runBenchmark,
  runParallelBenchmark,
  trueHypervolume,
  type BenchmarkOptions,
  type BenchmarkResult,
  type ParallelBenchmarkOptions,
  type ParallelBenchmarkResult,
} from './benchmark';
export { pendingChildren, geneDistance } from './pending';
