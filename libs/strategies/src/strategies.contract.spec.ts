import { isInDimension, type Params, type SearchSpace } from '@detsearch/search-space';
import { describe, expect, it } from 'vitest';
import { createStrategy, STRATEGY_NAMES } from '@detsearch/domain';
import type { AskInput, Strategy, TrialRecord } from './types';

/** Every dimension type, with the awkward variants (log scales, steps that do not divide the range). */
const mixed: SearchSpace = {
  dimensions: [
    { name: 'lr', type: 'float', low: 1e-4, high: 1e-1, log: true },
    { name: 'dropout', type: 'float', low: 0, high: 0.5 },
    { name: 'epochs', type: 'int', low: 1, high: 10, step: 3 },
    { name: 'batch', type: 'int', low: 8, high: 256, log: true },
    { name: 'width', type: 'ordinal', values: [0.25, 0.5, 0.75, 1.0] },
    { name: 'act', type: 'categorical', choices: ['silu', 'relu', 'hardswish'] },
    { name: 'size', type: 'categorical', choices: [320, 640] },
    { name: 'int8', type: 'boolean' },
  ],
};

/** A cheap objective over `mixed` (two objectives) with one constraint: dropout <= 0.3. */
function evaluateMixed(p: Params): { values: number[]; constraints: number[] } {
  const act = { silu: 0, relu: 0.3, hardswish: 0.1 }[p.act as string] ?? 1;
  const f1 =
    Math.log10(p.lr as number) ** 2 / 4 + ((p.dropout as number) - 0.2) ** 2 + act + (p.int8 ? 0 : 0.2);
  const f2 = (p.width as number) + (p.size === 640 ? 0.5 : 0) + (p.epochs as number) / 10;
  return { values: [f1, f2], constraints: [(p.dropout as number) - 0.3] };
}

function inBounds(space: SearchSpace, p: Params): boolean {
  return (
    Object.keys(p).length === space.dimensions.length &&
    space.dimensions.every((d) => isInDimension(d, p[d.name]))
  );
}

const key = (p: Params): string => JSON.stringify(Object.entries(p).sort());

/** Ask/tell loop on `mixed`, one proposal at a time. */
function run(strategy: Strategy, trials: number, seed: number | string = 1): TrialRecord[] {
  const history: TrialRecord[] = [];
  for (let i = 0; i < trials; i++) {
    const [params] = strategy.ask({ space: mixed, history, seed, objectives: 2 }, 1);
    history.push({ params, ...evaluateMixed(params), status: 'completed' });
  }
  return history;
}

// Enough trials for every strategy to leave its initial random phase (nsga2's population is set small).
const options = { nsga2: { populationSize: 8 }, evolution: { warmup: 5 }, bayes: { initialPoints: 6 } };
const TRIALS = 14;

