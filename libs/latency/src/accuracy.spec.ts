import { describe, expect, it } from 'vitest';
import { fractionWithin, kendallTau, meanAbsoluteRelativeError } from './accuracy';

describe('accuracy measures', () => {
  it('computes Kendall tau-b', () => {
    expect(kendallTau([1, 2, 3, 4], [10, 20, 30, 40])).toBe(1);
    expect(kendallTau([1, 2, 3, 4], [4, 3, 2, 1])).toBe(-1);
    // 5 concordant, 1 discordant pair of 6: (5 - 1) / 6.
    expect(kendallTau([1, 2, 3, 4], [1, 3, 2, 4])).toBeCloseTo(4 / 6, 12);
    // scipy.stats.kendalltau([1,2,2,3], [1,2,3,3]) = 0.8 (tau-b with ties).
    expect(kendallTau([1, 2, 2, 3], [1, 2, 3, 3])).toBeCloseTo(0.8, 12);
    expect(() => kendallTau([1], [1, 2])).toThrow(/lengths differ/);
  });

  it('counts predictions within a relative tolerance', () => {
    expect(fractionWithin([1, 1.2, 0.9, 2], [1, 1, 1, 1], 0.15)).toBe(0.5);
    expect(meanAbsoluteRelativeError([1.1, 0.9], [1, 1])).toBeCloseTo(0.1, 12);
  });
});
