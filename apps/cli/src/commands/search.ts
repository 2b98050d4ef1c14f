import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Option, type Command } from 'commander';
import { STRATEGY_NAMES } from '@detsearch/domain';
import {
  DEFAULT_EVALUATOR,
  DEFAULT_SUPERNET_ADAPT_STEPS,
  DEFAULT_SUPERNET_MINUTES,
  evaluatorInfos,
  formatDuration,
  MAX_SUPERNET_ADAPT_STEPS,
  MAX_TRIALS,
  refineEta,
  type SearchEstimate,
  type SearchEvent,
  type SearchView,
} from '@detsearch/orchestrator';
import {
  action,
  cliConfig,
  formatTable,
  parseFloatOption,
  parseIntOption,
  readAnyDataPath,
  UsageError,
} from '../cli-kit';
import { isActive, openSearchClient, type SearchClient } from '../search-client';
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
  supernet?: string;
  supernetMinutes?: number;
  supernetAdaptSteps?: number;
  finetuneTop?: number;
  finetuneEpochs?: number;
  finetuneSeeds?: number;
  warmStart?: boolean;
  yes?: boolean;
}

/** Without a terminal, the progress line is written at most this often between finished trials. */
const LOG_EVERY_MS = 30_000;

/**
 * One-line progress on stderr: bar, trials done, ETA, best mAP, Pareto size. Until the first epoch
 * has trained the ETA is the launch estimate; from then on it is refined by how long that epoch
 * really took (see refineEta), and once trials finish, by their pace.
 */
