import { namesOf } from './names';
import {
  BayesStrategy,
  EvolutionStrategy,
  Nsga2Strategy,
  RandomStrategy,
  type BayesOptions,
  type EvolutionOptions,
  type Nsga2Options,
  type Strategy,
} from '@detsearch/strategies';

export interface StrategyDefinition<O = unknown> {
  name: string;
  label: string;
  description: string;
  /** Handles several objectives natively (a Pareto front) rather than one scalar. */
  multiObjective: boolean;
  create(options?: O): Strategy;
}

const strategy = <const N extends string, O>(d: StrategyDefinition<O> & { name: N }) => d;

/** Every search strategy; a new one is its file in libs/strategies plus one row here. */
export const STRATEGY_TABLE = [
  strategy({
    name: 'random',
    label: 'Random search',
    description: 'Uniform sampling over the search space: the baseline every other strategy must beat.',
    multiObjective: true,
    create: () => new RandomStrategy(),
  }),
  strategy({
    name: 'evolution',
    label: 'Regularized evolution',
    description: 'Aging evolution: mutate a tournament winner of the recent population, drop the oldest.',
    multiObjective: true,
    create: (o?: EvolutionOptions) => new EvolutionStrategy(o),
  }),
  strategy({
    name: 'nsga2',
    label: 'NSGA-II',
    description: 'Genetic algorithm ranking by non-dominated fronts and crowding distance.',
    multiObjective: true,
    create: (o?: Nsga2Options) => new Nsga2Strategy(o),
  }),
  strategy({
    name: 'bayes',
    label: 'Bayesian optimization',
    description:
      'Gaussian-process surrogate with expected improvement; ParEGO scalarization for several objectives.',
    multiObjective: true,
    create: (o?: BayesOptions) => new BayesStrategy(o),
  }),
] as const;

export type StrategyName = (typeof STRATEGY_TABLE)[number]['name'];
export const STRATEGY_NAMES = namesOf(STRATEGY_TABLE);

export function isStrategyName(name: string): name is StrategyName {
  return (STRATEGY_NAMES as readonly string[]).includes(name);
}

export function strategyDefinition(name: string): StrategyDefinition | undefined {
  return STRATEGY_TABLE.find((s) => s.name === name) as StrategyDefinition | undefined;
}

/** A strategy by name, with its options; throws naming the known ones. */
export function createStrategy(name: string, options?: unknown): Strategy {
  const d = strategyDefinition(name);
  if (!d) throw new Error(`unknown strategy '${name}' (expected one of ${STRATEGY_NAMES.join(', ')})`);
  return d.create(options);
}
