/*
 * Strategy benchmark: every strategy on every standard problem at fixed budgets over several seeds.
 * Prints a markdown table (median and min-max over seeds) plus the bayes ask time at 200 trials.
 *
 *   node -r @swc-node/register bench/strategies.ts [--seeds 10] [--bayes-seeds N] [--scale 1]
 *        [--only zdt1,branin] [--strategies bayes,nsga2] [--jobs 2]
 *
 * Parallel asks (`--parallel` runs only this section; a full run ends with it): bayes (Kriging
 * believer and constant liar), evolution, nsga2 and random with 1, 4 and 8 workers on Hartmann6 and
 * the NAS-like problem, at a simulated cost per evaluation; writes bench/results/strategies-parallel.md.
 *   [--parallel-seeds 3] (BENCH_PARALLEL_SEEDS)
 *
 * Environment equivalents: BENCH_SEEDS, BENCH_BAYES_SEEDS (seeds for bayes on the multi-objective
 * problems, its most expensive rows; default the same), BENCH_SCALE (multiplies every budget, for a
 * quick run), BENCH_ONLY, BENCH_STRATEGIES, BENCH_JOBS (worker processes; results do not depend on it, only wall time).
 */
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createStrategy, type StrategyName } from '../libs/domain/src';
import {
  getProblem,
  PROBLEM_NAMES,
  Rng,
  runBenchmark,
  runParallelBenchmark,
  trueHypervolume,
  type ParallelBenchmarkResult,
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
/** Problems of the parallel section only (the main table keeps its published set). */
const PARALLEL_ONLY = ['nas'];

/** Budgets: the evolutionary strategies get 10,000 evaluations on the multi-objective problems;
 *  bayes gets 200 there (its cost grows with the trial count), and random is also shown at 200
 *  as bayes' baseline. Single-objective problems use the budgets of the targets for everyone. */
function cases(scale: number, only: string[] | null, seeds: number, bayesSeeds: number): Case[] {
  const out: Case[] = [];
  const n = (evals: number): number => Math.max(10, Math.round(evals * scale));
  for (const problem of PROBLEM_NAMES) {
    if (only && !only.includes(problem)) continue;
    if (!only && PARALLEL_ONLY.includes(problem)) continue;
    if (MULTI.includes(problem)) {
      for (const strategy of ['random', 'evolution', 'nsga2'] as const) {
        out.push({ problem, strategy, evals: n(10_000), seeds });
      }
      // Small budgets, where Optuna's NSGA-II used to be ahead.
      out.push({ problem, strategy: 'nsga2', evals: n(1_000), seeds });
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

const PARALLEL_COST_MINUTES = 10;
const PARALLEL_VARIANTS: { label: string; strategy: StrategyName; options?: unknown; minWorkers?: number }[] =
  [
    { label: 'random', strategy: 'random' },
    { label: 'evolution', strategy: 'evolution' },
    { label: 'nsga2', strategy: 'nsga2' },
    { label: 'bayes (Kriging believer)', strategy: 'bayes' },
    { label: 'bayes (constant liar)', strategy: 'bayes', options: { pending: 'liar' }, minWorkers: 2 },
  ];

/** Lowest value among the first `evals` results, or those in by `minutes`; Infinity if none. */
function bestBy(r: ParallelBenchmarkResult, evals: number, minutes = Infinity): number {
  let best = Infinity;
  for (let i = 0; i < Math.min(evals, r.completed.length); i++) {
    if (r.completed[i].minutes <= minutes) best = Math.min(best, r.completed[i].values[0]);
  }
  return best;
}

/**
 * Quality against evaluations and against simulated wall time with 1, 4 and 8 workers (the
 * strategy is asked for each free slot while the other trials run). Regret = best found minus
 * the known optimum, median over seeds.
 */
function parallelSection(seeds: number, scale: number, only: string[] | null, strategies: string[] | null) {
  const started = performance.now();
  const problems = [
    { name: 'hartmann6', evals: Math.max(20, Math.round(100 * scale)) },
    { name: 'nas', evals: Math.max(20, Math.round(100 * scale)) },
  ].filter((p) => !only || only.includes(p.name));
  const workerCounts = [1, 4, 8];
  const lines: string[] = [];
  lines.push('# Parallel asks (`bench/strategies.ts --parallel`)');
  lines.push('');
  lines.push(
    `Seeds 0..${seeds - 1}, node ${process.version}. Each evaluation takes a simulated ` +
      `${PARALLEL_COST_MINUTES} min x U(0.5, 1.5) (the same draw for trial k in every row); with N workers the ` +
      'strategy is asked for each free slot while the other N-1 trials are still running (pending), as ' +
      'the search runner does. Regret = best value found minus the known optimum, median [min, max] over ' +
      'seeds. Wall-time columns: regret of the results in by that simulated time, as a fraction of the ' +
      'time one worker needs for the whole budget. `ask s`: real time the strategy spent asking per run (median).',
  );
  for (const problem of problems) {
    const p = getProblem(problem.name);
    const sequentialHours = (problem.evals * PARALLEL_COST_MINUTES) / 60;
    const evalMarks = [0.25, 0.5, 1].map((f) => Math.round(problem.evals * f));
    const timeMarks = [0.125, 0.25, 0.5];
    lines.push('');
    lines.push(
      `## ${problem.name} (${p.space.dimensions.length} dimensions, optimum ${fmt(p.optimum!)}, ` +
        `${problem.evals} evaluations, one worker needs about ${sequentialHours.toFixed(0)} h)`,
    );
    lines.push('');
    lines.push(
      `| strategy | workers | ${evalMarks.map((m) => `regret @${m} evals`).join(' | ')} | ` +
        `${timeMarks.map((f) => `regret @${(f * sequentialHours).toFixed(1)} h`).join(' | ')} | ask s |`,
    );
    lines.push(
      `|---|---:|${evalMarks.map(() => '---:').join('|')}|${timeMarks.map(() => '---:').join('|')}|---:|`,
    );
    for (const v of PARALLEL_VARIANTS) {
      if (strategies && !strategies.includes(v.strategy)) continue;
      for (const workers of workerCounts) {
        if (v.minWorkers && workers < v.minWorkers) continue;
        const runs = Array.from({ length: seeds }, (_, seed) => {
          const r = runParallelBenchmark({
            strategy: createStrategy(v.strategy, v.options),
            problem: p,
            evals: problem.evals,
            workers,
            seed,
            costMinutes: PARALLEL_COST_MINUTES,
          });
          process.stderr.write('.');
          return r;
        });
        const cell = (values: number[]): string => {
          const sorted = values.map((x) => x - p.optimum!).sort((a, b) => a - b);
          const show = (x: number): string => (x === Infinity ? 'none' : fmt(Math.max(0, x)));
          return `${show(quantile(sorted, 0.5))} [${show(sorted[0])}, ${show(sorted[sorted.length - 1])}]`;
        };
        const byEvals = evalMarks.map((m) => cell(runs.map((r) => bestBy(r, m))));
        const byTime = timeMarks.map((f) =>
          cell(runs.map((r) => bestBy(r, Infinity, f * sequentialHours * 60))),
        );
        const ask = quantile(
          runs.map((r) => r.askMs / 1000).sort((a, b) => a - b),
          0.5,
        );
        lines.push(
          `| ${v.label} | ${workers} | ${byEvals.join(' | ')} | ${byTime.join(' | ')} | ${ask.toFixed(1)} |`,
        );
      }
    }
  }
  lines.push('');
  lines.push(`Total wall time ${((performance.now() - started) / 1000).toFixed(0)} s.`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const seeds = Number(arg('seeds', 'BENCH_SEEDS') ?? 10);
  const bayesSeeds = Number(arg('bayes-seeds', 'BENCH_BAYES_SEEDS') ?? seeds);
  const scale = Number(arg('scale', 'BENCH_SCALE') ?? 1);
  const jobs = Number(arg('jobs', 'BENCH_JOBS') ?? 1);
  const onlyArg = arg('only', 'BENCH_ONLY');
  const only = onlyArg ? onlyArg.split(',') : null;
  const strategiesArg = arg('strategies', 'BENCH_STRATEGIES');
  const parallelSeeds = Number(arg('parallel-seeds', 'BENCH_PARALLEL_SEEDS') ?? 3);
  const writeParallel = (): void => {
    const text = parallelSection(parallelSeeds, scale, only, strategiesArg ? strategiesArg.split(',') : null);
    process.stderr.write('\n');
    console.log(text);
    writeFileSync(join(__dirname, 'results', 'strategies-parallel.md'), text + '\n');
  };
  if (process.argv.includes('--parallel')) {
    writeParallel();
    return;
  }
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
  writeParallel();
}

if (process.argv.includes('--worker')) worker();
else
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
