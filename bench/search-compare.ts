/**
 * Supernet search vs full search at equal wall clock: both searches run at the same time on the
 * same data, space, profile and latency budget, one core each (concurrency 1; two CPU-bound
 * processes on a 2-core machine), through the real orchestrator and evaluators on embedded
 * databases of their own. Writes bench/results/search-compare.md:
 *  - full: every trial trains `--epochs` epochs from scratch; the wall clock ends the search
 *    (a trial still training then is failed, as in any search with a wall-clock budget);
 *  - supernet: trains a supernet for `--supernet-minutes` (inside the wall clock), scores
 *    candidates on it until the wall clock for scoring ends, then fine-tunes the front's best
 *    `--finetune-top` for `--finetune-epochs` epochs from their inherited weights (the final stage
 *    runs after the search's wall clock: the bench ends that clock `--finetune-minutes` before
 *    `--minutes`, and reports the time the arm really took);
 *  - for each: the best mAP@0.5 as deployed within the latency budget (the supernet arm's
 *    fine-tuned numbers; its estimates are listed but do not count), trials, and wall time.
 *
 *   node -r @swc-node/register bench/search-compare.ts [--minutes 60] [--supernet-minutes 25]
 *     [--finetune-minutes 15] [--finetune-top 3] [--finetune-epochs 5] [--epochs 5]
 *     [--strategy evolution] [--profile raspberry-pi-4] [--budget-ms auto] [--images 800]
 *     [--synth-size 160] [--seed 0] [--adapt-steps N] [--sequential] [--concurrency N] [--out FILE] [--no-write]
 *
 * `--budget-ms auto` is the median predicted latency of the space's genomes on the profile, so the
 * constraint removes half of the space. The space is bench:supernet's.
 *
 * `--sequential` runs the arms one after the other instead, each with the whole machine and
 * `--concurrency` (default the cores) trials at once: the product as a user runs it (the supernet
 * arm's per-size weight sets train at once, a process each; candidates are scored and finalists
 * fine-tuned that many at a time). The default runs both at once, one trial at a time each.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildIR, genomeKey } from '@detsearch/genome';
import { getHardwareProfile, predictLatency } from '@detsearch/latency';
import { DEFAULT_SUPERNET_ADAPT_STEPS, SearchOrchestrator } from '@detsearch/orchestrator';
import type { Trial } from '@detsearch/persistence';
import { compileSearchSpace, validateSearchSpaceSpec } from '@detsearch/search-space';
import { sampleGenome } from '@detsearch/supernet';
import { synthDataset } from '@detsearch/training';
import seedrandom from 'seedrandom';
import { arg, shortGenome } from './bench-kit';

const minutes = Number(arg('minutes', '60'));
const supernetMinutes = Number(arg('supernet-minutes', String(Math.round(minutes * 0.42))));
const finetuneMinutes = Number(arg('finetune-minutes', String(Math.round(minutes * 0.25))));
const finetuneTop = Number(arg('finetune-top', '3'));
const finetuneEpochs = Number(arg('finetune-epochs', '5'));
const epochs = Number(arg('epochs', '5'));
/** The supernet arm's adaptation steps per candidate (absent: the product's default). */
const adaptSteps = process.argv.includes('--adapt-steps') ? Number(arg('adapt-steps', '0')) : undefined;
const strategy = arg('strategy', 'evolution');
const profileName = arg('profile', 'raspberry-pi-4');
const budgetArg = arg('budget-ms', 'auto');
const images = Number(arg('images', '800'));
const synthSize = Number(arg('synth-size', '160'));
const seed = Number(arg('seed', '0'));
const write = !process.argv.includes('--no-write');
const sequential = process.argv.includes('--sequential');
const concurrency = Number(arg('concurrency', String(sequential ? cpus().length : 1)));
const outFile = arg('out', join(__dirname, 'results', 'search-compare.md'));

const spec = {
  depthMultiple: { type: 'ordinal', values: [0.33, 0.67] },
  widthMultiple: { type: 'ordinal', values: [0.125, 0.1875, 0.25] },
  imageSize: { type: 'ordinal', values: [128, 160] },
  separable: { type: 'subset', layers: [4, 6, 17, 20] },
  activation: 'silu',
  quantization: 'fp32',
};

const t0 = performance.now();
const clock = () => new Date().toISOString().slice(11, 19);
const log = (msg: string) => process.stderr.write(`[bench:search-compare ${clock()}] ${msg}\n`);
const fmt = (v: number | null | undefined, d = 3) => (v == null ? '–' : v.toFixed(d));
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

