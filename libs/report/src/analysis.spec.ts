import { describe, expect, it } from 'vitest';
import { hypervolume2d } from '@detsearch/strategies';
import { dimensionImportance, genomeFeatures, hypervolumeHistory, type HypervolumeTrial } from './index';

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('hypervolume history', () => {
  it('matches the exact 2-D hypervolume after every completed trial', () => {
    const r = rng(3);
    const trials: HypervolumeTrial[] = Array.from({ length: 300 }, (_, i) => ({
      number: i,
      status: r() < 0.8 ? 'completed' : 'pruned',
      map50_95: r() < 0.05 ? null : Math.round(r() * 50) / 100,
      latencyMs: Math.round(1 + r() * 40),
    }));
    const { steps, referenceLatencyMs, completed } = hypervolumeHistory([...trials].reverse());
    const done = trials.filter((t) => t.status === 'completed' && t.map50_95 !== null);
    expect(completed).toBe(done.length);
    const ref = 1.1 * Math.max(...done.map((t) => t.latencyMs!));
    expect(referenceLatencyMs).toBeCloseTo(ref, 12);
    expect(steps).toHaveLength(done.length);
    done.forEach((t, i) => {
      const exact = hypervolume2d(
        done.slice(0, i + 1).map((d) => [-d.map50_95!, d.latencyMs!]),
        [0, ref],
      );
      expect(steps[i]!.number).toBe(t.number);
      expect(steps[i]!.y).toBeCloseTo(exact / ref, 9);
    });
    // Never decreases.
    for (let i = 1; i < steps.length; i++) expect(steps[i]!.y).toBeGreaterThanOrEqual(steps[i - 1]!.y);
  });

  it('keeps only the changes (and the last step) when asked, fast at 100,000 trials', () => {
    const r = rng(9);
    const trials = Array.from({ length: 100_000 }, (_, i) => ({
      number: i,
      status: 'completed',
      map50_95: r() * 0.6,
      latencyMs: 1 + r() * 30,
    }));
    const started = performance.now();
    const all = hypervolumeHistory(trials);
    const changes = hypervolumeHistory(trials, { changesOnly: true });
    expect(performance.now() - started).toBeLessThan(3000);
    expect(changes.steps.length).toBeLessThan(2000);
    expect(changes.steps.at(-1)).toEqual(all.steps.at(-1));
    expect(changes.steps[0]).toEqual(all.steps[0]);
    for (const s of changes.steps) expect(all.steps[s.x - 1]).toEqual(s);
  });

  it('is empty before the first completed trial', () => {
    expect(hypervolumeHistory([{ number: 0, status: 'running', map50_95: null, latencyMs: null }])).toEqual({
      referenceLatencyMs: null,
      completed: 0,
      steps: [],
    });
  });
});

describe('dimension importance', () => {
  it('ranks the dimension that drives the objective first and ignores constants', () => {
    const r = rng(5);
    const rows = Array.from({ length: 400 }, () => {
      const width = [0.25, 0.5, 0.75, 1][Math.floor(r() * 4)]!;
      const act = r() < 0.5 ? 'relu' : 'silu';
      const size = 160 + Math.floor(r() * 20) * 16;
      return {
        features: { width, act, size, classes: 3 },
        value: width * 0.5 + (act === 'silu' ? 0.1 : 0) + r() * 0.01,
      };
    });
    const imp = dimensionImportance(rows);
    expect(imp.map((d) => d.name)).toEqual(['width', 'act', 'size']);
    expect(imp[0]!.importance).toBeGreaterThan(0.7);
    expect(imp[2]!.importance).toBeLessThan(0.05);
    expect(imp.find((d) => d.name === 'size')!.groups).toBe(8);
  });

  it('flattens genomes: nested objects dotted, lists by length', () => {
    expect(
      genomeFeatures({ depthMultiple: 0.33, quantization: { precision: 'int8' }, separable: [13, 17] }),
    ).toEqual({ depthMultiple: 0.33, 'quantization.precision': 'int8', 'separable.count': 2 });
  });

  it('needs at least three scored trials', () => {
    expect(dimensionImportance([{ features: { a: 1 }, value: 1 }])).toEqual([]);
  });
});
