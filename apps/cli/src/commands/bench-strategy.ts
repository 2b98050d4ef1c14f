import { Option, type Command } from 'commander';
import { createStrategy, STRATEGY_NAMES } from '@detsearch/domain';
import { PROBLEM_NAMES, runBenchmark } from '@detsearch/strategies';
import { action, parseIntOption, UsageError } from '../cli-kit';

interface BenchStrategyOptions {
  strategy: string;
  problem: string;
  evals: number;
  seed: number;
  batch?: number;
  json?: boolean;
}

export function registerBenchStrategy(program: Command): void {
  program
    .command('bench-strategy')
    .description('run a search strategy on a standard test problem (all minimized)')
    .addOption(
      new Option('--strategy <name>', 'search strategy').choices(STRATEGY_NAMES).makeOptionMandatory(),
    )
    .requiredOption('--problem <name>', PROBLEM_NAMES.join(' | '))
    .requiredOption('--evals <n>', 'evaluations', parseIntOption('evals', 1, 1_000_000))
    .option('--seed <k>', 'random seed', parseIntOption('seed', 0, 2 ** 31 - 1), 0)
    .option('--batch <n>', "candidates per ask (default: the strategy's)", parseIntOption('batch', 1, 10_000))
    .option('--json', 'one JSON object on stdout')
    .action(
      action<BenchStrategyOptions>((o) => {
        if (!(PROBLEM_NAMES as readonly string[]).includes(o.problem))
          throw new UsageError(
            `--problem: unknown '${o.problem}'; expected one of ${PROBLEM_NAMES.join(', ')}`,
          );
        const r = runBenchmark({
          strategy: createStrategy(o.strategy),
          problem: o.problem,
          evals: o.evals,
          seed: o.seed,
          batch: o.batch,
        });
        const json = {
          strategy: r.strategy,
          problem: r.problem,
          evals: r.evals,
          best: r.best,
          hypervolume: r.hypervolume,
        };
        const text =
          `${r.strategy} on ${r.problem}, ${r.evals} evaluations, seed ${o.seed}: ` +
          (r.hypervolume !== null
            ? `hypervolume ${r.hypervolume.toFixed(4)} (reference (1, 1))`
            : `best ${r.best}`) +
          ` in ${(r.wallMs / 1000).toFixed(1)} s`;
        return { json, text };
      }),
    );
}
