import { describe, expect, it } from 'vitest';
import { buildIR, initWeights, parseGenome } from '@detsearch/genome';
import { buildOnnxModel } from '@detsearch/model-onnx';
import { measureOnnx, percentile, summarizeTimes } from './measure';

describe('latency statistics', () => {
  it('median, nearest-rank p90, mean and min', () => {
    const s = summarizeTimes([5, 1, 4, 2, 3, 10, 6, 7, 8, 9], 2);
    expect(s).toEqual({ medianMs: 5.5, p90Ms: 9, meanMs: 5.5, minMs: 1, runs: 10, threads: 2 });
    expect(summarizeTimes([3, 1, 2], 1).medianMs).toBe(2);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(() => percentile([], 50)).toThrow();
  });
});

describe('measureOnnx', () => {
  it('times an exported model: small models run faster than larger ones', async () => {
    const model = (imageSize: number) => {
      const ir = buildIR(parseGenome({ depthMultiple: 0.33, widthMultiple: 0.25, imageSize, numClasses: 1 }));
      return buildOnnxModel(ir, initWeights(ir), { precision: 'fp32' });
    };
    const small = await measureOnnx(model(64), { runs: 7, warmup: 2, threads: 1 });
    expect(small.runs).toBe(7);
    expect(small.threads).toBe(1);
    expect(small.minMs).toBeGreaterThan(0);
    expect(small.minMs).toBeLessThanOrEqual(small.medianMs);
    expect(small.medianMs).toBeLessThanOrEqual(small.p90Ms);
    // 16x the pixels: clearly slower even on a noisy shared machine (compare the minimum times).
    const large = await measureOnnx(model(256), { runs: 3, warmup: 1, threads: 1 });
    expect(large.minMs).toBeGreaterThan(2 * small.minMs);
  });

  it('rejects bad options', async () => {
    await expect(measureOnnx(new Uint8Array(1), { runs: 0 })).rejects.toThrow(/runs/);
    await expect(measureOnnx(new Uint8Array(1), { threads: 0 })).rejects.toThrow(/threads/);
  });
});
