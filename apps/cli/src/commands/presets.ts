import { cpus } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadPresets } from '@detsearch/latency';
import {
  DEFAULT_SYNTHETIC,
  distinctTrainings,
  fullTrainingKey,
  estimateSearchDuration,
  formatDuration,
  REFERENCE_THROUGHPUT,
  resolveLaunch,
  storedThroughput,
} from '@detsearch/orchestrator';
import type { SearchSpaceSpec } from '@detsearch/search-space';
import { action, cliConfig, formatTable } from '../cli-kit';

export function registerPresets(program: Command): void {
  program
    .command('presets')
    .description('the hardware-targeted presets: device, budget, data and how long each would take here')
    .option('--json', 'one JSON object on stdout')
    .action(
      action<{ json?: boolean }>(async () => {
        const home = resolve(cliConfig().DETSEARCH_HOME);
        const throughput = storedThroughput(home) ?? REFERENCE_THROUGHPUT;
        const parallel = Math.min(cliConfig().WORKER_CONCURRENCY, cpus().length);
        const val = Math.round(DEFAULT_SYNTHETIC.images * 0.2);
        const presets = [];
        for (const p of loadPresets()) {
          const launch = await resolveLaunch(
            { preset: p.name, evaluator: 'full' },
            { assertEvaluator: () => undefined },
          );
          const space = launch.searchSpace as unknown as SearchSpaceSpec;
          const trainings = distinctTrainings(space, (g) => fullTrainingKey(g, launch.fidelity));
          const e = estimateSearchDuration({
            ...(trainings !== undefined ? { trainings } : {}),
            evaluator: 'full',
            trials: launch.budget.trials,
            fidelity: launch.fidelity,
            searchSpace: launch.searchSpace as unknown as SearchSpaceSpec,
            parallel,
            trainImages: DEFAULT_SYNTHETIC.images - val,
            valImages: val,
            throughput,
          });
          presets.push({
            name: p.name,
            description: p.description,
            hardwareProfile: p.hardwareProfile,
            latencyBudgetMs: p.latencyBudgetMs ?? null,
            strategy: p.strategy,
            trials: launch.budget.trials,
            epochs: launch.fidelity.epochs,
            minEpochs: launch.fidelity.minEpochs ?? launch.fidelity.epochs,
            // No preset names a dataset: each trains on the synthetic shapes unless --data is given.
            synthetic: true,
            estimate: {
              seconds: Math.round(e.seconds),
              maxSeconds: Math.round(e.maxSeconds),
              basis: e.basis,
            },
          });
        }
        const table = formatTable(
          ['preset', 'profile', 'limit', 'trials x epochs', 'data', 'est. time here'],
          presets.map((p) => [
            p.name,
            p.hardwareProfile,
            p.latencyBudgetMs === null ? '-' : `${p.latencyBudgetMs} ms`,
            `${p.trials} x ${p.epochs}`,
            'synthetic*',
            `${formatDuration(p.estimate.seconds)}${p.estimate.seconds > 3600 ? ' (!)' : ''}`,
          ]),
        );
        const text = [
          table,
          '',
          ...presets.map((p) => `${p.name}: ${p.description}`),
          '',
          '* every preset trains on the generated synthetic shapes unless you pass --data path/to/data.yaml.',
          `Times: ${parallel} trials at a time, ASHA pruning expected; throughput ${throughput.source}.`,
          '(!) over an hour: shrink it with --trials and --epochs, e.g. `detsearch search --preset orin-nano-int8 --trials 12 --epochs 3`.',
        ].join('\n');
        return { json: { presets, throughput: { source: throughput.source }, parallel }, text };
      }),
    );
}
