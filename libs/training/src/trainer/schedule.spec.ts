import { describe, expect, it } from 'vitest';
import { accumulation, lrFactor, SCRATCH_LOW_OPTIMIZER, stepSettings, warmupIterations } from './schedule';
import { DEFAULT_BATCH_SIZE, DEFAULT_TRAIN_HYP } from './train';

const hyp = { ...SCRATCH_LOW_OPTIMIZER };

describe('learning-rate schedule (train.py)', () => {
  it('linear decay runs from 1 to lrf', () => {
    expect(lrFactor(0, 10, hyp)).toBe(1);
    expect(lrFactor(5, 10, hyp)).toBeCloseTo(0.505);
    expect(lrFactor(10, 10, hyp)).toBeCloseTo(0.01);
  });

  it('cosine one-cycle runs from 1 to lrf through the midpoint', () => {
    const cos = { ...hyp, cosLr: true };
    expect(lrFactor(0, 10, cos)).toBeCloseTo(1);
    expect(lrFactor(5, 10, cos)).toBeCloseTo(0.505);
    expect(lrFactor(2, 10, cos)).toBeGreaterThan(lrFactor(2, 10, hyp));
    expect(lrFactor(10, 10, cos)).toBeCloseTo(0.01);
  });

  it('warm-up: bias lr falls from 0.1, weight lr rises from 0, momentum rises from 0.8', () => {
    const nw = 100;
    const start = stepSettings(0, nw, 0, 10, hyp);
    expect(start).toEqual({ biasLr: 0.1, weightLr: 0, momentum: 0.8 });
    const mid = stepSettings(50, nw, 0, 10, hyp);
    expect(mid.biasLr).toBeCloseTo(0.055);
    expect(mid.weightLr).toBeCloseTo(0.005);
    expect(mid.momentum).toBeCloseTo(0.8685);
    const after = stepSettings(101, nw, 3, 10, hyp);
    expect(after.biasLr).toBeCloseTo(0.01 * lrFactor(3, 10, hyp));
    expect(after.weightLr).toBe(after.biasLr);
    expect(after.momentum).toBe(0.937);
  });

  it('warm-up is 3 epochs or 100 iterations but never more than a third of a short run', () => {
    expect(warmupIterations(50, 300, hyp)).toBe(150);
    expect(warmupIterations(10, 300, hyp)).toBe(100);
    expect(warmupIterations(10, 6, hyp)).toBe(20);
  });

  it('accumulates to the nominal batch of 64 and scales weight decay with it', () => {
    expect(accumulation(16, hyp)).toEqual({ accumulate: 4, weightDecay: 0.0005 });
    expect(accumulation(24, hyp).accumulate).toBe(3);
    expect(accumulation(24, hyp).weightDecay).toBeCloseTo((0.0005 * 72) / 64);
    expect(accumulation(128, hyp)).toEqual({ accumulate: 1, weightDecay: 0.001 });
  });

  it('without a nominal batch steps every batch with the weight decay as given', () => {
    const perBatch = { ...hyp, nominalBatch: undefined };
    expect(accumulation(8, perBatch)).toEqual({ accumulate: 1, weightDecay: 0.0005 });
    expect(accumulation(16, perBatch)).toEqual({ accumulate: 1, weightDecay: 0.0005 });
  });

  it('the trainer default is AdamW lr0 4e-3, a step per batch of 8, scratch-low otherwise', () => {
    expect(DEFAULT_TRAIN_HYP).toMatchObject({ optimizer: 'AdamW', lr0: 0.004, augment: true, lrf: 0.01 });
    expect(DEFAULT_TRAIN_HYP.nominalBatch).toBeUndefined();
    expect(DEFAULT_BATCH_SIZE).toBe(8);
    expect(accumulation(DEFAULT_BATCH_SIZE, DEFAULT_TRAIN_HYP).accumulate).toBe(1);
  });
});
