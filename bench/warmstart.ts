/*
 * Warm starts: a search for a second hardware profile on the same data and fidelity, started from
 * a first search's evaluations (warm) or from zero (cold). Hypervolume for the second profile
 * after k new trainings, against the first search's trials re-scored for that profile. Real
 * orchestrator and persistence (embedded PGlite, one fresh database per seed), surrogate evaluator
 * (the comparison is about how many trainings each needs, not about training itself).
 *
 *   node -r @swc-node/register bench/warmstart.ts [--seeds 3] [--first 60] [--second 30]
 *        [--strategy evolution] [--from raspberry-pi-4] [--to jetson-orin-nano] [--no-write]
 *
 * Prints a markdown table and writes bench/results/warmstart.md.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { buildIR } from '@detsearch/genome';
import { getHardwareProfile, predictLatency } from '@detsearch/latency';
import { SearchOrchestrator, SurrogateEvaluator } from '@detsearch/orchestrator';
import type { Trial } from '@detsearch/persistence';
import { hypervolume } from '@detsearch/strategies';
import { arg } from './bench-kit';

const seeds = Number(arg('seeds', '3'));
const firstBudget = Number(arg('first', '60'));
const secondBudget = Number(arg('second', '30'));
const strategy = arg('strategy', 'evolution');
const from = arg('from', 'raspberry-pi-4');
const to = arg('to', 'jetson-orin-nano');
const marks = [0, 5, 10, 20, secondBudget].filter((k, i, a) => k <= secondBudget && a.indexOf(k) === i);

const base = {
  evaluator: 'surrogate',
  objectives: ['map50_95', 'latency'],
  searchSpace: {
    imageSize: 320,
    quantization: { type: 'categorical', choices: ['fp32', 'int8-static-per-channel'] },
  },
  fidelity: { epochs: 3 },
};

interface Point {
  map50_95: number;
  latencyMs: number;
}

/** Normalized hypervolume of (maximize mAP, minimize latency) against (0, ref). */
const hv = (points: Point[], ref: number): number =>
  hypervolume(
    points.map((p) => [-p.map50_95, p.latencyMs]),
    [0, ref],
  ) / ref;

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function run(seed: number) {
  const o = await SearchOrchestrator.open({
    inMemory: true,
    concurrency: 4,
    evaluators: { surrogate: new SurrogateEvaluator({ msPerTrial: 0 }) },
  });
  const trials = async (id: string): Promise<Trial[]> =>
    (await o.listTrials(id, { limit: 10_000, sort: 'number' })).items;
  try {
    const launch = async (body: Record<string, unknown>) => {
      const { id } = await o.createSearch({ ...base, ...body });
      const done = await o.waitForSearch(id);
      if (done.status !== 'completed') throw new Error(`search ${id} ended ${done.status}`);
      return trials(id);
    };
    const first = await launch({
      strategy: 'nsga2',
      budget: { trials: firstBudget },
      seed,
      hardwareProfile: from,
    });
    const second = { strategy, budget: { trials: secondBudget }, seed: seed + 1000, hardwareProfile: to };
    const warm = await launch(second);
    const cold = await launch({ ...second, warmStart: false });
    const profile = getHardwareProfile(to);
    const rescored = first.map((t) => ({
      map50_95: t.map50_95!,
      latencyMs: predictLatency(buildIR(t.genome), profile).predictedMs,
    }));
    const done = (ts: Trial[]) => ts.filter((t) => t.status === 'completed') as (Trial & Point)[];
    const ref = 1.1 * Math.max(...[...rescored, ...done(warm), ...done(cold)].map((p) => p.latencyMs));
    const reused = warm.filter((t) => t.reused);
    const own = (ts: Trial[]) => ts.filter((t) => !t.reused);
    const after = (ts: Trial[], k: number) => done([...ts.filter((t) => t.reused), ...own(ts).slice(0, k)]);
    return {
      rescored: hv(rescored, ref),
      reused: reused.length,
      warm: marks.map((k) => hv(after(warm, k), ref)),
      cold: marks.map((k) => hv(after(cold, k), ref)),
      // How many new trainings the cold search needs to reach the warm search's starting point.
      coldToReach: (() => {
        const target = hv(after(warm, 0), ref);
        for (let k = 1; k <= own(cold).length; k++) if (hv(after(cold, k), ref) >= target - 1e-12) return k;
        return null;
      })(),
    };
  } finally {
    await o.close();
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const load = loadavg()[0]!;
  const results: Awaited<ReturnType<typeof run>>[] = [];
  for (let seed = 0; seed < seeds; seed++) {
    results.push(await run(seed));
    process.stderr.write('.');
  }
  process.stderr.write('\n');
  const f = (v: number) => v.toFixed(4);
  const lines = [
    '# Warm starts (`bench/warmstart.ts`)',
    '',
    `A first search for \`${from}\` (nsga2, ${firstBudget} trials), then a second for \`${to}\` (${strategy}, ` +
      `${secondBudget} trials) on the same data and fidelity: warm (the default: the first search's evaluations ` +
      'reused, their latency predicted for the new profile) or cold (`warmStart: false`). Surrogate evaluator, ' +
      `embedded database, seeds 0..${seeds - 1} (medians). Hypervolume for \`${to}\`: (maximize mAP@0.5:0.95, ` +
      'minimize latency) against mAP 0 and 1.1x the slowest latency of the seed, divided by that latency.',
    '',
    `First search re-scored for \`${to}\`: hypervolume ${f(median(results.map((r) => r.rescored)))}; ` +
      `reused trials per warm search: ${median(results.map((r) => r.reused))}.`,
    '',
    `| new trainings | ${marks.join(' | ')} |`,
    `|---|${marks.map(() => '---:').join('|')}|`,
    `| warm | ${marks.map((_, i) => f(median(results.map((r) => r.warm[i]!)))).join(' | ')} |`,
    `| cold | ${marks.map((_, i) => f(median(results.map((r) => r.cold[i]!)))).join(' | ')} |`,
    '',
    `Cold trainings needed to reach the warm search's starting hypervolume, per seed: ` +
      `${results.map((r) => r.coldToReach ?? `not within ${secondBudget}`).join(', ')}.`,
    '',
    `Command: \`node -r @swc-node/register bench/warmstart.ts --seeds ${seeds} --first ${firstBudget} ` +
      `--second ${secondBudget} --strategy ${strategy}\`; node ${process.version}, load average ${load.toFixed(1)} ` +
      `at the start, ${((performance.now() - started) / 1000).toFixed(0)} s.`,
  ];
  const text = lines.join('\n');
  console.log(text);
  if (!process.argv.includes('--no-write'))
    writeFileSync(join(__dirname, 'results', 'warmstart.md'), `${text}\n`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
