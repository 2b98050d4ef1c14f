/**
 * Weight-sharing supernet: does one trained supernet rank candidates like standalone training, and
 * how many candidates an hour does it score? Writes bench/results/supernet.md:
 *  - supernet training time; mAP@0.5 of its largest and smallest sub-networks (scored as deployed)
 *    vs the same architectures trained standalone for the same wall time, all three concurrently;
 *  - Kendall tau between supernet-estimated and standalone-trained mAP@0.5 for `--subnets` genomes
 *    spread over the space (largest and smallest included), standalone runs `--subnet-minutes` each
 *    (or `--subnet-epochs` each: a budget the machine's load does not change);
 *  - candidates scored per hour with `--parallel` scoring processes (one core each).
 *
 *   node -r @swc-node/register bench/supernet.ts [--quick] [--minutes 60] [--subnet-minutes 10] [--subnet-epochs E]
 *     [--subnets 12] [--images 800] [--synth-size 160] [--depths 0.33,0.67] [--widths 0.125,0.1875,0.25]
 *     [--sizes 128,160] [--separable 4,6,17,20] [--activation silu] [--parallel 2] [--score-extra 0]
 *     [--val 100] [--bn-images 256] [--profile x86-server] [--seed 0] [--out FILE] [--no-write]
 *     [--fresh-standalone] [--train-seeds 0,1] [--standalone-only] [--dense-smallest]
 *     [--supernet-epochs E] [--work-dir DIR] [--supernet-seed S] [--adapt-steps 0,10,50] [--adapt-lr 0.001]
 *     [--adapt-warmup 0] [--adapt-decay]
 *     [--random-subnets 1] [--depth-first 0] [--shared-sizes]
 *
 * `--supernet-epochs` trains the supernet for E epochs instead of `--minutes` (a budget the load
 * does not change; the equal-wall-time standalone extremes are then skipped). `--work-dir` keeps
 * data, supernet and scores in DIR instead of a new temporary folder: a finished supernet there of
 * the same settings is reused, so later runs score it again without retraining. `--supernet-seed`
 * trains another supernet (initialization and sampling) on the same data, genomes and ground
 * truth. `--adapt-steps 0,10,50` scores every genome once per number of adaptation steps
 * (scoreCandidate's adaptSteps, at `--adapt-lr`) and reports a tau for each.
 *
 * With `--subnet-epochs`, standalone results are kept in bench/results/supernet-standalone.json (by
 * genome, data, seed and epochs: nothing the supernet changes) and reused by later runs unless
 * `--fresh-standalone`; the results file says which rows were reused and when they were measured.
 * `--train-seeds 0,1` trains each standalone genome with both training seeds (same data): the table
 * then compares with their mean and says how well the two seeds agree with each other, the noise
 * floor of the ground truth. `--standalone-only` skips the supernet and reports just that
 * (bench/results/supernet-noise.md).
 *
 * `--quick` is the reduced configuration (about 20 minutes on an idle 2-core machine): 5 supernet
 * minutes, 12 subnets of 1.5 standalone minutes, 160 images of 128 px, sizes 96,128.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { genomeKey, type Activation, type Genome } from '@detsearch/genome';
import { kendallTau } from '@detsearch/latency';
import { compileSearchSpace, validateSearchSpaceSpec } from '@detsearch/search-space';
import {
  largestGenome,
  sampleGenome,
  scoreCandidates,
  smallestGenome,
  trainSupernet,
  type CandidateScore,
} from '@detsearch/supernet';
import { runTrial, synthDataset, type TrialRunResult as TrialResult } from '@detsearch/training';
import seedrandom from 'seedrandom';
import { arg, shortGenome } from './bench-kit';

const quick = process.argv.includes('--quick');
const num = (name: string, full: number, reduced: number) =>
  Number(arg(name, String(quick ? reduced : full)));
const list = (name: string, full: string, reduced: string) =>
  arg(name, quick ? reduced : full)
    .split(',')
    .filter(Boolean)
    .map(Number);

const minutes = num('minutes', 60, 5);
const subnetMinutes = num('subnet-minutes', 10, 1.5);
/** When given, the tau runs train this many epochs each instead of for `subnetMinutes`. */
const subnetEpochs = process.argv.includes('--subnet-epochs') ? num('subnet-epochs', 0, 0) : undefined;
const subnetCount = num('subnets', 12, 12);
const images = num('images', 800, 160);
const synthSize = num('synth-size', 160, 128);
const parallel = num('parallel', 2, 2);
const scoreExtra = num('score-extra', 0, 0);
const valImages = num('val', 100, 32);
const bnImages = num('bn-images', 256, 64);
const seed = num('seed', 0, 0);
/** The supernet's own seed (initialization, sampling), default `seed`: another supernet on the same data and genomes. */
const supernetSeed = num('supernet-seed', seed, seed);
/** Standalone training seeds (data and supernet keep `seed`): more than one measures the ground truth's own noise. */
const trainSeeds = arg('train-seeds', String(seed)).split(',').filter(Boolean).map(Number);
/** Only the standalone runs of the tau genomes, for every training seed, and the tau between seeds. */
const standaloneOnly = process.argv.includes('--standalone-only');
/** Train the supernet for this many epochs instead of `minutes` (a budget the load does not change). */
const supernetEpochs = process.argv.includes('--supernet-epochs') ? num('supernet-epochs', 0, 0) : undefined;
/**
 * The bench's working folder (default a new temporary one): data, supernet, scores. A finished
 * supernet of the same settings in WORK/supernet is reused, not retrained.
 */