class ProgressLine {
  private readonly started = Date.now();
  private last = '';
  private lastDone = -1;
  private lastLogAt = 0;
  private firstDoneAt: number | null = null;
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
    // The pace since the first trial finished: trials that share a training finish in seconds
    // after the one that trained, so the time before the first says little about the rest.
    if (done >= 2 && total > done && this.firstDoneAt !== null)
      return `${(((Date.now() - this.firstDoneAt) / 1000 / (done - 1)) * (total - done)).toFixed(0)}s`;
    if (this.refined)
      return `${Math.max(0, this.refined.remaining - (Date.now() - this.refined.at) / 1000).toFixed(0)}s`;
    if (this.estimate) return `~${formatDuration(Math.max(0, this.estimate.seconds - elapsed))} (est.)`;
    return '-';
  }

  update(done: number, total: number, best: number | null, pareto: number, note = ''): void {
    if (done > 0 && this.firstDoneAt === null) this.firstDoneAt = Date.now();
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
    else if (done !== this.lastDone || Date.now() - this.lastLogAt >= LOG_EVERY_MS) {
      // Logs: one line per finished trial, and one at most every LOG_EVERY_MS while something else
      // moves (a supernet training for minutes before the first trial, a fine-tune).
      process.stderr.write(`${line}\n`);
      this.lastLogAt = Date.now();
    }
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
    .addOption(
      new Option('--strategy <name>', "search strategy (default: the preset's)").choices(STRATEGY_NAMES),
    )
    .option('--trials <n>', "trial budget (default: the preset's)", parseIntOption('trials', 1, MAX_TRIALS))
    .option('--seed <k>', 'random seed', parseIntOption('seed', 0, 2 ** 31 - 1), 0)
    .addOption(
      new Option(
        '--evaluator <name>',
        'full (train, export, score) | supernet (weights from a shared supernet, then fine-tune the best) | surrogate (analytic stand-in for demos)',
      )
        .choices(evaluatorInfos().map((e) => e.name))
        .default(DEFAULT_EVALUATOR),
    )
    .option('--epochs <n>', "epochs per trial (default: the preset's)", parseIntOption('epochs', 1, 1000))
    .option('--data <data.yaml>', 'YOLO-format dataset (default: a generated synthetic one)')
    .option('--name <name>', 'search name')
    .option('--out <dir>', 'where to write leaderboard, Pareto front, plots and models', 'runs/<search id>')
    .option(
      '--supernet <id>',
      'with --evaluator supernet: the supernet to score with (detsearch supernet list)',
    )
    .option(
      '--supernet-minutes <m>',
      `with --evaluator supernet: training budget when a supernet must be trained first (minutes, default ${DEFAULT_SUPERNET_MINUTES})`,
      parseFloatOption('supernet-minutes', 0.01, 7 * 24 * 60),
    )
    .option(
      '--supernet-adapt-steps <n>',
      `with --evaluator supernet: training steps each candidate takes from its inherited weights before it is scored (default ${DEFAULT_SUPERNET_ADAPT_STEPS}, 0: none)`,
      parseIntOption('supernet-adapt-steps', 0, MAX_SUPERNET_ADAPT_STEPS),
    )
    .option(
      '--finetune-top <k>',
      "with --evaluator supernet: the front's best K fine-tuned after the budget (default 3, 0: none)",
      parseIntOption('finetune-top', 0, 100),
    )
    .option(
      '--finetune-epochs <e>',
      "with --evaluator supernet: epochs of each fine-tune (default the preset's epochs)",
      parseIntOption('finetune-epochs', 1, 1000),
    )
    .option(
      '--finetune-seeds <n>',
      'with --evaluator supernet: 2 repeats each fine-tune with a second seed (mean and spread)',
      parseIntOption('finetune-seeds', 1, 2),
    )
    .option(
      '--no-warm-start',
      'start from zero instead of reusing earlier evaluations of the same genomes on the same data and fidelity',
    )
    .option('--no-progress', 'no progress line on stderr')
    .option('--yes', 'start without asking, even when the estimate is over an hour')
    .option('--json', 'one JSON object on stdout')
    .action(
      action<SearchOptions>(async (o) => {
        const supernetOnly = {
          '--supernet': o.supernet,
          '--supernet-minutes': o.supernetMinutes,
          '--supernet-adapt-steps': o.supernetAdaptSteps,
          '--finetune-top': o.finetuneTop,
          '--finetune-epochs': o.finetuneEpochs,
          '--finetune-seeds': o.finetuneSeeds,
        };
        if (o.evaluator !== 'supernet')
          for (const [flag, v] of Object.entries(supernetOnly))
            if (v !== undefined) throw new UsageError(`${flag}: only with --evaluator supernet`);
        const fineTune = {
          ...(o.finetuneTop !== undefined ? { topK: o.finetuneTop } : {}),
          ...(o.finetuneEpochs !== undefined ? { epochs: o.finetuneEpochs } : {}),
          ...(o.finetuneSeeds !== undefined ? { seeds: o.finetuneSeeds } : {}),
        };
        const body: Record<string, unknown> = {
          preset: o.preset,
          seed: o.seed,
          evaluator: o.evaluator,
          ...(o.name ? { name: o.name } : {}),
          ...(o.strategy ? { strategy: o.strategy } : {}),
          ...(o.trials ? { budget: { trials: o.trials } } : {}),
          ...(o.epochs ? { fidelity: { epochs: o.epochs } } : {}),
          ...(o.data ? { dataset: resolve(o.data) } : {}),
          ...(o.supernet ? { supernetId: o.supernet } : {}),
          ...(o.supernetMinutes !== undefined ? { supernetMinutes: o.supernetMinutes } : {}),
          ...(o.supernetAdaptSteps !== undefined ? { supernetAdaptSteps: o.supernetAdaptSteps } : {}),
          ...(Object.keys(fineTune).length > 0 ? { fineTune } : {}),
          ...(o.warmStart === false ? { warmStart: false } : {}),
        };
        // Before the configuration is read: without DATA_ROOT the CLI reads the dataset it is given.
        if (o.data) readAnyDataPath(o.data);
        const config = cliConfig();
        const client = await openSearchClient();
        try {
          if (client.kind === 'http')
            process.stderr.write(
              `detsearch: submitting to ${client.where}, which owns this DETSEARCH_HOME\n`,
            );
          const estimate = await client.estimateSearch(body);
          for (const line of launchNotes(estimate, o)) process.stderr.write(`detsearch: ${line}\n`);
          if (
            estimate.seconds > CONFIRM_ABOVE_SECONDS &&
            !o.yes &&
            process.stdin.isTTY &&
            process.stderr.isTTY &&
            !(await confirm(`Start it? [y/N] `))
          )
            throw new Error('not started (answer was not yes; --yes skips the question)');
          // After the body is known to be valid (the estimate resolved it), before the first trial.
          await ensureHostCalibrated(o, config.DETSEARCH_HOME);
          const { id } = await client.createSearch(body);
          return await followToEnd(client, id, { ...o, estimate });
        } finally {
          await client.close();
        }
      }),
    );
}

