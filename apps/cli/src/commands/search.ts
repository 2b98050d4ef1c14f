import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { STRATEGY_NAMES } from '@detsearch/domain';
import {
  DEFAULT_EVALUATOR,
  evaluatorInfos,
  SearchOrchestrator,
  type SearchEvent,
  type SearchView,
} from '@detsearch/orchestrator';
import { action, cliConfig, formatTable, parseFloatOption, parseIntOption, UsageError } from '../cli-kit';
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
  supernet?: string;
  supernetMinutes?: number;
  finetuneTop?: number;
  finetuneEpochs?: number;
  finetuneSeeds?: number;
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
    .option('--trials <n>', "trial budget (default: the preset's)", parseIntOption('trials', 1, 100_000))
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
      'with --evaluator supernet: training budget when a supernet must be trained first',
      parseFloatOption('supernet-minutes', 0.01, 7 * 24 * 60),
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
    .option('--no-progress', 'no progress line on stderr')
    .option('--json', 'one JSON object on stdout')
    .action(
      action<SearchOptions>(async (o) => {
        const supernetOnly = {
          '--supernet': o.supernet,
          '--supernet-minutes': o.supernetMinutes,
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
          ...(Object.keys(fineTune).length > 0 ? { fineTune } : {}),
        };
        if (o.evaluator === 'surrogate')
          process.stderr.write(
            'detsearch: evaluator "surrogate" is an analytic stand-in: no model is trained.\n',
          );
        const config = cliConfig();
        await ensureHostCalibrated(o, config.DETSEARCH_HOME);
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
            const note =
              e.type === 'trial-epoch'
                ? `trial #${e.number} epoch ${e.epoch.epoch}`
                : e.type === 'prepare-progress'
                  ? e.message
                  : e.type === 'fine-tune'
                    ? `fine-tune ${e.index}/${e.of}: trial #${e.number} ${e.phase}` +
                      (e.finetunedMap50_95 !== null ? ` mAP@.5:.95 ${e.finetunedMap50_95.toFixed(3)}` : '')
                    : '';
            progress.update(state.done, state.total, state.best, state.pareto, note);
          });
          const search: SearchView = await orchestrator.waitForSearch(id);
          unsubscribe();
          progress.end();
          const outDir = resolve(o.out && o.out !== 'runs/<search id>' ? o.out : `runs/${id}`);
          const outputs = await writeSearchOutputs(orchestrator, search, outDir);
          const front = await orchestrator.pareto(id);
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
          };
          const sources = [...new Set(front.points.map((p) => p.latencySource ?? 'unrecorded'))];
          const f3 = (v: number | null) => (v === null ? '-' : v.toFixed(3));
          const table = twoStage
            ? formatTable(
                [
                  'trial',
                  'estimate mAP@.5:.95',
                  'fine-tuned mAP@.5:.95',
                  'fine-tuned mAP@.5',
                  `latency ms (${search.hardwareProfile}, ${sources.join('/') || 'none'})`,
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
                  p.latencyMs.toFixed(2),
                  p.params === null ? '-' : `${(p.params / 1e6).toFixed(2)}M`,
                  genomeShortLabel({ number: p.number, genome: p.genome }),
                ]),
              )
            : formatTable(
                [
                  'trial',
                  'mAP@.5:.95',
                  'mAP@.5',
                  `latency ms (${search.hardwareProfile}, ${sources.join('/') || 'none'})`,
                  'params',
                  'genome',
                ],
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
            twoStage
              ? `supernet ${search.supernetId ?? '-'}: estimates are inherited weights (no training of their own); ` +
                `the front's best ${search.fineTune?.topK ?? 0} were fine-tuned ${search.fineTune?.epochs ?? 0} epochs` +
                ` x ${search.fineTune?.seeds ?? 1} seed(s); their models are the fine-tuned ones`
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
          if (!interrupted) await orchestrator.close();
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