const workDir = process.argv.includes('--work-dir') ? resolve(arg('work-dir', '')) : undefined;
/** Adaptation steps before scoring (scoreCandidate's adaptSteps); a list scores every genome once per value. */
const adaptList = arg('adapt-steps', '0').split(',').filter(Boolean).map(Number);
const adaptLr = Number(arg('adapt-lr', '0.001'));
/** Fraction of the adaptation steps over which their rate ramps up (scoreCandidate's adaptWarmup). */
const adaptWarmup = Number(arg('adapt-warmup', '0'));
/** The adaptation rate falls linearly to 0 after the warm-up (scoreCandidate's adaptDecay). */
const adaptDecay = process.argv.includes('--adapt-decay');
/** The sandwich's random sub-networks per step (trainSupernet's randomSubnets; BigNAS used 2). */
const randomSubnets = Number(arg('random-subnets', '1'));
/** Fraction of the sandwich stage whose random sub-networks keep full width (trainSupernet's depthFirst). */
const depthFirst = Number(arg('depth-first', '0'));
/**
 * One weight set shared by every image size (trainSupernet without perSize; the recipe before),
 * instead of the product's one set per size, each trained at its size only and scoring the genomes
 * of that size.
 */
const sharedSizes = process.argv.includes('--shared-sizes');
const activation = arg('activation', 'silu') as Activation;
const profile = arg('profile', 'x86-server');
const spec = validateSearchSpaceSpec({
  name: 'bench-supernet',
  depthMultiple: { type: 'ordinal', values: list('depths', '0.33,0.67', '0.33,0.67') },
  widthMultiple: { type: 'ordinal', values: list('widths', '0.125,0.1875,0.25', '0.125,0.1875,0.25') },
  imageSize: { type: 'ordinal', values: list('sizes', '128,160', '96,128') },
  separable: { type: 'subset', layers: list('separable', '4,6,17,20', '4,17') },
  activation,
  numClasses: 6,
});

