import { DomainError } from '@detsearch/common';
import {
  evaluatorInfo,
  type EvaluatorDefinition,
  type EvaluatorInfo,
  type EvaluatorSettings,
} from '@detsearch/domain';
import type { TrialEvaluator } from '../types';
import { fullEvaluator } from './full';
import { surrogateEvaluator } from './surrogate';
import { supernetEvaluator } from './supernet';

export type EvaluatorLoader = () => TrialEvaluator | Promise<TrialEvaluator>;

/**
 * Named evaluators, created on first use. A new evaluator is its file (exporting an
 * EvaluatorDefinition) plus one entry in BUILT_IN_EVALUATORS; processes may add more at run time
 * with `registerEvaluator`. Asking for an unknown one is a clear DomainError.
 */
export class EvaluatorRegistry {
  private readonly definitions = new Map<string, EvaluatorDefinition>();
  private readonly loaded = new Map<string, Promise<TrialEvaluator>>();

  constructor(private readonly settings: EvaluatorSettings = {}) {}

  register(definition: EvaluatorDefinition): this;
  register(name: string, loader: EvaluatorLoader): this;
  register(nameOrDefinition: string | EvaluatorDefinition, loader?: EvaluatorLoader): this {
    const d =
      typeof nameOrDefinition === 'string' ? this.withLoader(nameOrDefinition, loader!) : nameOrDefinition;
    this.definitions.set(d.name, d);
    this.loaded.delete(d.name);
    return this;
  }

  names(): string[] {
    return [...this.definitions.keys()];
  }

  /** What each evaluator is, for catalogs and health reports. */
  infos(): EvaluatorInfo[] {
    return [...this.definitions.values()].map(evaluatorInfo);
  }

  /** The evaluator, loading it once; a failed load is retried next time. */
  async get(name: string): Promise<TrialEvaluator> {
    const d = this.definitions.get(name);
    if (!d)
      throw new DomainError(
        'EVALUATOR.UNKNOWN',
        `evaluator: unknown evaluator '${name}'; expected one of ${this.names().join(', ')}`,
        'evaluator',
      );
    let p = this.loaded.get(name);
    if (!p) {
      p = Promise.resolve().then(() => d.load(this.settings));
      this.loaded.set(name, p);
      p.catch(() => this.loaded.delete(name));
    }
    return p;
  }

  /** A known evaluator's description with another loader (tests, builds without training). */
  private withLoader(name: string, load: EvaluatorLoader): EvaluatorDefinition {
    const known = this.definitions.get(name) ?? defaultDefinitions.get(name);
    return known ? { ...known, load } : customDefinition(name, load);
  }
}

function customDefinition(name: string, load: EvaluatorLoader): EvaluatorDefinition {
  return {
    name,
    label: name,
    description: `evaluator '${name}' registered at run time`,
    trains: false,
    analytic: false,
    load,
  };
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

/** The evaluators every process starts with. */
export const BUILT_IN_EVALUATORS: readonly EvaluatorDefinition[] = [
  fullEvaluator,
  surrogateEvaluator,
  supernetEvaluator,
];

/** Process-wide definitions the default registry starts with; modules may add theirs at import. */
const defaultDefinitions = new Map<string, EvaluatorDefinition>(BUILT_IN_EVALUATORS.map((d) => [d.name, d]));

export function registerEvaluator(definition: EvaluatorDefinition): void;
export function registerEvaluator(name: string, loader: EvaluatorLoader): void;
export function registerEvaluator(
  nameOrDefinition: string | EvaluatorDefinition,
  loader?: EvaluatorLoader,
): void {
  const d =
    typeof nameOrDefinition === 'string'
      ? (() => {
          const known = defaultDefinitions.get(nameOrDefinition);
          return known ? { ...known, load: loader! } : customDefinition(nameOrDefinition, loader!);
        })()
      : nameOrDefinition;
  defaultDefinitions.set(d.name, d);
}

/** The evaluators a new registry would offer, described (no loading). */
export function evaluatorInfos(): EvaluatorInfo[] {
  return [...defaultDefinitions.values()].map(evaluatorInfo);
}

export function createEvaluatorRegistry(
  overrides: Record<string, EvaluatorLoader | TrialEvaluator | EvaluatorDefinition> = {},
  settings: EvaluatorSettings = {},
) {
  const registry = new EvaluatorRegistry(settings);
  for (const d of defaultDefinitions.values()) registry.register(d);
  for (const [name, v] of Object.entries(overrides)) {
    if (typeof v === 'function') registry.register(name, v);
    else if ('load' in v) registry.register(v);
    else registry.register(name, () => v);
  }
  return registry;
}
