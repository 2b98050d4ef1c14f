import { compileSearchSpace, validateSearchSpaceSpec } from '@detsearch/search-space';
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { isWidthDimension, sampleGenome } from './space';
import { TINY_SPACE } from './test-helpers';

describe('sampleGenome', () => {
  it('draws every value of every dimension', () => {
    const rng = seedrandom('uniform');
    const draws = Array.from({ length: 200 }, () => sampleGenome(TINY_SPACE, rng));
    expect(new Set(draws.map((g) => g.depthMultiple))).toEqual(new Set([0.33, 0.67]));
    expect(new Set(draws.map((g) => g.widthMultiple))).toEqual(new Set([0.0625, 0.125]));
    expect(new Set(draws.map((g) => g.imageSize))).toEqual(new Set([64, 96]));
  });

  it('fullWidth keeps the widths at their maximum and still samples depth and separable rows', () => {
    const space = compileSearchSpace(
      validateSearchSpaceSpec({
        name: 'staged',
        depthMultiple: { type: 'ordinal', values: [0.33, 0.67] },
        widthMultiple: { type: 'ordinal', values: [0.125, 0.25] },
        stageWidth: { type: 'ordinal', values: [0.5, 0.75, 1] },
        stageDepth: { type: 'ordinal', values: [0.5, 1] },
        imageSize: 64,
        numClasses: 2,
        separable: { type: 'subset', layers: [4, 17] },
        activation: 'silu',
      }),
    );
    const rng = seedrandom('depth-first');
    const draws = Array.from({ length: 200 }, () => sampleGenome(space, rng, { fullWidth: true }));
    for (const g of draws) {
      expect(g.widthMultiple).toBe(0.25);
      // All-ones stage multiples are the genome's normal form: no stageWidth.
      expect(g.stageWidth ?? [1, 1, 1, 1]).toEqual([1, 1, 1, 1]);
    }
    expect(new Set(draws.map((g) => g.depthMultiple))).toEqual(new Set([0.33, 0.67]));
    expect(new Set(draws.map((g) => JSON.stringify(g.stageDepth ?? null))).size).toBeGreaterThan(4);
    expect(new Set(draws.map((g) => JSON.stringify(g.separable))).size).toBe(4);
  });

  it('knows which dimensions set channel counts', () => {
    expect(isWidthDimension('widthMultiple')).toBe(true);
    expect(isWidthDimension('stageWidth.2')).toBe(true);
    expect(isWidthDimension('depthMultiple')).toBe(false);
    expect(isWidthDimension('stageDepth.0')).toBe(false);
    expect(isWidthDimension('imageSize')).toBe(false);
  });
});