/** Every dataset here lives in the bench's temporary folder, which is its data root. */
let dataRoot = '';
const log = (line: string) =>
  process.stderr.write(`[bench:supernet ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const fmt = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

/** Standalone training for a wall-time budget (stopped at the first epoch end past it), scored as deployed. */
function standalone(
  genome: Genome,
  dataYaml: string,
  budgetMin: number,
  outDir: string,
  epochs?: number,
  trainSeed = seed,
): Promise<TrialResult> {
  const start = performance.now();
  return runTrial(
    {
      genome,
      dataset: { dataYaml, dataRoot },
      epochs: epochs ?? 1000,
      evalEvery: epochs ?? 1000,
      hardwareProfile: profile,
      seed: trainSeed,
      outDir,
      latencyRuns: 3,
      maxValImages: valImages,
      workers: 0,
    },
    {
      onEpoch: () =>
        epochs === undefined && performance.now() - start >= budgetMin * 60_000 ? 'stop' : 'continue',
    },
  );
}

/** One standalone training's outcome, as the tables use it (and as the cache keeps it). */
interface Standalone {
  map50: number;
  epochs: number;
  /** Day it was trained (YYYY-MM-DD). */
  measured: string;
}

/** Standalone results of epoch-budget runs, by genome, data, seed and epochs. */
const STANDALONE_CACHE = 'bench/results/supernet-standalone.json';
const cachePath = () => join(__dirname, 'results', 'supernet-standalone.json');
function readStandaloneCache(): Record<string, Standalone> {
  return existsSync(cachePath())
    ? (JSON.parse(readFileSync(cachePath(), 'utf8')) as Record<string, Standalone>)
    : {};
}
function writeStandaloneCache(cache: Record<string, Standalone>): void {
  writeFileSync(cachePath(), `${JSON.stringify(cache, null, 2)}\n`);
}

/** Genomes spread over the space: largest, smallest, then seeded random ones, all distinct. */
function spreadGenomes(count: number): Genome[] {
  const space = compileSearchSpace(spec);
  const o = { activation, numClasses: 6 };
  const out = [largestGenome(space, o), smallestGenome(space, o)];
  const keys = new Set(out.map(genomeKey));
  const rng = seedrandom(`spread:${seed}`);
  for (let tries = 0; out.length < count && tries < 10_000; tries++) {
    const g = sampleGenome(space, rng, o);
    if (!keys.has(genomeKey(g))) {
      keys.add(genomeKey(g));
      out.push(g);
    }
  }
  return out;
}

/** Scores genomes on the supernet with `parallel` child processes; returns scores in order and wall seconds. */
async function scoreAll(
  genomes: Genome[],
  supernetOf: (g: Genome) => string,
  dataYaml: string,
  outDir: string,
  adaptSteps: number,
): Promise<{ scores: CandidateScore[]; seconds: number }> {
  const t0 = performance.now();
  const shards = Array.from({ length: parallel }, (_, p) => genomes.filter((_, i) => i % parallel === p));
  /** A shard's genomes, each process scoring its genomes of one supernet after another. */
  const scoreShard = async (gs: Genome[], p: number): Promise<CandidateScore[]> => {
    const out: CandidateScore[] = new Array(gs.length);
    for (const path of [...new Set(gs.map(supernetOf))]) {
      const idx = gs.flatMap((g, i) => (supernetOf(g) === path ? [i] : []));
      const scored = await scoreCandidates({
        supernetPath: path,
        genomes: idx.map((i) => gs[i]!),
        dataset: { dataYaml, dataRoot },
        hardwareProfile: profile,
        outDir: join(outDir, `shard${p}`),
        bnImages,
        maxValImages: valImages,
        latencyRuns: 5,
        adaptSteps,
        adaptLr,
        adaptWarmup,
        adaptDecay,
      });
      idx.forEach((i, k) => (out[i] = scored[k]!));
    }
    return out;
  };
  const results = await Promise.all(
    shards.map((gs, p) => (gs.length === 0 ? Promise.resolve([]) : scoreShard(gs, p))),
  );
  const scores = genomes.map((_, i) => results[i % parallel]![Math.floor(i / parallel)]!);
  return { scores, seconds: (performance.now() - t0) / 1000 };
}

/** Mean seconds per candidate for each image size, e.g. "96 px 7.1 s (5), 128 px 9.0 s (7)". */
function perSize(scores: CandidateScore[], genomes: Genome[]): string {
  const by = new Map<number, number[]>();
  genomes.forEach((g, i) => by.set(g.imageSize, [...(by.get(g.imageSize) ?? []), scores[i]!.seconds]));
  return [...by]
    .sort((a, b) => a[0] - b[0])
    .map(([size, s]) => `${size} px ${fmt(s.reduce((a, b) => a + b, 0) / s.length, 1)} s (${s.length})`)
    .join(', ');
}

/** How the standalone numbers were made (and which came from the cache). */
function standaloneNote(reused: number, trained: Standalone[], seeds: number): string {
  const each = subnetEpochs
    ? `Standalone: ${subnetEpochs} epochs each (a full schedule of that length), ${parallel} at a time`
    : `Standalone: ${subnetMinutes} min each (stopped at the first epoch end past it), ${parallel} at a time`;
  const seedText = seeds > 1 ? `, training seeds ${trainSeeds.join(', ')} (same data)` : '';
  const cached = reused
    ? `; ${reused} of the ${trained.length * seeds} runs measured earlier with the same genomes, data, seeds and epochs` +
      ` (${[...new Set(trained.flatMap((t) => t.measured.split(', ')))].filter(Boolean).join(', ')}; \`${STANDALONE_CACHE}\`,` +
      ' `--fresh-standalone` retrains them).'
    : '.';
  return each + seedText + cached;
}

/** The ground truth's own noise: how two training seeds of the same genomes rank them. */
function seedNote(
  perSeed: Standalone[][],
  seedTau: number[],
  estimates: { label: string; values: number[] }[] = [],
): string {
  const parts = [
    `Kendall tau between training seeds of the same standalone runs: ${seedPairs(perSeed.length)
      .map(([a, b], k) => `seeds ${trainSeeds[a]}-${trainSeeds[b]} ${fmt(seedTau[k]!)}`)
      .join(', ')}` +
      ` (mean ${fmt(seedTau.reduce((a, b) => a + b, 0) / Math.max(seedTau.length, 1))}; the ranking the ground truth` +
      ' itself reproduces; no estimate can be expected to agree with one seed better).',
  ];
  for (const e of estimates)
    parts.push(
      `Supernet estimate (${e.label}) against each seed alone: ${perSeed
        .map(
          (runs, k) =>
            `seed ${trainSeeds[k]} ${fmt(
              kendallTau(
                e.values,
                runs.map((t) => t.map50),
              ),
            )}`,
        )
        .join(', ')}.`,
    );
  if (estimates.length) parts.push('Against the mean of the seeds: the heading.');
  return parts.join(' ');
}

/**
 * How far a mean over half the seeds reproduces the other half's mean: the reliability of a
 * ground truth averaged over that many seeds (every split into two equal halves, the mean tau).
 */
function splitHalfNote(perSeed: Standalone[][]): string {
  const n = perSeed.length;
  const half = Math.floor(n / 2);
  const mean = (idx: number[]) =>
    perSeed[0]!.map((_, i) => idx.reduce((a, k) => a + perSeed[k]![i]!.map50, 0) / idx.length);
  const taus: number[] = [];
  // Each split once: halves that contain seed index 0.
  for (let mask = 0; mask < 1 << n; mask++) {
    const a = [...Array(n).keys()].filter((k) => mask & (1 << k));
    if (a.length !== half || !a.includes(0)) continue;
    const b = [...Array(n).keys()].filter((k) => !(mask & (1 << k))).slice(0, half);
    taus.push(kendallTau(mean(a), mean(b)));
  }
  return (
    `Split halves: the mean of ${half} seeds against the mean of ${half} others ranks at Kendall tau` +
    ` ${taus.map((t) => fmt(t)).join(', ')} (mean ${fmt(taus.reduce((x, y) => x + y, 0) / taus.length)}):` +
    ` how well a ${half}-seed ground truth reproduces itself.`
  );
}

/** Index pairs (a < b) of n training seeds, in the order seedPairTaus reports them. */
function seedPairs(n: number): [number, number][] {
  const out: [number, number][] = [];
  for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) out.push([a, b]);
  return out;
}

