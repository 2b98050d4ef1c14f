import { BayesStrategy, type BayesOptions } from './bayes/bayes';
import { EvolutionStrategy, type EvolutionOptions } from './evolution';
import { Nsga2Strategy, type Nsga2Options } from './nsga2';
import { RandomStrategy } from './random';
import type { Strategy } from './types';

export const STRATEGY_NAMES = ['random', 'evolution', 'nsga2', 'bayes'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

export interface StrategyOptions {
  random: Record<string, never>;
  evolution: EvolutionOptions;
  nsga2: Nsga2Options;
  bayes: BayesOptions;
}

export function isStrategyName(name: string): name is StrategyName {
  return (STRATEGY_NAMES as readonly string[]).includes(name);
}

export function createStrategy<N extends StrategyName>(name: N, options?: StrategyOptions[N]): Strategy {
  switch (name) {
    case 'random':
      return new RandomStrategy();
    case 'evolution':
      return new EvolutionStrategy(options as EvolutionOptions);
    case 'nsga2':
      return new Nsga2Strategy(options as Nsga2Options);
    case 'bayes':
      return new BayesStrategy(options as BayesOptions);
    default:
      throw new Error(`unknown strategy '${String(name)}' (expected one of ${STRATEGY_NAMES.join(', ')})`);
  }
}
