import { describe, expect, it } from 'vitest';
import { preferDistinctTrainings } from './distinct-trainings';

const key = (p: string) => p.split(':')[0]!;

describe('preferDistinctTrainings', () => {
  it('puts points whose training is already running after those that start a new one', () => {
    const out = preferDistinctTrainings(['a:96', 'b:96', 'a:160', 'c:128'], key, new Set(['a']));
    expect(out).toEqual(['b:96', 'c:128', 'a:96', 'a:160']);
  });

  it('starts one training per key within a batch, keeping the strategy order otherwise', () => {
    const out = preferDistinctTrainings(['a:96', 'a:128', 'b:96', 'b:128', 'c:96'], key, new Set());
    expect(out).toEqual(['a:96', 'b:96', 'c:96', 'a:128', 'b:128']);
  });

  it('keeps every point, even when all share one running training', () => {
    const out = preferDistinctTrainings(['a:1', 'a:2'], key, new Set(['a']));
    expect(out).toEqual(['a:1', 'a:2']);
  });
});