/** Median predicted latency over the space's distinct genomes (sampled), ms. */
function medianLatency(): number {
  const space = compileSearchSpace(validateSearchSpaceSpec(spec));
  const profile = getHardwareProfile(profileName);
  const rng = seedrandom('budget');
  const seen = new Map<string, number>();
  for (let i = 0; i < 2000; i++) {
    const g = sampleGenome(space, rng, { numClasses: 6 });
    const key = genomeKey(g);
    if (!seen.has(key)) seen.set(key, predictLatency(buildIR(g), profile).predictedMs);
  }
  const v = [...seen.values()].sort((a, b) => a - b);
  return v[v.length >> 1]!;
}

interface ArmResult {
  name: string;
  minutes: number;
  trials: Trial[];
  status: string;
  notes: string[];
}

async function arm(
  name: string,
  home: string,
  dataYaml: string,
  dataRoot: string,
  body: Record<string, unknown>,
): Promise<ArmResult> {
  const o = await SearchOrchestrator.open({ inMemory: true, home, dataRoot, concurrency });
  const start = performance.now();
  try {
    const { id } = await o.createSearch({ ...body, dataset: dataYaml });
    log(`${name}: search ${id} started`);
    let lastLog = 0;
    const timer = setInterval(async () => {
      const s = await o.getSearch(id).catch(() => null);
      if (!s || performance.now() - lastLog < 5 * 60_000) return;
      lastLog = performance.now();
      log(`${name}: ${s.status}, ${JSON.stringify(s.progress)}`);
    }, 30_000);
    const done = await o.waitForSearch(id).finally(() => clearInterval(timer));
    const trials = (await o.listTrials(id, { limit: 10_000, sort: 'number' })).items;
    const notes: string[] = [];
    if (done.error) notes.push(done.error);
    return { name, minutes: (performance.now() - start) / 60_000, trials, status: done.status, notes };
  } finally {
    await o.close();
  }
}

function best(trials: Trial[], budgetMs: number, value: (t: Trial) => number | null): Trial | null {
  let top: Trial | null = null;
  for (const t of trials) {
    const v = value(t);
    if (v == null || t.latencyMs == null || t.latencyMs > budgetMs) continue;
    if (!top || v > value(top)!) top = t;
  }
  return top;
}

