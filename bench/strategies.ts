/*
 * Strategy benchmark: every strategy on every standard problem at fixed budgets over several seeds.
 * Prints a markdown table (median and min-max over seeds) plus the bayes ask time at 200 trials.
 *
 *   node -r @swc-node/register bench/strategies.ts [--seeds 10] [--bayes-seeds N] [--scale 1]
 *        [--only zdt1,branin] [--strategies bayes,nsga2] [--jobs 2]
 *
 * Environment equivalents: BENCH_SEEDS, BENCH_BAYES_SEEDS (seeds for bayes on the multi-objective
 * problems, its most expensive rows; default the same), BENCH_SCALE (multiplies every budget, for a
 * quick run), BENCH_ONLY, BENCH_STRATEGIES, BENCH_JOBS (worker processes; results do not depend on it, only wall time).
 */
import { fork } from 'node:child_process';
import { createStrategy, type StrategyName } from '../libs/domain/src';
import {
  getProblem,
  PROBLEM_NAMES,
  Rng,
  runBenchmark,
  trueHypervolume,
  type BenchmarkResult,
  type TrialRecord,
} from '../libs/strategies/src';

interface Case {
  problem: string;
  strategy: StrategyName;
  evals: number;
  seeds: number;
}

const MULTI = ['zdt1', 'zdt2', 'zdt3', 'dtlz2'];

/** Budgets: the evolutionary strategies get 10,000 evaluations on the multi-objective problems;
 *  bayes gets 200 there (its cost grows with the trial count), and random is also shown at 200
 *  as bayes' baseline. Single-objective problems use the budgets of the targets for everyone. */
function cases(scale: number, only: string[] | null, seeds: number, bayesSeeds: number): Case[] {
  const out: Case[] = [];
  const n = (evals: number): number => Math.max(10, Math.round(evals * scale));
  for (const problem of PROBLEM_NAMES) {
    if (only && !only.includes(problem)) continue;
    if (MULTI.includes(problem)) {
      for (const strategy of ['random', 'evolution', 'nsga2'] as const) {
        out.push({ problem, strategy, evals: n(10_000), seeds });
      }
      for (const strategy of ['random', 'evolution', 'bayes'] as const) {
        out.push({ problem, strategy, evals: n(200), seeds: strategy === 'bayes' ? bayesSeeds : seeds });
      }
    } else {
      const evals = problem === 'branin' ? 40 : 100;
      for (const strategy of ['random', 'evolution', 'nsga2', 'bayes'] as const) {
        out.push({ problem, strategy, evals: n(evals), seeds });
      }
    }
  }
  return out;
}

function arg(name: string, env: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : process.env[env];
}

interface Job {
  c: Case;
  seed: number;
}

/** Runs jobs in `jobs` forked copies of this script (or inline for 1), results in job order. */
async function runAll(list: Job[], jobs: number): Promise<BenchmarkResult[]> {
  const results = new Array<BenchmarkResult>(list.length);
  if (jobs <= 1) {
    list.forEach((j, i) => {
      results[i] = runBenchmark({
        strategy: createStrategy(j.c.strategy),
        problem: j.c.problem,
        evals: j.c.evals,
        seed: j.seed,
      });
      process.stderr.write('.');
    });
    return results;
  }
  let next = 0;
  // Longest jobs first keeps the workers evenly busy.
  const order = list.map((_, i) => i).sort((a, b) => cost(list[b].c) - cost(list[a].c));
  await Promise.all(
    Array.from({ length: jobs }, async () => {
      const child = fork(__filename, ['--worker'], { execArgv: process.execArgv });
      for (;;) {
        const k = next++;
        if (k >= order.length) break;
        const i = order[k];
        results[i] = await new Promise<BenchmarkResult>((resolve) => {
          child.once('message', (m) => resolve(m as BenchmarkResult));
          child.send(list[i]);
        });
        process.stderr.write('.');
      }
      child.kill();
    }),
  );
  return results;
}

function cost(c: Case): number {
  return c.strategy === 'bayes' ? c.evals * c.evals : c.evals;
}

