import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { SearchView } from '@detsearch/orchestrator';
import { action, formatTable, parseIntOption, UsageError } from '../cli-kit';
import { isActive, openSearchClient, type SearchClient } from '../search-client';
import { genomeShortLabel, writeSearchOutputs } from '../search-outputs';

interface SearchOptions {
  preset?: string;
  strategy?: string;
  trials?: number;
  seed?: number;
  evaluator?: string;
  epochs?: number;
  data?: string;
  out?: string;
  name?: string;
  json?: boolean;
  progress?: boolean;
}

/** One-line progress on stderr: bar, trials done, ETA, best mAP, Pareto size. */
class ProgressLine {
  private readonly started = Date.now();
  private last = '';
  private lastDone = -1;
  constructor(private readonly enabled: boolean) {}

  update(done: number, total: number, best: number | null, pareto: number, note = ''): void {
    if (!this.enabled) return;
    const width = 24;
    const filled = total ? Math.round((width * done) / total) : 0;
    const elapsed = (Date.now() - this.started) / 1000;
    const eta = done > 0 && total > done ? ((elapsed / done) * (total - done)).toFixed(0) + 's' : '-';
    const line =
      `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} trials  ` +
      `elapsed ${elapsed.toFixed(0)}s  ETA ${eta}  best mAP@.5:.95 ${best === null ? '-' : best.toFixed(3)}  ` +
      `Pareto ${pareto}${note ? `  ${note}` : ''}`;
    if (line === this.last) return;
    this.last = line;
    if (process.stderr.isTTY) process.stderr.write(`\r${line}\x1b[K`);
    else if (done !== this.lastDone) process.stderr.write(`${line}\n`); // logs: one line per finished trial
    this.lastDone = done;
  }

  end(): void {
    if (this.enabled && process.stderr.isTTY) process.stderr.write('\n');
  }
}

export function registerSearch(program: Command): void {
  program
    .command('search')
    .description(
      'run a whole search on the embedded database (or DATABASE_URL), with progress, plots and ONNX models',
    )
    .option('--preset <name>', 'hardware-targeted preset (see GET /presets)', 'quick-demo')
    .option('--strategy <name>', "random | evolution | nsga2 | bayes (default: the preset's)")
    .option('--trials <n>', "trial budget (default: the preset's)", parseIntOption('trials', 1, 100_000))
    .option('--seed <k>', 'random seed', parseIntOption('seed', 0, 2 ** 31 - 1), 0)
    .option(
      '--evaluator <name>',
      'full (train, export, score) | surrogate (analytic stand-in for demos)',
      'full',
    )
    .option('--epochs <n>', "epochs per trial (default: the preset's)", parseIntOption('epochs', 1, 1000))
    .option('--data <data.yaml>', 'YOLO-format dataset (default: a generated synthetic one)')
    .option('--name <name>', 'search name')
    .option('--out <dir>', 'where to write leaderboard, Pareto front, plots and models', 'runs/<search id>')
    .option('--no-progress', 'no progress line on stderr')
    .option('--json', 'one JSON object on stdout')
    .action(
      action<SearchOptions>(async (o) => {
        if (o.evaluator !== 'full' && o.evaluator !== 'surrogate')
          throw new UsageError(`--evaluator: expected full or surrogate, got '${o.evaluator}'`);
        const body: Record<string, unknown> = {
          preset: o.preset,
          seed: o.seed,
          evaluator: o.evaluator,
          ...(o.name ? { name: o.name } : {}),
          ...(o.strategy ? { strategy: o.strategy } : {}),
          ...(o.trials ? { budget: { trials: o.trials } } : {}),
          ...(o.epochs ? { fidelity: { epochs: o.epochs } } : {}),
          ...(o.data ? { dataset: resolve(o.data) } : {}),
        };
        if (o.evaluator === 'surrogate')
          process.stderr.write(
            'detsearch: evaluator "surrogate" is an analytic stand-in: no model is trained.\n',
          );
        const client = await openSearchClient({
          concurrency: Number(process.env.WORKER_CONCURRENCY) || undefined,
        });
        try {
          if (client.kind === 'http')
            process.stderr.write(
              `detsearch: submitting to ${client.where}, which owns this DETSEARCH_HOME\n`,
            );
          const { id } = await client.createSearch(body);
          return await followToEnd(client, id, o);
        } finally {
          await client.close();
        }
      }),
    );
}