async function main() {
  const budgetMs = budgetArg === 'auto' ? medianLatency() : Number(arg('budget-ms', '0'));
  const root = mkdtempSync(join(tmpdir(), 'bench-search-compare-'));
  const loadStart = load();
  log(
    `work dir ${root}; load ${loadStart} on ${cpus().length} cores; latency budget ${budgetMs.toFixed(1)} ms on ${profileName}`,
  );
  const synth = await synthDataset(join(root, 'data'), { images, seed, size: synthSize });
  const common = {
    strategy,
    seed,
    searchSpace: spec,
    hardwareProfile: profileName,
    objectives: ['map50_95', 'latency'],
    constraints: { maxLatencyMs: budgetMs },
    fidelity: { epochs },
    warmStart: false,
  };
  // The supernet arm's scoring ends where its fine-tuning must begin to finish within `minutes`.
  const scoringClock = minutes - finetuneMinutes;
  log(
    `full: ${epochs}-epoch trials for ${minutes} min | supernet: ${supernetMinutes} min training, scoring until ` +
      `minute ${scoringClock}, then top ${finetuneTop} fine-tuned ${finetuneEpochs} epochs (~${finetuneMinutes} min)`,
  );
  const fullArm = () =>
    arm('full', join(root, 'home-full'), synth.yaml, root, {
      ...common,
      name: 'compare-full',
      evaluator: 'full',
      budget: { trials: 1000, wallClockMinutes: minutes },
    });
  const supernetArm = () =>
    arm('supernet', join(root, 'home-supernet'), synth.yaml, root, {
      ...common,
      name: 'compare-supernet',
      evaluator: 'supernet',
      supernetMinutes,
      ...(adaptSteps !== undefined ? { supernetAdaptSteps: adaptSteps } : {}),
      fineTune: { topK: finetuneTop, epochs: finetuneEpochs, seeds: 1 },
      budget: { trials: 1000, wallClockMinutes: scoringClock },
    });
  const loads: string[] = [];
  let full: ArmResult;
  let supernet: ArmResult;
  if (sequential) {
    full = await fullArm();
    loads.push(load());
    supernet = await supernetArm();
  } else [full, supernet] = await Promise.all([fullArm(), supernetArm()]);
  const loadEnd = load();

  const done = (a: ArmResult) => a.trials.filter((t) => t.status === 'completed');
  const fullBest = best(done(full), budgetMs, (t) => t.map50);
  const snTuned = done(supernet).filter((t) => t.finetunedMap50 != null);
  const snBest = best(snTuned, budgetMs, (t) => t.finetunedMap50);
  const snEstBest = best(done(supernet), budgetMs, (t) => t.estimateMap50 ?? t.map50);
  const distinct = (a: ArmResult) => new Set(done(a).map((t) => t.genomeKey)).size;

  const lines = [
    '# Supernet search vs full search at equal wall clock',
    '',
    `Run ${new Date().toISOString()}, ${cpus().length} cores, load average ${loadStart} at the start` +
      (sequential ? `, ${loads[0]} between the arms` : '') +
      ` and ${loadEnd} at the end; ` +
      (sequential
        ? `the searches ran one after the other, each on the whole machine with ${concurrency} trials at once (the supernet arm's per-size weight sets trained at once, a process each; its candidates scored and its finalists fine-tuned ${concurrency} at a time).`
        : `both searches ran at the same time, ${concurrency === 1 ? 'one trial' : `${concurrency} trials`} at a time each (the supernet arm's per-size weight sets trained at once, a process each, beside the full arm's trainings).`),
    '',
    `Command: \`npm run bench:search-compare -- ${process.argv.slice(2).join(' ')}\``.replace(' -- `', '`'),
    '',
    `Space: bench:supernet's (depth 0.33/0.67, width 0.125/0.1875/0.25, 128/160 px, separable rows 4, 6, 17, 20; silu, fp32). Data: synthetic, ${images} images of ${synthSize} px. Strategy ${strategy}, seed ${seed}. Objectives mAP@0.5:0.95 and latency on ${profileName}, constraint latency <= ${budgetMs.toFixed(1)} ms (the median of the space).`,
    '',
    '| search | wall time, min | trials completed (distinct genomes) | best mAP@0.5 within the budget, as deployed | its genome | its latency, ms |',
    '|---|---|---|---|---|---|',
    `| full (${epochs} epochs per trial) | ${fmt(full.minutes, 1)} | ${done(full).length} (${distinct(full)}) | ${fmt(fullBest?.map50)} | ${fullBest ? shortGenome(fullBest.genome) : '–'} | ${fmt(fullBest?.latencyMs, 1)} |`,
    `| supernet (${supernetMinutes} min supernet, ${adaptSteps ?? DEFAULT_SUPERNET_ADAPT_STEPS} adaptation steps per candidate, top ${finetuneTop} fine-tuned ${finetuneEpochs} epochs) | ${fmt(supernet.minutes, 1)} | ${done(supernet).length} (${distinct(supernet)}) | ${fmt(snBest?.finetunedMap50)} | ${snBest ? shortGenome(snBest.genome) : '–'} | ${fmt(snBest?.latencyMs, 1)} |`,
    '',
    `Supernet arm: best estimate within the budget ${fmt(snEstBest?.estimateMap50 ?? snEstBest?.map50)} (${snEstBest ? shortGenome(snEstBest.genome) : '–'}); the fine-tuned finalists:`,
    '',
    '| genome | latency, ms | estimate mAP@0.5 | fine-tuned mAP@0.5 |',
    '|---|---|---|---|',
    ...snTuned.map(
      (t) =>
        `| ${shortGenome(t.genome)} | ${fmt(t.latencyMs, 1)} | ${fmt(t.estimateMap50)} | ${fmt(t.finetunedMap50)} |`,
    ),
    '',
    'Full arm, completed trials by mAP@0.5:',
    '',
    '| genome | latency, ms | mAP@0.5 | within budget |',
    '|---|---|---|---|',
    ...[...done(full)]
      .sort((a, b) => (b.map50 ?? 0) - (a.map50 ?? 0))
      .map(
        (t) =>
          `| ${shortGenome(t.genome)} | ${fmt(t.latencyMs, 1)} | ${fmt(t.map50)} | ${(t.latencyMs ?? Infinity) <= budgetMs ? 'yes' : 'no'} |`,
      ),
    '',
    ...[...full.notes.map((n) => `Full arm: ${n}`), ...supernet.notes.map((n) => `Supernet arm: ${n}`)],
    '',
    `Total bench wall time ${fmt((performance.now() - t0) / 60_000, 1)} min.`,
  ];
  const md = lines.join('\n') + '\n';
  process.stdout.write(md);
  if (write) {
    writeFileSync(outFile, md);
    log(`wrote ${outFile}`);
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
