import { describe, expect, it } from 'vitest';
import { sampleLatencyGenomes } from './sampling';

describe('sampleLatencyGenomes', () => {
  it('balanced: every precision x activation pair equally often', () => {
    const g = sampleLatencyGenomes(48, 'balanced-spec', { balanced: true });
    const counts = new Map<string, number>();
    for (const x of g) {
      const k = `${x.quantization.precision}/${x.activation}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(['fp32/relu', 'fp32/silu', 'int8/relu', 'int8/silu']);
    for (const n of counts.values()) expect(n).toBe(12);
  });

  it('a seed names the same genomes every time; unbalanced draws mix the pairs', () => {
    const a = sampleLatencyGenomes(20, 'same-seed');
    expect(sampleLatencyGenomes(20, 'same-seed')).toEqual(a);
    expect(new Set(a.map((x) => x.quantization.precision)).size).toBe(2);
    expect(new Set(a.map((x) => x.activation)).size).toBe(2);
  });
});