/**
 * A search on the `host` profile on a CPU without its own fit first calibrates the host (about a
 * minute, stored under $DETSEARCH_HOME/profiles and reused), so its predictions describe this machine.
 */
async function ensureHostCalibrated(o: SearchOptions, detsearchHome: string): Promise<void> {
  const { ensureHostProfile, getPreset, hostCpu, loadHostProfile } = await import('@detsearch/latency');
  let profile: string;
  try {
    profile = getPreset(o.preset ?? 'quick-demo').hardwareProfile;
  } catch {
    return; // an unknown preset: createSearch reports it with the field's name
  }
  // The analytic stand-in measures nothing, so it is not worth a minute of measuring first.
  if (profile !== 'host' || o.evaluator === 'surrogate') return;
  const home = resolve(detsearchHome);
  const cpu = hostCpu();
  if (loadHostProfile(home, cpu)) return;
  if (o.progress !== false)
    process.stderr.write(
      `detsearch: first use of profile host on ${cpu.model}: measuring genomes to calibrate it (about a minute)\n`,
    );
  const { calibrated } = await ensureHostProfile({ home, cpu });
  if (calibrated && o.progress !== false)
    process.stderr.write(
      `detsearch: host calibrated in ${calibrated.seconds.toFixed(0)} s -> ${calibrated.path}\n`,
    );
}

export interface FollowOptions {
  out?: string;
  progress?: boolean;
  /** The launch's duration estimate: the ETA before two trials have finished. */
  estimate?: SearchEstimate;
}

/** The one-line hint after an interrupt: the real id, as a command and as the REST call. */
export const resumeHint = (id: string): string => `detsearch resume ${id}  (or POST /searches/${id}/resume)`;