describe.each(STRATEGY_NAMES)('strategy contract: %s', (name) => {
  const make = (): Strategy => createStrategy(name, options[name as keyof typeof options] as never);

  it('proposes distinct in-bounds points from an empty history', () => {
    const out = make().ask({ space: mixed, history: [], seed: 7, objectives: 2 }, 6);
    expect(out).toHaveLength(6);
    for (const p of out) expect(inBounds(mixed, p)).toBe(true);
    expect(new Set(out.map(key)).size).toBe(6);
  });

  const history = run(make(), TRIALS);

  it('respects the bounds of every dimension type and never repeats a trial', () => {
    for (const t of history) expect(inBounds(mixed, t.params)).toBe(true);
    expect(new Set(history.map((t) => key(t.params))).size).toBe(history.length);
    const next = make().ask({ space: mixed, history, seed: 1, objectives: 2 }, 3);
    for (const p of next) {
      expect(inBounds(mixed, p)).toBe(true);
      expect(history.some((t) => key(t.params) === key(p))).toBe(false);
    }
  });

  it('is deterministic per seed and differs across seeds and asks', () => {
    const input: AskInput = { space: mixed, history, seed: 3, objectives: 2 };
    const a = make().ask(input, 2);
    expect(make().ask(input, 2)).toEqual(a);
    expect(make().ask({ ...input, seed: 4 }, 2)).not.toEqual(a);
    const later = [...history, { params: a[0], status: 'running' as const }];
    expect(make().ask({ ...input, history: later }, 1)[0]).not.toEqual(a[0]);
  });

  it('resumes from a history rebuilt from storage exactly as the live run continues', () => {
    const live = make();
    const stored: TrialRecord[] = JSON.parse(JSON.stringify(history));
    const input = { space: mixed, seed: 1, objectives: 2 };
    expect(make().ask({ ...input, history: stored }, 2)).toEqual(live.ask({ ...input, history }, 2));
  });

  it('does not propose a pending trial again', () => {
    const first = make().ask({ space: mixed, history, seed: 5, objectives: 2 }, 2);
    const pending: TrialRecord[] = [
      ...history,
      { params: first[0], status: 'queued' },
      { params: first[1], status: 'running' },
    ];
    const next = make().ask({ space: mixed, history: pending, seed: 5, objectives: 2 }, 4);
    for (const p of next) expect([key(first[0]), key(first[1])]).not.toContain(key(p));
  });

  it('ignores failed and pruned trials and tolerates missing values', () => {
    const messy: TrialRecord[] = [
      ...history,
      { params: history[0].params, status: 'failed' },
      { params: history[1].params, status: 'pruned', values: [0, 0] },
      { params: history[2].params, status: 'completed' },
    ];
    const out = make().ask({ space: mixed, history: messy, seed: 2, objectives: 2 }, 2);
    for (const p of out) expect(inBounds(mixed, p)).toBe(true);
  });

  it('uses every point of a small finite space before repeating one', () => {
    const tiny: SearchSpace = {
      dimensions: [
        { name: 'k', type: 'int', low: 0, high: 2 },
        { name: 'b', type: 'boolean' },
      ],
    };
    const h: TrialRecord[] = [];
    for (let i = 0; i < 6; i++) {
      const [params] = make().ask({ space: tiny, history: h, seed: 0, objectives: 1 }, 1);
      h.push({ params, values: [(params.k as number) + (params.b ? 1 : 0)], status: 'completed' });
    }
    expect(new Set(h.map((t) => key(t.params))).size).toBe(6);
    const more = make().ask({ space: tiny, history: h, seed: 0, objectives: 1 }, 2);
    for (const p of more) expect(inBounds(tiny, p)).toBe(true);
  });
});

describe('constraint handling', () => {
  // Minimize the distance to (0.8, 0.8) subject to x <= 0.5: the optimum (0.5, 0.8) is on the boundary.
  const space: SearchSpace = {
    dimensions: [
      { name: 'x', type: 'float', low: 0, high: 1 },
      { name: 'y', type: 'float', low: 0, high: 1 },
    ],
  };
  const evaluate = (p: Params): TrialRecord => {
    const x = p.x as number;
    const y = p.y as number;
    return {
      params: p,
      values: [(x - 0.8) ** 2 + (y - 0.8) ** 2],
      constraints: [x - 0.5],
      status: 'completed',
    };
  };
  const budgets = { evolution: 120, nsga2: 120, bayes: 25 };
  const small = {
    nsga2: { populationSize: 10 },
    evolution: { populationSize: 20, sampleSize: 5 },
    bayes: {},
  };

  it.each(['evolution', 'nsga2', 'bayes'] as const)(
    '%s finds a feasible point near the constrained optimum',
    (name) => {
      const strategy = createStrategy(name, small[name]);
      const history: TrialRecord[] = [];
      while (history.length < budgets[name]) {
        const batch = strategy.ask({ space, history, seed: 11, objectives: 1 }, name === 'nsga2' ? 10 : 1);
        for (const p of batch) history.push(evaluate(p));
      }
      const feasible = history.filter((t) => t.constraints![0] <= 0);
      const best = Math.min(...feasible.map((t) => t.values![0]));
      expect(best).toBeLessThan(0.09 + 0.01);
      // Later proposals concentrate in the feasible region or just across its boundary.
      const late = history.slice(-Math.floor(history.length / 3));
      expect(late.filter((t) => t.constraints![0] <= 0.05).length / late.length).toBeGreaterThan(0.6);
    },
  );
});
