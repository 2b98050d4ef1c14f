import { describe, expect, it } from 'vitest';
import {
  entropyRange,
  klThresholdBins,
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

describe('entropy (KL) calibration', () => {
  /** Mean squared error of uint8 fake quantization over a range. */
  const mse = (values: Float32Array, r: { min: number; max: number }) => {
    const { scale, zeroPoint } = uint8QParams(r);
    let e = 0;
    for (const v of values) {
      const q = Math.min(255, Math.max(0, Math.round(v / scale) + zeroPoint));
      e += ((q - zeroPoint) * scale - v) ** 2;
    }
    return e / values.length;
  };
  // A Laplace-like activation: most mass near zero, a long positive tail, a short negative one.
  const rng = (() => {
    let s = 12345;
    return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) + 0.5) / 2 ** 31;
  })();
  const values = Float32Array.from({ length: 200_000 }, () => {
    const u = rng();
    return u < 0.1 ? -0.25 * rng() : -Math.log(1 - rng()) * 0.5;
  });

  it('ignores rare outliers: the bulk is quantized with far less error than with min-max', () => {
    const withOutliers = Float32Array.from(values);
    for (let i = 0; i < 20; i++) withOutliers[i * 9973] = 100 + i;
    const c = new RangeCollector(200_000);
    c.add(withOutliers);
    const minmax = c.range();
    const kl = c.entropyRange();
    expect(minmax.max).toBeGreaterThanOrEqual(119);
    expect(kl.max).toBeLessThan(10);
    expect(kl.max).toBeGreaterThan(1); // the bulk's tail is kept: clipping it would cost KL
    expect(kl.min).toBeLessThan(0);
    expect(kl.min).toBeGreaterThanOrEqual(minmax.min);
    expect(mse(values, kl)).toBeLessThan(mse(values, minmax) / 4);
  });

  it('keeps the whole range of a uniform distribution (nothing worth clipping)', () => {
    const u = Float32Array.from({ length: 50_000 }, () => rng());
    const r = entropyRange(u, 0, 1);
    expect(r.max).toBeGreaterThan(0.95);
  });

  it('keeps every bin when the levels cover the histogram', () => {
    expect(klThresholdBins(Float64Array.of(1, 2, 3), 256)).toBe(3);
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
