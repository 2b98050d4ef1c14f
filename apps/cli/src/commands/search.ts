import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import {
  formatDuration,
  refineEta,
  SearchOrchestrator,
  type SearchEstimate,
  type SearchEvent,
  type SearchView,
} from '@detsearch/orchestrator';
import { action, formatTable, parseIntOption, readAnyDataPath, UsageError } from '../cli-kit';
import { genomeShortLabel, SYNTHETIC_DATASET_NOTE, writeSearchOutputs } from '../search-outputs';

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
  yes?: boolean;
}

/**
 * One-line progress on stderr: bar, trials done, ETA, best mAP, Pareto size. Until the first epoch
 * has trained the ETA is the launch estimate; from then on it is refined by how long that epoch
 * really took (see refineEta), and once trials finish, by their pace.
 */
class ProgressLine {
  private readonly started = Date.now();
  private last = '';
  private lastDone = -1;
  private refined: { at: number; remaining: number } | null = null;
  private readonly trialStarts = new Map<number, number>();
  constructor(
    private readonly enabled: boolean,
    private readonly estimate: SearchEstimate | null,
  ) {}

  trialStarted(number: number): void {
    this.trialStarts.set(number, Date.now());
  }

  /** The first epoch of the first trial to train one refines the ETA. */
  firstEpoch(number: number, epoch: number): void {
    if (this.refined || epoch !== 1 || !this.estimate || !(this.estimate.perEpochSeconds > 0)) return;
    const start = this.trialStarts.get(number) ?? this.started;
    const elapsed = (Date.now() - this.started) / 1000;
    const took = (Date.now() - start) / 1000;
    this.refined = { at: Date.now(), remaining: refineEta(this.estimate, took, elapsed) };
    if (this.enabled)
      process.stderr.write(
        `${process.stderr.isTTY ? '\r\x1b[K' : ''}detsearch: first epoch trained in ${took.toFixed(0)} s ` +
          `(predicted ${this.estimate.perEpochSeconds.toFixed(0)} s + start-up); ETA now ~${formatDuration(this.refined.remaining)}\n`,
      );
  }

  /** Seconds left, and how the number was obtained. */
  private eta(done: number, total: number): string {
    const elapsed = (Date.now() - this.started) / 1000;
    if (total > 0 && done >= total) return '0s';
    if (done >= 2 && total > done) return `${((elapsed / done) * (total - done)).toFixed(0)}s`;
    if (this.refined)
      return `${Math.max(0, this.refined.remaining - (Date.now() - this.refined.at) / 1000).toFixed(0)}s`;
    if (this.estimate) return `~${formatDuration(Math.max(0, this.estimate.seconds - elapsed))} (est.)`;
    return '-';
  }

  update(done: number, total: number, best: number | null, pareto: number, note = ''): void {
    if (!this.enabled) return;
    const width = 24;
    const filled = total ? Math.round((width * done) / total) : 0;
    const elapsed = (Date.now() - this.started) / 1000;
    const line =
      `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} trials  ` +
      `elapsed ${elapsed.toFixed(0)}s  ETA ${this.eta(done, total)}  best mAP@.5:.95 ${best === null ? '-' : best.toFixed(3)}  ` +
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

/** Searches expected to run longer than this ask for confirmation on a terminal. */
const CONFIRM_ABOVE_SECONDS = 3600;

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await new Promise<string>((res) => rl.question(question, res));
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** The lines said before a search starts: its estimate, loudly when long, and the dataset. */
function launchNotes(e: SearchEstimate, o: SearchOptions): string[] {
  const lines = [
    `estimate: ~${formatDuration(e.seconds)} (${e.trials} trials, ~${formatDuration(e.perTrialSeconds)} each, ` +
      `${e.parallel} at a time; up to ${formatDuration(e.maxSeconds)} without pruning)`,
    `  basis: ${e.basis}`,
  ];
  if (e.seconds > CONFIRM_ABOVE_SECONDS)
    lines.push(
      `WARNING: this search would run for about ${formatDuration(e.seconds)} on this machine. ` +
        'For a first look use fewer trials or epochs (--trials 8 --epochs 3), or --evaluator surrogate.',
    );
  if (e.dataset.synthetic && e.evaluator !== 'surrogate')
    lines.push(
      `NOTE: trials train on ${SYNTHETIC_DATASET_NOTE}, not on your data; ` +
        'pass --data path/to/data.yaml (YOLO format, see README "Bring your own dataset").',
    );
  if (o.evaluator === 'surrogate')
    lines.push('NOTE: evaluator "surrogate" is an analytic stand-in: no model is trained.');
  return lines;
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
    .option('--yes', 'start without asking, even when the estimate is over an hour')
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
        if (o.data) readAnyDataPath(o.data);
        const orchestrator = await SearchOrchestrator.open({
          databaseUrl: process.env.DATABASE_URL || undefined,
          home: process.env.DETSEARCH_HOME,
          concurrency: Number(process.env.WORKER_CONCURRENCY) || undefined,
        });
        let estimate: SearchEstimate;
        try {
          estimate = await orchestrator.estimateSearch(body);
        } catch (err) {
          await orchestrator.close();
          throw err;
        }
        for (const line of launchNotes(estimate, o)) process.stderr.write(`detsearch: ${line}\n`);
        if (
          estimate.seconds > CONFIRM_ABOVE_SECONDS &&
          !o.yes &&
          process.stdin.isTTY &&
          process.stderr.isTTY
        ) {
          if (!(await confirm(`Start it? [y/N] `))) {
            await orchestrator.close();
            throw new Error('not started (answer was not yes; --yes skips the question)');
          }
        }
        const progress = new ProgressLine(o.progress !== false, estimate);
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
          process.stderr.write(
            `detsearch: search ${id} started; outputs go to ${o.out && o.out !== 'runs/<search id>' ? o.out : `runs/${id}`}\n`,
          );
          const state = { done: 0, total: 0, best: null as number | null, pareto: 0 };
          const unsubscribe = orchestrator.subscribe(id, (e: SearchEvent) => {
            if ('progress' in e) {
              state.done = e.progress.completed + e.progress.pruned + e.progress.failed;
              state.total = e.progress.budget;
            }
            if ('best' in e) state.best = e.best?.map50_95 ?? null;
            if ('paretoSize' in e) state.pareto = e.paretoSize;
            if (e.type === 'trial-started') progress.trialStarted(e.number);
            if (e.type === 'trial-epoch') progress.firstEpoch(e.number, e.epoch.epoch);
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
            estimate,
            dataset: outputs.dataset,
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
            outputs.dataset.synthetic && search.evaluator !== 'surrogate'
              ? `NOTE: trained and scored on ${SYNTHETIC_DATASET_NOTE}; for your own data pass --data path/to/data.yaml.`
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
