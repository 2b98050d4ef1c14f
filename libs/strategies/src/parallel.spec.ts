import { describe, expect, it } from 'vitest';
import { runParallelBenchmark } from './benchmark';
import { BayesStrategy } from './bayes/bayes';
import { EvolutionStrategy } from './evolution';
import { observations } from './history';
import { Nsga2Strategy } from './nsga2';
import { pendingChildren } from './pending';
import { hartmann6, nas, zdt1 } from './problems';
import { RandomStrategy } from './random';
import { Rng } from './rng';
import { decode, encode, sampleGenes } from './space';
import type { TrialRecord } from './types';

const completed = (problem: typeof hartmann6, n: number, seed: string): TrialRecord[] => {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const params = decode(problem.space, sampleGenes(problem.space, rng));
    return { params, values: problem.evaluate(params), status: 'completed' as const };
  });
};

describe('the NAS-like problem', () => {
  it('has an exact optimum no sample beats and some point reaches', () => {
    const rng = new Rng('nas');
    for (let i = 0; i < 2000; i++) {
      const v = nas.evaluate(decode(nas.space, sampleGenes(nas.space, rng)))[0];
      expect(v).toBeGreaterThanOrEqual(nas.optimum! - 1e-12);
    }
    expect(nas.space.dimensions).toHaveLength(26);
    // Brute force over depth, width, precision with each flag set by itself: the same number.
    let best = Infinity;
    for (const depth of [1, 2, 3, 4])
      for (const width of [0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1])
        for (const precision of ['fp32', 'fp16', 'int8']) {
          const p: Record<string, unknown> = { depth, width, precision };
          for (let i = 0; i < 23; i++) {
            p[`sep${i}`] = false;
            const off = nas.evaluate(p as never)[0];
            p[`sep${i}`] = true;
            if (nas.evaluate(p as never)[0] > off) p[`sep${i}`] = false;
          }
          best = Math.min(best, nas.evaluate(p as never)[0]);
        }
    expect(best).toBeCloseTo(nas.optimum!, 12);
  });
});

describe('parallel asks', () => {
  it('are reproducible per seed and tell every result', () => {
    for (const make of [
      () => new EvolutionStrategy({ warmup: 5 }),
      () => new Nsga2Strategy(),
      () => new BayesStrategy({ initialPoints: 6, randomCandidates: 50, localSteps: 5 }),
    ]) {
      const a = runParallelBenchmark({
        strategy: make(),
        problem: 'hartmann6',
        evals: 24,
        workers: 4,
        seed: 3,
      });
      const b = runParallelBenchmark({
        strategy: make(),
        problem: 'hartmann6',
        evals: 24,
        workers: 4,
        seed: 3,
      });
      expect(a.completed).toHaveLength(24);
      expect(b.completed).toEqual(a.completed);
      // Four at a time: the simulated clock runs about 4x faster than one after another.
      const one = runParallelBenchmark({
        strategy: make(),
        problem: 'hartmann6',
        evals: 24,
        workers: 1,
        seed: 3,
      });
      expect(a.completed[23].minutes).toBeLessThan(one.completed[23].minutes / 2.5);
    }
  });

  it('evolution, pendingAware: a member with a child in flight sits out the tournament', () => {
    const history = completed(hartmann6, 12, 'evo');
    const strategy = new EvolutionStrategy({
      populationSize: 12,
      sampleSize: 12,
      warmup: 5,
      pendingAware: true,
    });
    const input = { space: hartmann6.space, history, seed: 1, objectives: 1 };
    const population = observations(input, 12);
    const best = population.reduce((b, o, i) => (o.values[0] < population[b].values[0] ? i : b), 0);
    const parentOf = (params: TrialRecord['params']): number =>
      pendingChildren(hartmann6.space, population, [encode(hartmann6.space, params)]).indexOf(1);
    // The whole population is sampled, so sequentially the best always wins.
    const [sequential] = strategy.ask(input, 1);
    expect(parentOf(sequential)).toBe(best);
    // Its child is running: the next ask mutates someone else, and a batch of 4 uses 4 parents.
    const pending = [...history, { params: sequential, status: 'running' as const }];
    const [next] = strategy.ask({ ...input, history: pending }, 1);
    expect(parentOf(next)).not.toBe(best);
    const batch = strategy.ask(input, 4);
    expect(new Set(batch.map(parentOf)).size).toBe(4);
    // The default keeps mutating the best and only avoids the pending point itself.
    const plain = new EvolutionStrategy({ populationSize: 12, sampleSize: 12, warmup: 5 });
    const [again] = plain.ask({ ...input, history: pending }, 1);
    expect(parentOf(again)).toBe(best);
    expect(JSON.stringify(again)).not.toBe(JSON.stringify(sequential));
  });

  it('nsga2: ties on rank go to the parent with fewer children in flight', () => {
    // A population on ZDT1's front: every member has rank 0.
    const rng = new Rng('front');
    const history: TrialRecord[] = Array.from({ length: 10 }, (_, k) => {
      const params: Record<string, number> = {};
      for (let i = 0; i < 30; i++) params[`x${i}`] = i === 0 ? (k + 0.5) / 10 : 0.002 * rng.uniform();
      return { params, values: zdt1.evaluate(params), status: 'completed' as const };
    });
    const strategy = new Nsga2Strategy({ crossoverProbability: 0 });
    const input = { space: zdt1.space, history, seed: 2, objectives: 2 };
    const population = observations(input);
    // Members 0-4 each have two children running (copies nudged by a hair).
    const pending: TrialRecord[] = [];
    for (let k = 0; k < 5; k++)
      for (let c = 0; c < 2; c++) {
        const params = { ...history[k].params, x29: (history[k].params.x29 as number) + 1e-4 * (c + 1) };
        pending.push({ params, status: 'running' });
      }
    const parents = (h: TrialRecord[]): number[] => {
      const out = strategy.ask({ ...input, history: h }, 10);
      return pendingChildren(
        zdt1.space,
        population,
        out.map((p) => encode(zdt1.space, p)),
      );
    };
    const busyShare = (counts: number[]): number => counts.slice(0, 5).reduce((a, b) => a + b, 0);
    expect(busyShare(parents([...history, ...pending]))).toBeLessThan(busyShare(parents(history)));
    // Both drawn busy happens a quarter of the time: well under the sequential half.
    expect(busyShare(parents([...history, ...pending]))).toBeLessThanOrEqual(4);
  });

  it('bayes: a pending point is not proposed again, under either fantasy', () => {
    const history = completed(hartmann6, 15, 'bo');
    for (const pendingMode of ['believer', 'liar'] as const) {
      const bayes = new BayesStrategy({ pending: pendingMode, randomCandidates: 100, localSteps: 10 });
      const input = { space: hartmann6.space, history, seed: 4, objectives: 1 };
      const [first] = bayes.ask(input, 1);
      // The next ask while `first` is still running.
      const withPending = [...history, { params: first, status: 'running' as const }];
      const [second] = bayes.ask({ ...input, history: withPending }, 1);
      const a = encode(hartmann6.space, first);
      const b = encode(hartmann6.space, second);
      expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).toBeGreaterThan(1e-3);
      const batch = bayes.ask(input, 3);
      expect(new Set(batch.map((p) => JSON.stringify(p))).size).toBe(3);
    }
  });

  it('random ignores pending points except as duplicates', () => {
    const r = runParallelBenchmark({
      strategy: new RandomStrategy(),
      problem: nas,
      evals: 30,
      workers: 8,
      seed: 1,
    });
    expect(r.completed).toHaveLength(30);
  });
});
