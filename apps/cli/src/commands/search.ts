import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { STRATEGY_NAMES } from '@detsearch/domain';
import {
  DEFAULT_EVALUATOR,
  evaluatorInfos,
  MAX_TRIALS,
  SearchOrchestrator,
  type SearchEvent,
  type SearchView,
} from '@detsearch/orchestrator';
import { action, cliConfig, formatTable, parseIntOption } from '../cli-kit';
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
    .addOption(
      new Option('--strategy <name>', "search strategy (default: the preset's)").choices(STRATEGY_NAMES),
    )
    .option('--trials <n>', "trial budget (default: the preset's)", parseIntOption('trials', 1, MAX_TRIALS))
    .option('--seed <k>', 'random seed', parseIntOption('seed', 0, 2 ** 31 - 1), 0)
    .addOption(
      new Option(
        '--evaluator <name>',
        'full (train, export, score) | surrogate (analytic stand-in for demos)',
      )
        .choices(evaluatorInfos().map((e) => e.name))
        .default(DEFAULT_EVALUATOR),
    )
    .option('--epochs <n>', "epochs per trial (default: the preset's)", parseIntOption('epochs', 1, 1000))
    .option('--data <data.yaml>', 'YOLO-format dataset (default: a generated synthetic one)')
    .option('--name <name>', 'search name')
    .option('--out <dir>', 'where to write leaderboard, Pareto front, plots and models', 'runs/<search id>')
    .option('--no-progress', 'no progress line on stderr')
    .option('--json', 'one JSON object on stdout')
    .action(
      action<SearchOptions>(async (o) => {
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
        const config = cliConfig();
        const orchestrator = await SearchOrchestrator.open({
          databaseUrl: config.DATABASE_URL,
          home: config.DETSEARCH_HOME,
          concurrency: config.WORKER_CONCURRENCY,
          distributed: config.DETSEARCH_DISTRIBUTED,
          dataRoot: config.DATA_ROOT,
          evaluatorSettings: {
            backend: config.DETSEARCH_BACKEND,
            surrogateMs: config.DETSEARCH_SURROGATE_MS,
          },
        });
        const progress = new ProgressLine(o.progress !== false);
        let interrupted = false;
        const onSignal = () => {
          interrupted = true;
          process.stderr.write(
            '\ndetsearch: interrupted; the search can be resumed (POST /searches/:id/resume)\n',
          );
          void orchestrator.close().finally(() => process.exit(130));
        };
        process.once('SIGINT', onSignal);
        try {
          const { id } = await orchestrator.createSearch(body);
          const state = { done: 0, total: 0, best: null as number | null, pareto: 0 };
          const unsubscribe = orchestrator.subscribe(id, (e: SearchEvent) => {
            if ('progress' in e) {
              state.done = e.progress.completed + e.progress.pruned + e.progress.failed;
              state.total = e.progress.budget;
            }
            if ('best' in e) state.best = e.best?.map50_95 ?? null;
            if ('paretoSize' in e) state.pareto = e.paretoSize;
            const note = e.type === 'trial-epoch' ? `trial #${e.number} epoch ${e.epoch.epoch}` : '';
            progress.update(state.done, state.total, state.best, state.pareto, note);
          });
          const search: SearchView = await orchestrator.waitForSearch(id);
          unsubscribe();
          progress.end();
          const outDir = resolve(o.out && o.out !== 'runs/<search id>' ? o.out : `runs/${id}`);
          const outputs = await writeSearchOutputs(orchestrator, search, outDir);
          const front = await orchestrator.pareto(id);
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
          if (!interrupted) await orchestrator.close();
        }
      }),
    );
}