/** Kendall tau between every pair of training seeds' standalone mAP@0.5 (the ground truth's own noise). */
function seedPairTaus(perSeed: Standalone[][]): number[] {
  return seedPairs(perSeed.length).map(([a, b]) =>
    kendallTau(
      perSeed[a]!.map((t) => t.map50),
      perSeed[b]!.map((t) => t.map50),
    ),
  );
}

/**
 * Standalone training of `genomes` for every training seed, `parallel` at a time. An epoch budget
 * does not depend on the supernet or the machine's load, so those results are kept and reused.
 * `trained` holds the mean over seeds.
 */
async function standaloneRuns(genomes: Genome[], dataYaml: string, root: string) {
  const budget = subnetEpochs ? `${subnetEpochs} epochs` : `${subnetMinutes} min`;
  const cache = subnetEpochs ? readStandaloneCache() : {};
  const cacheKey = (g: Genome, s: number) =>
    `${genomeKey(g)}|images ${images}|px ${synthSize}|seed ${seed}|val ${valImages}|epochs ${subnetEpochs}` +
    (s === seed ? '' : `|train-seed ${s}`);
  const jobs = trainSeeds.flatMap((s) => genomes.map((g, i) => ({ s, g, i })));
  const results = new Map<string, Standalone>();
  const jobKey = (s: number, i: number) => `${s}:${i}`;
  for (const j of jobs) {
    const hit = process.argv.includes('--fresh-standalone') ? undefined : cache[cacheKey(j.g, j.s)];
    if (hit) results.set(jobKey(j.s, j.i), hit);
  }
  const reusedStandalone = results.size;
  log(
    `standalone training of ${jobs.length - reusedStandalone} runs (${genomes.length} genomes x seeds ` +
      `${trainSeeds.join(',')}), ${budget} each, ${parallel} at a time` +
      (reusedStandalone ? ` (${reusedStandalone} from ${STANDALONE_CACHE})` : ''),
  );
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < jobs.length) {
        const { s, g, i } = jobs[next++]!;
        if (results.has(jobKey(s, i))) continue;
        const r = await standalone(
          g,
          dataYaml,
          subnetMinutes,
          join(root, `standalone-${s}-${i}`),
          subnetEpochs,
          s,
        );
        const one = {
          map50: r.map50,
          epochs: r.epochs.length,
          measured: new Date().toISOString().slice(0, 10),
        };
        results.set(jobKey(s, i), one);
        if (subnetEpochs) {
          cache[cacheKey(g, s)] = one;
          writeStandaloneCache(cache);
        }
        log(`standalone seed ${s} genome ${i + 1}/${genomes.length}: mAP@0.5 ${fmt(one.map50)}`);
      }
    }),
  );
  const perSeed = trainSeeds.map((s) => genomes.map((_, i) => results.get(jobKey(s, i))!));
  const trained: Standalone[] = genomes.map((_, i) => ({
    map50: perSeed.reduce((a, runs) => a + runs[i]!.map50, 0) / perSeed.length,
    epochs: perSeed[0]![i]!.epochs,
    measured: [...new Set(perSeed.map((runs) => runs[i]!.measured))].join(', '),
  }));
  return { trained, perSeed, reusedStandalone, seedTau: seedPairTaus(perSeed) };
}

