import { artifactOptionsFromConfig } from '@detsearch/artifacts';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_SUPERNET_MINUTES, SearchOrchestrator, type SupernetView } from '@detsearch/orchestrator';
import {
  action,
  cliConfig,
  formatTable,
  parseFloatOption,
  parseIntOption,
  readAnyDataPath,
  readJsonOrFile,
  UsageError,
} from '../cli-kit';

interface TrainOptions {
  preset?: string;
  space?: string;
  data?: string;
  minutes?: number;
  activation?: string;
  seed?: number;
  json?: boolean;
  progress?: boolean;
}

const openOrchestrator = () => {
  const config = cliConfig();
  return SearchOrchestrator.open({
    databaseUrl: config.DATABASE_URL,
    home: config.DETSEARCH_HOME,
    artifacts: artifactOptionsFromConfig(config),
    dataRoot: config.DATA_ROOT,
    evaluatorSettings: { backend: config.DETSEARCH_BACKEND, surrogateMs: config.DETSEARCH_SURROGATE_MS },
    // Only supernets here: searches left running belong to `detsearch search` / `serve`.
    resumeOrphans: false,
  });
};

const homeDir = () => resolve(cliConfig().DETSEARCH_HOME);

function summary(s: SupernetView) {
  return {
    id: s.id,
    status: s.status,
    path: s.artifactPath ? resolve(homeDir(), s.artifactPath) : null,
    epochs: s.epochs,
    minutes: s.minutes,
    activation: s.activation,
    dataset: s.dataset,
    datasetFingerprint: s.datasetFingerprint,
    spaceFingerprint: s.spaceFingerprint,
    imageSizes: s.imageSizes,
    sizeBytes: s.sizeBytes,
    metrics: s.metrics,
    error: s.error,
  };
}

/** `detsearch supernet train` and `detsearch supernet list`. */
export function registerSupernet(program: Command): void {
  const supernet = program
    .command('supernet')
    .description('weight-sharing supernets: train one per dataset, search space and activation; list them');

  supernet
    .command('train')
    .description(
      "train a supernet over a preset's search space (or a space file) on a dataset; a ready one of the same " +
        'dataset, space and activation is reused; an interrupted one resumes from its checkpoints',
    )
    .option('--preset <name>', 'the preset whose search space to cover')
    .option('--space <file>', 'a search-space YAML/JSON file (overrides of search-spaces/yolov5.yaml)')
    .option('--data <data.yaml>', 'YOLO-format dataset (default: the generated synthetic one)')
    .option(
      '--minutes <m>',
      `training time budget in minutes (default ${DEFAULT_SUPERNET_MINUTES})`,
      parseFloatOption('minutes', 0.01, 7 * 24 * 60),
    )
    .option('--activation <name>', "the supernet's activation (default the space's first)")
    .option('--seed <k>', 'random seed', parseIntOption('seed', 0, 2 ** 31 - 1))
    .option('--no-progress', 'no progress line on stderr')
    .option('--json', 'one JSON object on stdout')
    .action(
      action<TrainOptions>(async (o) => {
        if (!o.preset && !o.space) throw new UsageError('--preset or --space: give one');
        if (o.preset && o.space) throw new UsageError('--preset and --space: give one, not both');
        const body: Record<string, unknown> = {
          ...(o.preset ? { preset: o.preset } : {}),
          ...(o.space ? { searchSpace: readJsonOrFile(o.space, 'space') } : {}),
          ...(o.data ? { dataset: resolve(o.data) } : {}),
          ...(o.minutes !== undefined ? { minutes: o.minutes } : {}),
          ...(o.activation ? { activation: o.activation } : {}),
          ...(o.seed !== undefined ? { seed: o.seed } : {}),
        };
        // Before the configuration is read: without DATA_ROOT the CLI reads the dataset it is given.
        if (o.data) readAnyDataPath(o.data);
        const orchestrator = await openOrchestrator();
        const abort = new AbortController();
        const onSignal = () => {
          process.stderr.write(
            '\ndetsearch: interrupted; `supernet train` again resumes from its checkpoints\n',
          );
          abort.abort();
          void orchestrator.close().finally(() => process.exit(130));
        };
        process.once('SIGINT', onSignal);
        try {
          const { supernet: started } = await orchestrator.createSupernet(body);
          let last = '';
          const show = (s: SupernetView) => {
            if (o.progress === false || !s.progress) return;
            const p = s.progress;
            const line =
              `supernet ${s.id.slice(0, 8)} ${s.status} ${(100 * p.fraction).toFixed(0)}% epoch ${p.epoch}` +
              `${p.etaSeconds !== null ? ` ETA ${p.etaSeconds}s` : ''}  ${p.message}`;
            if (line === last) return;
            last = line;
            process.stderr.write(process.stderr.isTTY ? `\r${line}\x1b[K` : `${line}\n`);
          };
          const ready = await orchestrator.waitForSupernet(started.id, show, abort.signal);
          if (o.progress !== false && process.stderr.isTTY) process.stderr.write('\n');
          const json = summary(ready);
          const m = ready.metrics as {
            largestMap50?: number;
            smallestMap50?: number;
            perSize?: Array<{ imageSize: number; largestMap50: number; smallestMap50: number }>;
          } | null;
          const extremes = (at: { largestMap50?: number; smallestMap50?: number }) =>
            `largest ${Number(at.largestMap50).toFixed(3)}, smallest ${Number(at.smallestMap50).toFixed(3)}`;
          const text = [
            `supernet ${ready.id} ${ready.status}: ${ready.epochs} epochs, ${ready.minutes.toFixed(1)} min, ` +
              `activation ${ready.activation}`,
            `path ${json.path ?? '-'}`,
            m?.perSize?.length
              ? `mAP@0.5 ${m.perSize.map((s) => `at ${s.imageSize} px: ${extremes(s)}`).join('; ')}`
              : m && typeof m.largestMap50 === 'number'
                ? `mAP@0.5 ${extremes(m)}`
                : '',
          ]
            .filter(Boolean)
            .join('\n');
          return { json, text };
        } finally {
          process.removeListener('SIGINT', onSignal);
          await orchestrator.close();
        }
      }),
    );

  supernet
    .command('list')
    .description('supernets, newest first')
    .option('--json', 'one JSON object on stdout')
    .action(
      action<{ json?: boolean }>(async () => {
        const orchestrator = await openOrchestrator();
        try {
          const { items } = await orchestrator.listSupernets({ limit: 1000 });
          const rows = items.map(summary);
          const text =
            rows.length === 0
              ? 'no supernets yet (detsearch supernet train --preset quick-demo)'
              : formatTable(
                  ['id', 'status', 'activation', 'epochs', 'minutes', 'progress', 'dataset', 'path'],
                  items.map((s) => [
                    s.id,
                    s.status,
                    s.activation,
                    s.epochs,
                    s.minutes.toFixed(1),
                    s.progress ? `${(100 * s.progress.fraction).toFixed(0)}%` : '-',
                    s.dataset ?? '-',
                    s.artifactPath ?? '-',
                  ]),
                );
          return { json: { items: rows }, text };
        } finally {
          await orchestrator.close();
        }
      }),
    );
}
