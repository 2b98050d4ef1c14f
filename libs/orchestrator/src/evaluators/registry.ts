import { DomainError } from '@detsearch/common';
import type { TrialEvaluator } from '../types';
import { FullEvaluator } from './full';
import { SurrogateEvaluator } from './surrogate';

export type EvaluatorLoader = () => TrialEvaluator | Promise<TrialEvaluator>;

/**
 * Named evaluators, created on first use: 'full' (train + export + score, the product's default)
 * and 'surrogate' (the labelled analytic stand-in). Add others with `registerEvaluator(name, loader)`
 * or the orchestrator's options; asking for an unknown one is a clear DomainError.
 */
export class EvaluatorRegistry {
  private readonly loaders = new Map<string, EvaluatorLoader>();
  private readonly loaded = new Map<string, Promise<TrialEvaluator>>();

  register(name: string, loader: EvaluatorLoader): this {
    this.loaders.set(name, loader);
    this.loaded.delete(name);
    return this;
  }

  names(): string[] {
    return [...this.loaders.keys()];
  }

  /** The evaluator, loading it once; a failed load is retried next time. */
  async get(name: string): Promise<TrialEvaluator> {
    const loader = this.loaders.get(name);
    if (!loader)
      throw new DomainError(
        'EVALUATOR.UNKNOWN',
        `evaluator: unknown evaluator '${name}'; expected one of ${this.names().join(', ')}`,
        'evaluator',
      );
    let p = this.loaded.get(name);
    if (!p) {
      p = Promise.resolve().then(loader);
      this.loaded.set(name, p);
      p.catch(() => this.loaded.delete(name));
    }
    return p;
  }
}

/** A loader that reports the 'full' evaluator as missing: for builds or tests without training. */
export const fullEvaluatorUnavailable: EvaluatorLoader = () => {
  throw new DomainError(
    'EVALUATOR.UNAVAILABLE',
    "evaluator: 'full' (train, export to ONNX, score) is not available in this process; " +
      "use evaluator 'surrogate' (a labelled analytic stand-in) for now",
    'evaluator',
  );
};

/** Process-wide loaders the default registry starts with; modules may add theirs at import. */
const defaultLoaders = new Map<string, EvaluatorLoader>([
  ['surrogate', () => new SurrogateEvaluator()],
  ['full', () => new FullEvaluator()],
]);

export function registerEvaluator(name: string, loader: EvaluatorLoader): void {
  defaultLoaders.set(name, loader);
}

export function createEvaluatorRegistry(overrides: Record<string, EvaluatorLoader | TrialEvaluator> = {}) {
  const registry = new EvaluatorRegistry();
  for (const [name, loader] of defaultLoaders) registry.register(name, loader);
  for (const [name, v] of Object.entries(overrides))
    registry.register(name, typeof v === 'function' ? v : () => v);
  return registry;
}
