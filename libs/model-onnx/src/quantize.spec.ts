import { describe, expect, it } from 'vitest';
import {
  minWeightScalesForBias,
  quantizeBiasInt32,
  quantizeWeightsInt8,
  RangeCollector,
  uint8QParams,
} from './quantize';

describe('quantization arithmetic', () => {
  it('uint8 parameters cover the range and represent zero exactly', () => {
    const { scale, zeroPoint } = uint8QParams({ min: -1, max: 3 });
    expect(scale).toBeCloseTo(4 / 255, 9);
    expect(zeroPoint).toBe(64);
    // A positive-only range still includes 0 (zero point 0).
    expect(uint8QParams({ min: 0.5, max: 2 }).zeroPoint).toBe(0);
    expect(uint8QParams({ min: 0, max: 0 })).toEqual({ scale: 1, zeroPoint: 0 });
  });

  it('int8 weights: symmetric, per tensor or per output channel, error within half a step', () => {
    const w = Float32Array.from([0.1, -0.2, 0.05, 0.4, 8, -4, 2, 1]);
    for (const perChannel of [false, true]) {
      const q = quantizeWeightsInt8(w, 2, perChannel);
      expect(q.scales.length).toBe(perChannel ? 2 : 1);
      w.forEach((v, i) => {
        const s = q.scales[perChannel ? Math.floor(i / 4) : 0]!;
        expect(Math.abs(q.data[i]!)).toBeLessThanOrEqual(127);
        expect(Math.abs(q.data[i]! * s - v)).toBeLessThanOrEqual(s / 2 + 1e-7);
      });
    }
    // Per-channel keeps the small channel precise; per-tensor cannot.
    const pc = quantizeWeightsInt8(w, 2, true);
    const pt = quantizeWeightsInt8(w, 2, false);
    expect(Math.abs(pc.data[0]! * pc.scales[0]! - 0.1)).toBeLessThan(
      Math.abs(pt.data[0]! * pt.scales[0]! - 0.1),
    );
  });

  it('int32 bias uses input scale x weight scale', () => {
    const q = quantizeBiasInt32(Float32Array.of(0.5, -1), 0.01, Float32Array.of(0.1, 0.2));
    expect(Array.from(q.scales).map((s) => +s.toFixed(6))).toEqual([0.001, 0.002]);
    expect(Array.from(q.data)).toEqual([500, -500]);
  });

  it('collects min/max and percentile ranges', () => {
    const c = new RangeCollector(1_000_000);
    const values = Float32Array.from({ length: 100_000 }, (_, i) => i / 100_000);
    values[7] = 1000; // one outlier
    c.add(values);
    expect(c.range()).toEqual({ min: 0, max: 1000 });
    const p = c.range(99.9);
    expect(p.max).toBeLessThan(1.01);
    expect(p.max).toBeGreaterThan(0.99);
  });
});

describe('bias overflow guard', () => {
  it('widens the weight scale so a large bias fits int32 when the input range is tiny', () => {
    const bias = Float32Array.of(-6.3, 0.01);
    const inputScale = 1e-11;
    const min = minWeightScalesForBias(bias, inputScale);
    const w = Float32Array.of(1e-3, -2e-3, 5e-4, 1e-4);
    const q = quantizeWeightsInt8(w, 2, true, min);
    expect(q.scales[0]!).toBeGreaterThanOrEqual(min[0]!);
    const b = quantizeBiasInt32(bias, inputScale, q.scales);
    expect(Math.abs(b.data[0]! * b.scales[0]! - -6.3)).toBeLessThan(1e-3);
    // Without the guard the bias clips at int32's limit.
    const clipped = quantizeBiasInt32(bias, inputScale, quantizeWeightsInt8(w, 2, true).scales);
    expect(Math.abs(clipped.data[0]! * clipped.scales[0]! - -6.3)).toBeGreaterThan(1);
  });
});