/** The progress line's note for an event the loop publishes in this process. */
function eventNote(e: SearchEvent): string {
  if (e.type === 'trial-epoch') return `trial #${e.number} epoch ${e.epoch.epoch}`;
  if (e.type === 'prepare-progress') return e.message;
  if (e.type === 'fine-tune')
    return (
      `fine-tune ${e.index}/${e.of}: trial #${e.number} ${e.phase}` +
      (e.finetunedMap50_95 !== null ? ` mAP@.5:.95 ${e.finetunedMap50_95.toFixed(3)}` : '')
    );
  return '';
}

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
  process.stderr.write(
    `detsearch: search ${id} started; outputs go to ${o.out && o.out !== 'runs/<search id>' ? o.out : `runs/${id}`}\n`,
  );
  const progress = new ProgressLine(o.progress !== false, o.estimate ?? null);
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
    let note = '';
    const search: SearchView = await client.follow(
      id,
      (s) => {
        const p = s.progress;
        progress.update(
          p.completed + p.pruned + p.failed,
          p.budget,
          s.best?.map50_95 ?? null,
          s.best?.paretoSize ?? 0,
          note,
        );
      },
      (e) => {
        if (e.type === 'trial-started') progress.trialStarted(e.number);
        if (e.type === 'trial-epoch') progress.firstEpoch(e.number, e.epoch.epoch);
        note = eventNote(e);
      },
    );
    if (interrupted) await new Promise(() => undefined); // the signal handler exits
    progress.end();
    if (isActive(search)) throw new Error(`search ${id} is still ${search.status}`);
    const outDir = resolve(o.out && o.out !== 'runs/<search id>' ? o.out : `runs/${id}`);
    const outputs = await writeSearchOutputs(client, search, outDir);
    const front = await client.pareto(id);
    const twoStage = search.evaluator === 'supernet';
    const json = {
      searchId: id,
      status: search.status,
      evaluator: search.evaluator,
      trials: search.progress,
      ...(search.supernetId ? { supernetId: search.supernetId } : {}),
      pareto: front.points.map((p) => ({
        trialId: p.trialId,
        number: p.number,
        map50: p.map50,
        map50_95: p.map50_95,
        latencyMs: p.latencyMs,
        latencySource: p.latencySource,
        latencyProvenance: p.latencyProvenance,
        reused: p.reused,
        ...(p.reusedFromTrialId ? { reusedFromTrialId: p.reusedFromTrialId } : {}),
        genome: p.genome,
        ...(twoStage
          ? {
              estimateMap50: p.estimateMap50,
              estimateMap50_95: p.estimateMap50_95,
              finetunedMap50: p.finetunedMap50,
              finetunedMap50_95: p.finetunedMap50_95,
              finetunedMap50_95Std: p.finetunedMap50_95Std,
            }
          : {}),
      })),
      out: outputs.dir,
      files: outputs.files,
      models: outputs.models,
      ...(o.estimate ? { estimate: o.estimate } : {}),
      dataset: outputs.dataset,
    };
    const sources = [...new Set(front.points.map((p) => p.latencySource ?? 'unrecorded'))];
    const latencyHeader = `latency ms (${search.hardwareProfile}, ${sources.join('/') || 'none'})`;
    const f3 = (v: number | null) => (v === null ? '-' : v.toFixed(3));
    const shared = (p: (typeof front.points)[number]) => [
      p.latencyMs.toFixed(2),
      p.params === null ? '-' : `${(p.params / 1e6).toFixed(2)}M`,
      genomeShortLabel({ number: p.number, genome: p.genome }),
    ];
    const table = twoStage
      ? formatTable(
          [
            'trial',
            'estimate mAP@.5:.95',
            'fine-tuned mAP@.5:.95',
            'fine-tuned mAP@.5',
            latencyHeader,
            'params',
            'genome',
          ],
          front.points.map((p) => [
            p.number,
            f3(p.estimateMap50_95 ?? p.map50_95),
            p.finetunedMap50_95 === null
              ? '-'
              : f3(p.finetunedMap50_95) +
                (p.finetunedMap50_95Std !== null ? ` +-${p.finetunedMap50_95Std.toFixed(3)}` : ''),
            f3(p.finetunedMap50),
            ...shared(p),
          ]),
        )
      : formatTable(
          ['trial', 'mAP@.5:.95', 'mAP@.5', latencyHeader, 'params', 'genome'],
          front.points.map((p) => [p.number, p.map50_95.toFixed(3), f3(p.map50), ...shared(p)]),
        );
    const text = [
      `search ${id} ${search.status}: ${search.progress.completed} completed, ${search.progress.pruned} pruned, ${search.progress.failed} failed (${search.evaluator} evaluator)`,
      search.evaluator === 'surrogate'
        ? 'NOTE: surrogate metrics are an analytic stand-in, not trained models.'
        : '',
      twoStage
        ? `supernet ${search.supernetId ?? '-'}: estimates are inherited weights (no training of their own); ` +
          `the front's best ${search.fineTune?.topK ?? 0} were fine-tuned ${search.fineTune?.epochs ?? 0} epochs` +
          ` x ${search.fineTune?.seeds ?? 1} seed(s); their models are the fine-tuned ones`
        : '',
      outputs.dataset.synthetic && search.evaluator !== 'surrogate'
        ? `NOTE: trained and scored on ${SYNTHETIC_DATASET_NOTE}; for your own data pass --data path/to/data.yaml.`
        : '',
      `Pareto front (${front.points.length} of ${front.considered} feasible trials):`,
      table,
      ...[...new Set(front.points.map((p) => p.latencyProvenance).filter(Boolean))].map(
        (p) => `latency: ${p}`,
      ),
      `wrote ${outputs.files.length} files and ${outputs.models.length} ONNX models to ${outputs.dir}`,
    ]
      .filter(Boolean)
      .join('\n');
    return { json, text };
  } finally {
    process.removeListener('SIGINT', onSignal);
  }
}
