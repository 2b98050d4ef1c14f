import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  buildCatalog,
  CONSTRAINTS,
  OBJECTIVES,
  STRATEGY_NAMES,
  TRIAL_STATUSES,
  type EvaluatorDefinition,
} from '@detsearch/domain';
import { presetSchema } from '@detsearch/latency';
import {
  createEvaluatorRegistry,
  evaluatorInfos,
  registerEvaluator,
  SurrogateEvaluator,
} from '@detsearch/orchestrator';
import { OBJECTIVE_COLUMNS } from '@detsearch/persistence';
import { registerBenchStrategy } from '../../apps/cli/src/commands/bench-strategy';
import { registerSearch } from '../../apps/cli/src/commands/search';

/*
 * Each extension point is one registry row; these tests check that every edge listed in
 * ARCHITECTURE.md reads the registry rather than a copy, so adding a row is the whole change.
 */

const openapi = JSON.parse(readFileSync(join(__dirname, '../../openapi.json'), 'utf8')) as {
  components: { schemas: Record<string, { enum?: string[] }> };
};

function optionChoices(register: (p: Command) => void, command: string, flag: string): string[] | undefined {
  const program = new Command();
  register(program);
  const cmd = program.commands.find((c) => c.name() === command)!;
  return cmd.options.find((o) => o.long === flag)?.argChoices;
}

describe('strategies: libs/strategies/src/<name>.ts + one row in libs/domain/src/strategies.ts', () => {
  it('reach OpenAPI, the CLI, the preset schema and the catalog from the registry', () => {
    expect(openapi.components.schemas.StrategyName!.enum).toEqual([...STRATEGY_NAMES]);
    expect(optionChoices(registerSearch, 'search', '--strategy')).toEqual([...STRATEGY_NAMES]);
    expect(optionChoices(registerBenchStrategy, 'bench-strategy', '--strategy')).toEqual([...STRATEGY_NAMES]);
    expect(presetSchema.shape.strategy.options).toEqual([...STRATEGY_NAMES]);
    const catalog = buildCatalog({ evaluators: [], presets: [], hardwareProfiles: [] });
    expect(catalog.strategies.map((s) => s.name)).toEqual([...STRATEGY_NAMES]);
  });
});

describe('evaluators: one file exporting an EvaluatorDefinition + one entry in BUILT_IN_EVALUATORS', () => {
  it('a definition registered once is offered, described and loaded everywhere', async () => {
    const echo: EvaluatorDefinition = {
      name: 'echo-surrogate',
      label: 'Echo',
      description: 'the surrogate under another name (extension example)',
      trains: false,
      analytic: true,
      load: (s) => new SurrogateEvaluator({ msPerTrial: s.surrogateMs }),
    };
    registerEvaluator(echo);
    expect(evaluatorInfos().map((e) => e.name)).toContain('echo-surrogate');
    expect(optionChoices(registerSearch, 'search', '--evaluator')).toContain('echo-surrogate');
    const registry = createEvaluatorRegistry();
    expect(registry.infos()).toContainEqual(
      expect.objectContaining({ name: 'echo-surrogate', analytic: true }),
    );
    expect((await registry.get('echo-surrogate')).name).toBe('surrogate');
  });
});

describe('objectives and constraints: one row in libs/domain/src/objectives.ts (+ a migration for a new column)', () => {
  it('reach persistence, OpenAPI, the preset schema and the catalog from the registry', () => {
    expect(Object.keys(OBJECTIVE_COLUMNS)).toEqual([...OBJECTIVES]);
    expect(openapi.components.schemas.ObjectiveName!.enum).toEqual([...OBJECTIVES]);
    expect(presetSchema.shape.objectives.innerType().element.options).toEqual([...OBJECTIVES]);
    const catalog = buildCatalog({ evaluators: [], presets: [], hardwareProfiles: [] });
    expect(catalog.objectives.map((o) => o.name)).toEqual([...OBJECTIVES]);
    expect(catalog.constraints.map((c) => c.name)).toEqual([...CONSTRAINTS]);
  });
});

describe('trial statuses: one table in libs/domain/src/trial-status.ts', () => {
  it('reach OpenAPI and the catalog', () => {
    expect(openapi.components.schemas.TrialStatus!.enum).toEqual([...TRIAL_STATUSES]);
  });
});
