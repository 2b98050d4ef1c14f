import { DomainError } from '@detsearch/common';
import type { TrialEvaluator } from '../types';
import { SurrogateEvaluator } from './surrogate';

export type EvaluatorLoader = () => TrialEvaluator | Promise<TrialEvaluator>;

/**
 * Named evaluators, created on first use. 'surrogate' is built in; 'full' (train + export +
 * score) is a slot its module fills with `registerEvaluator('full', loader)` (or pass the loader
 * in the orchestrator's options); until then asking for it is a clear DomainError.
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

/** Placeholder loader for the 'full' evaluator until the training pipeline registers itself. */
export const fullEvaluatorUnavailable: EvaluatorLoader = () => {
  throw new DomainError(
    'EVALUATOR.UNAVAILABLE',
    "evaluator: 'full' (train, export to ONNX, score) is not available in this build yet; " +
      "use evaluator 'surrogate' (a labelled analytic stand-in) for now",
    'evaluator',
  );
};

/** Process-wide loaders the default registry starts with; modules may add theirs at import. */
const defaultLoaders = new Map<string, EvaluatorLoader>([
  ['surrogate', () => new SurrogateEvaluator()],
  ['full', fullEvaluatorUnavailable],
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
