import { describe, expect, it } from 'vitest';
import type { Search } from '@detsearch/persistence';
import { DEFAULT_SUPERNET_ADAPT_STEPS } from './launch';
import { warmStartKey } from './warm-start';

const search = (evaluator: string, request: Record<string, unknown> = {}) =>
  ({
    evaluator,
    dataset: null,
    searchSpace: { numClasses: 6 },
    fidelity: { epochs: 3 },
    supernetId: evaluator === 'supernet' ? 'sn-1' : null,
    request,
  }) as unknown as Search;

describe('warm-start key', () => {
  it("a supernet search's estimates are reused only after as many adaptation steps", () => {
    const key = (steps?: number) =>
      warmStartKey(search('supernet', steps === undefined ? {} : { supernetAdaptSteps: steps }));
    expect(key(0)).not.toBe(key(5));
    expect(key(DEFAULT_SUPERNET_ADAPT_STEPS)).toBe(key());
    expect(key(5)).toBe(key(5));
  });

  it('other evaluators ignore the setting (and keep their keys)', () => {
    expect(warmStartKey(search('full', { supernetAdaptSteps: 5 }))).toBe(warmStartKey(search('full')));
    expect(warmStartKey(search('full'))).not.toBe(warmStartKey(search('surrogate')));
  });
});