/** `--standalone-only`: the tau genomes trained standalone for every training seed, and how the seeds agree. */
async function standaloneReport(
  dataYaml: string,
  root: string,
  load0: number[],
  tStart: number,
  synth: { train: number; val: number },
): Promise<void> {
  const genomes = spreadGenomes(subnetCount);
  const { perSeed, reusedStandalone, seedTau, trained } = await standaloneRuns(genomes, dataYaml, root);
  const md = [
    '# Standalone ground truth: how much training seeds agree',
    '',
    `Run ${new Date().toISOString()}, ${cpus().length} cores, load average ${load0.map((l) => l.toFixed(1)).join(' ')} at the start` +
      ` and ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} at the end (epoch budgets: the load changes the time, not the numbers).`,
    '',
    `Command: \`npm run bench:supernet -- ${process.argv.slice(2).join(' ')}\``,
    '',
    `The ${genomes.length} genomes of the rank-fidelity table of \`bench/results/supernet.md\` (same space, data and selection);` +
      ` data: synthetic, ${images} images of ${synthSize} px (${synth.train} train, ${synth.val} val; ${Math.min(valImages, synth.val)} scored).`,
    '',
    standaloneNote(reusedStandalone, trained, perSeed.length),
    '',
    perSeed.length > 1
      ? seedNote(perSeed, seedTau)
      : 'One training seed: nothing to compare (`--train-seeds 0,1`).',
    ...(perSeed.length >= 4 ? ['', splitHalfNote(perSeed)] : []),
    '',
    `| # | genome | ${trainSeeds.map((s) => `seed ${s} mAP@0.5`).join(' | ')} | mean |`,
    `|---|---|${trainSeeds.map(() => '---|').join('')}---|`,
    ...genomes.map(
      (g, i) =>
        `| ${i} | ${shortGenome(g)} | ${perSeed.map((r) => fmt(r[i]!.map50)).join(' | ')} | ${fmt(trained[i]!.map50)} |`,
    ),
    '',
    `Total bench wall time ${fmt((performance.now() - tStart) / 60_000, 1)} min.`,
    '',
  ].join('\n');
  process.stdout.write(md);
  if (!process.argv.includes('--no-write')) {
    const out = arg('out', join(__dirname, 'results', 'supernet-noise.md'));
    writeFileSync(out, md);
    log(`wrote ${out}`);
  }
}