function worker(): void {
  process.on('message', (j: Job) => {
    process.send!(
      runBenchmark({
        strategy: createStrategy(j.c.strategy),
        problem: j.c.problem,
        evals: j.c.evals,
        seed: j.seed,
      }),
    );
  });
}

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Median wall and CPU time of single bayes asks with 200 completed trials in the history. */
function bayesAskTime(problem: string, repeats: number): { wallMs: number; cpuMs: number } {
  const p = getProblem(problem);
  const rng = new Rng(`ask-time|${problem}`);
  const strategy = createStrategy('random');
  const history: TrialRecord[] = [];
  for (const params of strategy.ask({ space: p.space, history, seed: 0, objectives: p.objectives }, 200)) {
    history.push({ params, values: p.evaluate(params), status: 'completed' });
  }
  const bayes = createStrategy('bayes');
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    const c = process.cpuUsage();
    bayes.ask({ space: p.space, history, seed: `${rng.uniform()}`, objectives: p.objectives }, 1);
    const u = process.cpuUsage(c);
    walls.push(performance.now() - t);
    cpus.push((u.user + u.system) / 1000);
  }
  const med = (v: number[]): number =>
    quantile(
      v.sort((a, b) => a - b),
      0.5,
    );
  return { wallMs: med(walls), cpuMs: med(cpus) };
}

const fmt = (v: number): string => (Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4));

async function main(): Promise<void> {
  const seeds = Number(arg('seeds', 'BENCH_SEEDS') ?? 10);
  const bayesSeeds = Number(arg('bayes-seeds', 'BENCH_BAYES_SEEDS') ?? seeds);
  const scale = Number(arg('scale', 'BENCH_SCALE') ?? 1);
  const jobs = Number(arg('jobs', 'BENCH_JOBS') ?? 1);
  const onlyArg = arg('only', 'BENCH_ONLY');
  const only = onlyArg ? onlyArg.split(',') : null;
  const strategiesArg = arg('strategies', 'BENCH_STRATEGIES');
  const list = cases(scale, only, seeds, bayesSeeds).filter(
    (c) => !strategiesArg || strategiesArg.split(',').includes(c.strategy),
  );
  const started = performance.now();
  const flat: Job[] = list.flatMap((c) => Array.from({ length: c.seeds }, (_, seed) => ({ c, seed })));
  const results = await runAll(flat, jobs);
  process.stderr.write('\n');

  const lines: string[] = [];
  lines.push(`# Strategy benchmark`);
  lines.push('');
  lines.push(
    `Seeds 0..n-1 per row (n in the table), budgets x${scale}, ${jobs} worker process(es), node ${process.version}. ` +
      '`hypervolume`: of all evaluated points against (1, 1), higher is better; `best`: lowest value found. ' +
      'Median [min, max] over seeds; wall time is the median per run.',
  );
  lines.push('');
  lines.push(
    '| problem | metric | optimum / true front | strategy | evals | seeds | median | [min, max] | IQR | wall s |',
  );
  lines.push('|---|---|---|---|---:|---:|---:|---|---:|---:|');
  let offset = 0;
  list.forEach((c) => {
    const rs = results.slice(offset, offset + c.seeds);
    offset += c.seeds;
    const problem = getProblem(c.problem);
    const multi = problem.objectives > 1;
    const values = rs.map((r) => (multi ? r.hypervolume! : r.best!)).sort((a, b) => a - b);
    const walls = rs.map((r) => r.wallMs / 1000).sort((a, b) => a - b);
    const reference = multi ? fmt(trueHypervolume(problem)!) : fmt(problem.optimum!);
    lines.push(
      `| ${c.problem} | ${multi ? 'hypervolume' : 'best'} | ${reference} | ${c.strategy} | ${c.evals} | ${c.seeds} | ` +
        `${fmt(quantile(values, 0.5))} | [${fmt(values[0])}, ${fmt(values[values.length - 1])}] | ` +
        `${fmt(quantile(values, 0.75) - quantile(values, 0.25))} | ${quantile(walls, 0.5).toFixed(2)} |`,
    );
  });
  lines.push('');
  lines.push('Bayes ask time with 200 completed trials (median of 5 asks, one process):');
  lines.push('');
  lines.push('| problem | dimensions | wall ms | CPU ms |');
  lines.push('|---|---:|---:|---:|');
  for (const p of ['hartmann6', 'zdt1']) {
    const t = bayesAskTime(p, 5);
    lines.push(
      `| ${p} | ${getProblem(p).space.dimensions.length} | ${t.wallMs.toFixed(0)} | ${t.cpuMs.toFixed(0)} |`,
    );
  }
  lines.push('');
  lines.push(`Total wall time ${((performance.now() - started) / 1000).toFixed(0)} s.`);
  console.log(lines.join('\n'));
}

if (process.argv.includes('--worker')) worker();
else
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
