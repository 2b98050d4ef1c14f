import { describe, expect, it } from 'vitest';
import { runBenchmark } from './benchmark';
import { EvolutionStrategy } from './evolution';
import { Nsga2Strategy } from './nsga2';
import { RandomStrategy } from './random';
import { branin, dtlz2, hartmann6, zdt1, zdt2, zdt3 } from './problems';
import { decode, encode, sampleGenes } from './space';
import { Rng } from './rng';

const x = (values: number[]): Record<string, number> =>
  Object.fromEntries(values.map((v, i) => [`x${i}`, v]));

describe('test problems', () => {
  it('reach their known optima', () => {
    for (const [x0, x1] of [
      [-Math.PI, 12.275],
      [Math.PI, 2.275],
      [9.42478, 2.475],
    ]) {
      expect(branin.evaluate({ x0, x1 })[0]).toBeCloseTo(0.397887, 5);
    }
    expect(hartmann6.evaluate(x([0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573]))[0]).toBeCloseTo(
      -3.32237,
      4,
    );
  });

  it('put Pareto-optimal sets on their fronts', () => {
    const opt = (x0: number, n: number, rest: number): Record<string, number> =>
      x([x0, ...new Array(n - 1).fill(rest)]);
    expect(zdt1.evaluate(opt(0.25, 30, 0))).toEqual([0.25, 0.5]);
    expect(zdt2.evaluate(opt(0.5, 30, 0))).toEqual([0.5, 0.75]);
    expect(zdt3.evaluate(opt(0, 30, 0))).toEqual([0, 1]);
    const [f1, f2] = dtlz2.evaluate(opt(0.3, 11, 0.5));
    expect(f1 * f1 + f2 * f2).toBeCloseTo(1, 12);
    // Off the Pareto set, g > 1 lifts the point above the front.
    expect(zdt1.evaluate(opt(0.25, 30, 0.5))[1]).toBeGreaterThan(0.5);
  });

  it('round-trip through the gene encoding', () => {
    const rng = new Rng('rt');
    const g = sampleGenes(hartmann6.space, rng);
    expect(encode(hartmann6.space, decode(hartmann6.space, g))).toEqual(g);
  });
});

describe('runBenchmark', () => {
  it('reports best for single-objective and hypervolume for multi-objective problems', () => {
    const single = runBenchmark({ strategy: new EvolutionStrategy(), problem: 'branin', evals: 30, seed: 1 });
    expect(single).toMatchObject({ strategy: 'evolution', problem: 'branin', evals: 30, hypervolume: null });
    expect(single.best).toBeGreaterThanOrEqual(0.397887 - 1e-6);
    const multi = runBenchmark({ strategy: new Nsga2Strategy(), problem: 'dtlz2', evals: 400, seed: 1 });
    expect(multi.best).toBeNull();
    expect(multi.hypervolume).toBeGreaterThan(0);
    expect(multi.hypervolume).toBeLessThan(1 - Math.PI / 4);
    expect(
      runBenchmark({ strategy: new Nsga2Strategy(), problem: 'dtlz2', evals: 400, seed: 1 }),
    ).toMatchObject({
      hypervolume: multi.hypervolume,
    });
  });

  it('rejects an unknown problem', () => {
    expect(() => runBenchmark({ strategy: new RandomStrategy(), problem: 'nope', evals: 1 })).toThrow(
      /unknown problem/,
    );
  });
});