async function main(): Promise<void> {
  const root = workDir ?? mkdtempSync(join(tmpdir(), 'bench-supernet-'));
  mkdirSync(root, { recursive: true });
  dataRoot = root;
  const load0 = loadavg();
  const tStart = performance.now();
  log(`work dir ${root}; load ${load0.map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} cores`);
  const synth = await synthDataset(join(root, 'data'), { images, seed, size: synthSize });
  const dataYaml = synth.yaml;
  const space = compileSearchSpace(spec);
  const largest = largestGenome(space, { activation, numClasses: 6 });
  const smallest = smallestGenome(space, { activation, numClasses: 6 });
  if (standaloneOnly) return standaloneReport(dataYaml, root, load0, tStart, synth);

  // 1. Supernet and the two standalone extremes, concurrently, for the same wall time (with an
  // epoch budget for the supernet, the extremes are not trained: there is no wall time to match).
  log(
    supernetEpochs
      ? `training the supernet for ${supernetEpochs} epochs`
      : `training the supernet and standalone largest/smallest for ${minutes} min each, concurrently`,
  );
  const t1 = performance.now();
  let lastLog = 0;
  const [sn, sLargest, sSmallest] = await Promise.all([
    trainSupernet({
      space: spec,
      activation,
      dataset: { dataYaml, dataRoot },
      outDir: join(root, sharedSizes ? 'supernet' : 'supernet-per-size'),
      ...(supernetEpochs ? { epochs: supernetEpochs } : { minutes }),
      seed: supernetSeed,
      maxValImages: valImages,
      perSize: !sharedSizes,
      ...(process.argv.includes('--dense-smallest') ? { separableSmallest: false } : {}),
      ...(randomSubnets !== 1 ? { randomSubnets } : {}),
      ...(depthFirst ? { depthFirst } : {}),
      onProgress: (p) => {
        if (performance.now() - lastLog > 60_000) {
          lastLog = performance.now();
          log(`supernet epoch ${p.epoch} step ${p.step}/${p.stepsPerEpoch} loss ${fmt(p.loss)} ${p.phase}`);
        }
      },
    }),
    supernetEpochs ? undefined : standalone(largest, dataYaml, minutes, join(root, 'standalone-largest')),
    supernetEpochs ? undefined : standalone(smallest, dataYaml, minutes, join(root, 'standalone-smallest')),
  ]);
  const supernetOf = () => sn.weightsPath;
  const phase1 = (performance.now() - t1) / 1000;
  log(`supernet: ${sn.epochs.toFixed(2)} epochs, ${fmt(sn.minutes, 1)} min, ${sn.metrics.steps} steps`);

  // 2. Supernet estimates for genomes spread over the space (and extra candidates for throughput).
  const genomes = spreadGenomes(subnetCount);
  const extra = spreadGenomes(subnetCount + scoreExtra).slice(subnetCount);
  /** One scoring pass of every genome per adaptation setting. */
  const passes: {
    steps: number;
    scores: CandidateScore[];
    estimates: CandidateScore[];
    seconds: number;
    perHour: number;
    meanSeconds: number;
    meanPhase: (k: keyof NonNullable<CandidateScore['phaseSeconds']>) => number;
  }[] = [];
  for (const steps of adaptList) {
    log(
      `scoring ${genomes.length + extra.length} candidates on the supernet with ${parallel} processes` +
        (steps ? `, ${steps} adaptation steps each (lr ${adaptLr})` : ''),
    );
    const scored = await scoreAll(
      [...genomes, ...extra],
      supernetOf,
      dataYaml,
      join(root, `scores-adapt${steps}`),
      steps,
    );
    const n = scored.scores.length;
    const pass = {
      steps,
      scores: scored.scores,
      estimates: scored.scores.slice(0, genomes.length),
      seconds: scored.seconds,
      perHour: (n / scored.seconds) * 3600,
      meanSeconds: scored.scores.reduce((a, c) => a + c.seconds, 0) / n,
      meanPhase: (k: keyof NonNullable<CandidateScore['phaseSeconds']>) =>
        scored.scores.reduce((a, c) => a + (c.phaseSeconds?.[k] ?? 0), 0) / n,
    };
    passes.push(pass);
    log(
      `scored ${n} in ${fmt(pass.seconds, 1)} s: ${fmt(pass.perHour, 0)} candidates/h; per candidate ` +
        `${fmt(pass.meanSeconds, 1)} s (adapt ${fmt(pass.meanPhase('adapt'), 1)}, recalibrate ${fmt(pass.meanPhase('recalibrate'), 1)}, ` +
        `export ${fmt(pass.meanPhase('export'), 1)}, score ${fmt(pass.meanPhase('score'), 1)}, latency ${fmt(pass.meanPhase('latency'), 1)})`,
    );
  }

  // 3. Standalone training of the same genomes, for each training seed.
  const { trained, perSeed, reusedStandalone, seedTau } = await standaloneRuns(genomes, dataYaml, root);
  const taus = passes.map((p) =>
    kendallTau(
      p.estimates.map((e) => e.map50),
      trained.map((t) => t.map50),
    ),
  );
  const passLabel = (steps: number) => (steps ? `${steps} adaptation steps` : 'as sliced');
  // The extremes are reported as sliced when that pass ran (what the supernet itself knows).
  const estimates = (passes.find((p) => p.steps === 0) ?? passes[0]!).estimates;
  const load1 = loadavg();
  const totalMin = (performance.now() - tStart) / 60_000;

  const row = (name: string, g: Genome, est: CandidateScore[], alone: Standalone, each: Standalone[] = []) =>
    `| ${name} | ${shortGenome(g)} | ${est.map((e) => fmt(e.map50)).join(' | ')} | ${fmt(alone.map50)}${each.length ? ` (${each.map((t) => fmt(t.map50)).join(', ')})` : ''} | ${alone.epochs} |`;
  const variant = [
    process.argv.includes('--dense-smallest')
      ? 'the smallest dense (`--dense-smallest`, the recipe before)'
      : '',
    randomSubnets !== 1 ? `\`--random-subnets ${randomSubnets}\`` : '',
    depthFirst
      ? `random sub-networks at full width for the first ${depthFirst} of the sandwich stage (\`--depth-first\`)`
      : '',
    sharedSizes
      ? 'one weight set shared by every image size (`--shared-sizes`, the recipe before)'
      : `one weight set per image size (${sn.metrics.imageSizes.join(', ')} px), each trained at its size only, concurrently, and scoring the genomes of that size (the time is the longest size's, epochs the fewest, steps the sum)`,
  ].filter(Boolean);
  const recipe =
    'the largest network alone for the first quarter of training, then the sandwich rule, largest, smallest and ' +
    `${randomSubnets === 1 ? 'one random sub-network' : `${randomSubnets} random sub-networks`} per step, ` +
    (variant.length
      ? `${variant.join('; ')}, without distillation`
      : 'the smallest with every separable row substituted; the default recipe, without distillation');
  const summary = (r: TrialResult): Standalone => ({ map50: r.map50, epochs: r.epochs.length, measured: '' });
  const md = [
    '# Supernet benchmark',
    '',
    `Run ${new Date().toISOString()}, ${quick ? 'reduced (--quick)' : 'full'} configuration, ${cpus().length} cores,` +
      ` load average ${load0.map((l) => l.toFixed(1)).join(' ')} at the start and ${load1.map((l) => l.toFixed(1)).join(' ')} at the end` +
      ' (the machine was shared; absolute times scale with the load).',
    '',
    `Command: \`npm run bench:supernet -- ${process.argv.slice(2).join(' ')}\``,
    '',
    `Space: depth ${JSON.stringify(spec.depthMultiple)}, width ${JSON.stringify(spec.widthMultiple)}, image size ${JSON.stringify(spec.imageSize)},` +
      ` separable ${JSON.stringify(spec.separable)}, activation ${activation} (one supernet per activation), fp32.` +
      ` Data: synthetic, ${images} images of ${synthSize} px (${synth.train} train, ${synth.val} val; ${Math.min(valImages, synth.val)} scored).`,
    '',
    ...(sLargest && sSmallest
      ? [
          '## Supernet vs standalone at equal wall time',
          '',
          `Supernet trained ${fmt(sn.minutes, 1)} min (${sn.epochs.toFixed(2)} epochs, ${sn.metrics.steps} steps: ${recipe}); the two` +
            ' standalone runs trained' +
            ` concurrently with it for the same ${minutes} min (phase wall time ${fmt(phase1 / 60, 1)} min).` +
            ' All mAP@0.5 are of the exported fp32 ONNX through onnxruntime on the same val images; supernet' +
            ` sub-networks after BatchNorm recalibration on ${bnImages} training images.`,
          '',
          '| network | genome | supernet mAP@0.5 | standalone mAP@0.5 | standalone epochs |',
          '|---|---|---|---|---|',
          row('largest', largest, [estimates[0]!], summary(sLargest)),
          row('smallest', smallest, [estimates[1]!], summary(sSmallest)),
        ]
      : [
          '## Supernet',
          '',
          `Supernet trained ${sn.epochs.toFixed(2)} epochs (an epoch budget, \`--supernet-epochs\`; ${sn.metrics.steps} steps,` +
            ` ${fmt(sn.minutes, 1)} min: ${recipe}). With an epoch budget there is no wall time to match, so no standalone` +
            ' extremes were trained; the largest and smallest are rows 0 and 1 below. All mAP@0.5 are of the exported' +
            ' fp32 ONNX through onnxruntime on the same val images; supernet sub-networks after BatchNorm' +
            ` recalibration on ${bnImages} training images.`,
        ]),
    '',
    `## Rank fidelity: Kendall tau = ${passes.map((p, k) => `${fmt(taus[k]!)} (${passLabel(p.steps)})`).join(', ')} over ${genomes.length} genomes (target >= 0.7)`,
    '',
    ...(Math.max(...trained.map((t) => t.map50), ...estimates.map((e) => e.map50)) < 0.05
      ? [
          '**Every mAP@0.5 here is below 0.05: the networks have barely started to learn, the ranking is' +
            ' of noise and this tau says nothing about rank fidelity.** Run the full configuration.',
          '',
        ]
      : []),
    ...(passes.some((p) => p.steps > 0)
      ? [
          `Adaptation: each candidate trained that many steps (8 training images each, AdamW at lr ${adaptLr}${adaptWarmup ? `, ramped up over the first ${adaptWarmup} of the steps` : ''}${adaptDecay ? ', then down to 0 by the last' : ''}) from` +
            ' its inherited weights before BatchNorm recalibration and scoring; the same images for every candidate.',
          '',
        ]
      : []),
    standaloneNote(reusedStandalone, trained, perSeed.length),
    '',
    ...(perSeed.length > 1
      ? [
          seedNote(
            perSeed,
            seedTau,
            passes.map((p) => ({ label: passLabel(p.steps), values: p.estimates.map((e) => e.map50) })),
          ),
          '',
        ]
      : []),
    `| # | genome | ${passes.map((p) => `supernet estimate mAP@0.5 (${passLabel(p.steps)})`).join(' | ')} | standalone mAP@0.5${perSeed.length > 1 ? ` (mean of seeds ${trainSeeds.join(', ')}; each)` : ''} | standalone epochs |`,
    `|---|---|${passes.map(() => '---|').join('')}---|---|`,
    ...genomes.map((g, i) =>
      row(
        String(i),
        g,
        passes.map((p) => p.estimates[i]!),
        trained[i]!,
        perSeed.length > 1 ? perSeed.map((r) => r[i]!) : [],
      ),
    ),
    '',
    `## Throughput: ${passes.map((p) => `${p.perHour.toFixed(0)} candidates per hour (${passLabel(p.steps)})`).join(', ')} with ${parallel} processes (target >= 300)`,
    '',
    ...passes.map(
      (p) =>
        `${passLabel(p.steps)}: ${p.scores.length} candidates in ${fmt(p.seconds, 1)} s wall; ${fmt(p.meanSeconds, 1)} s per candidate in its` +
        ` process (extract,${p.steps ? ` ${fmt(p.meanPhase('adapt'), 1)} s of adaptation,` : ''} BN recalibration, ONNX export, onnxruntime mAP on the val images, 5 timed latency runs),` +
        ` at the genomes' own sizes: ${perSize(p.scores, [...genomes, ...extra])}.\n`,
    ),
    `Total bench wall time ${fmt(totalMin, 1)} min.`,
    '',
  ].join('\n');
  process.stdout.write(md);
  if (!process.argv.includes('--no-write')) {
    const out = arg('out', join(__dirname, 'results', 'supernet.md'));
    mkdirSync(join(out, '..'), { recursive: true });
    writeFileSync(out, md);
    log(`wrote ${out}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
