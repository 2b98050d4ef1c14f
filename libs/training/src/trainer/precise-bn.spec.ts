import { beforeAll, describe, expect, it } from 'vitest';
import { buildIR, initWeights, parseGenome } from '@detsearch/genome';
import { initBackend } from '@detsearch/model-tfjs';
import type { Batch } from '../dataset/pipeline';
import { preciseBatchNorm } from './precise-bn';

const ir = buildIR(parseGenome({ depthMultiple: 0.33, widthMultiple: 0.0625, imageSize: 64, numClasses: 2 }));

async function* batches(n: number): AsyncIterable<Batch> {
  for (let b = 0; b < n; b++) {
    const images = Float32Array.from(
      { length: 2 * 64 * 64 * 3 },
      (_, i) => ((i * 7919 + b * 104729) % 1000) / 1000,
    );
    yield {
      epoch: 0,
      index: b,
      size: 2,
      imageSize: 64,
      images,
      targets: new Float32Array(),
      numTargets: 0,
      indices: [],
      shapes: [],
      warnings: [],
    };
  }
}

describe('preciseBatchNorm', () => {
  beforeAll(async () => {
    await initBackend('wasm', { log: () => undefined });
  });

  it('replaces running statistics by batch averages, whatever they were before; weights untouched', async () => {
    const a = initWeights(ir, { seed: 1 });
    const b = initWeights(ir, { seed: 1, randomizeBatchNorm: true });
    // Same conv weights and BN affine parameters, different running statistics.
    for (const [k, v] of a) if (!k.endsWith('running_mean') && !k.endsWith('running_var')) b.set(k, v);
    const pa = await preciseBatchNorm(ir, a, batches(3), 2);
    const pb = await preciseBatchNorm(ir, b, batches(3), 2);
    const key = 'model.2.cv1.bn.running_var';
    expect(Array.from(pa.get(key)!)).not.toEqual(Array.from(a.get(key)!));
    for (const [k, v] of pa) {
      const w = pb.get(k)!;
      expect(v.reduce((m, x, i) => Math.max(m, Math.abs(x - w[i]!)), 0)).toBeLessThan(1e-4);
      if (!k.includes('running')) expect(Array.from(v)).toEqual(Array.from(a.get(k)!));
    }
  });
});