export interface FollowOptions {
  out?: string;
  progress?: boolean;
}

/** The one-line hint after an interrupt: the real id, as a command and as the REST call. */
export const resumeHint = (id: string): string => `detsearch resume ${id}  (or POST /searches/${id}/resume)`;

/**
 * Shows a search's progress until it ends, then writes its outputs and returns the summary.
 * Ctrl-C stops the search (cancelled, kept stopped: no server restart resumes it) and prints how
 * to resume it.
 */
export async function followToEnd(
  client: SearchClient,
  id: string,
  o: FollowOptions,
): Promise<{ json: unknown; text: string }> {
  process.stderr.write(`detsearch: search ${id}\n`);
  const progress = new ProgressLine(o.progress !== false);
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    progress.end();
    process.stderr.write(
      `\ndetsearch: interrupted; search ${id} is stopped. Resume it with: ${resumeHint(id)}\n`,
    );
    void client
      .cancel(id, { reason: `interrupted from the terminal (Ctrl-C); resume with: ${resumeHint(id)}` })
      .catch((err) =>
        process.stderr.write(`detsearch: could not stop search ${id}: ${(err as Error).message}\n`),
      )
      .finally(() => void client.close().finally(() => process.exit(130)));
  };
  process.once('SIGINT', onSignal);
  try {
    const search: SearchView = await client.follow(id, (s) => {
      const p = s.progress;
      progress.update(
        p.completed + p.pruned + p.failed,
        p.budget,
        s.best?.map50_95 ?? null,
        s.best?.paretoSize ?? 0,
      );
    });
    if (interrupted) await new Promise(() => undefined); // the signal handler exits
    progress.end();
    if (isActive(search)) throw new Error(`search ${id} is still ${search.status}`);
    const outDir = resolve(o.out && o.out !== 'runs/<search id>' ? o.out : `runs/${id}`);
    const outputs = await writeSearchOutputs(client, search, outDir);
    const front = await client.pareto(id);
    const json = {
      searchId: id,
      status: search.status,
      evaluator: search.evaluator,
      trials: search.progress,
      pareto: front.points.map((p) => ({
        trialId: p.trialId,
        number: p.number,
        map50_95: p.map50_95,
        latencyMs: p.latencyMs,
        genome: p.genome,
      })),
      out: outputs.dir,
      files: outputs.files,
      models: outputs.models,
    };
    const table = formatTable(
      ['trial', 'mAP@.5:.95', 'mAP@.5', `latency ms (${search.hardwareProfile})`, 'params', 'genome'],
      front.points.map((p) => [
        p.number,
        p.map50_95.toFixed(3),
        p.map50 === null ? '-' : p.map50.toFixed(3),
        p.latencyMs.toFixed(2),
        p.params === null ? '-' : `${(p.params / 1e6).toFixed(2)}M`,
        genomeShortLabel({ number: p.number, genome: p.genome }),
      ]),
    );
    const text = [
      `search ${id} ${search.status}: ${search.progress.completed} completed, ${search.progress.pruned} pruned, ${search.progress.failed} failed (${search.evaluator} evaluator)`,
      search.evaluator === 'surrogate'
        ? 'NOTE: surrogate metrics are an analytic stand-in, not trained models.'
        : '',
      `Pareto front (${front.points.length} of ${front.considered} feasible trials):`,
      table,
      `wrote ${outputs.files.length} files and ${outputs.models.length} ONNX models to ${outputs.dir}`,
    ]
      .filter(Boolean)
      .join('\n');
    return { json, text };
  } finally {
    process.removeListener('SIGINT', onSignal);
  }
}
