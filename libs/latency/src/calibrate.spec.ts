import { describe, expect, it } from 'vitest';
import seedrandom from 'seedrandom';
import { buildIR } from '@detsearch/genome';
import { kendallTau, fractionWithin } from './accuracy';
import { calibrateFromFeatures, calibrateProfile, modelFeatures, predictFeatures } from './calibrate';
import { getHardwareProfile } from './files';
import { predictLatency } from './predict';
import { MAX_CALIBRATED_EFFICIENCY, OP_CLASSES, parseHardwareProfile, type HardwareProfile } from './profile';
import { sampleLatencyGenomes } from './sampling';

const prior = getHardwareProfile('host', { fittedDir: null });
// The "device": known factors, different per precision, that calibration must recover.
const truth: HardwareProfile = parseHardwareProfile({
  ...prior,
  byPrecision: {
    fp32: {
      efficiency: { conv: 0.62, depthwise: 0.07, pointwise: 0.21, elementwise: 0.15, pooling: 0.35 },
      overheadUs: { perOpUs: 6, perInferenceUs: 250 },
    },
    int8: {
      efficiency: { conv: 0.33, depthwise: 0.04, pointwise: 0.18, elementwise: 0.09, pooling: 0.2 },
      overheadUs: { perOpUs: 14, perInferenceUs: 400 },
    },
  },
});

// Features are computed once: the fit itself works on them and is fast.
const genomes = sampleLatencyGenomes(40, 'calibration-spec', { separableProbability: 0.6 });
const features = genomes.map((g) => modelFeatures(buildIR(g), prior));
const train = features.slice(0, 24);
const test = features.slice(24);

describe('calibration', () => {
  it('recovers known efficiency factors and overheads from exact synthetic measurements', () => {
    const { profile, fits } = calibrateFromFeatures(
      prior,
      train.map((f) => ({ features: f, measuredMs: predictFeatures(truth, f) })),
      { priorWeight: 1e-8, maxIterations: 500 },
    );
    expect(fits.map((f) => f.precision).sort()).toEqual(['fp32', 'int8']);
    for (const fit of fits) {
      const want = truth.byPrecision[fit.precision]!;
      expect(fit.rmsLogError).toBeLessThan(1e-4);
      for (const c of OP_CLASSES) {
        // Every class is exercised (the sample has separable genomes and both activations).
        expect(fit.efficiency[c] / want.efficiency![c]!).toBeCloseTo(1, 2);
      }
      expect(fit.overheadUs.perOpUs / want.overheadUs!.perOpUs!).toBeCloseTo(1, 2);
      expect(fit.overheadUs.perInferenceUs / want.overheadUs!.perInferenceUs!).toBeCloseTo(1, 2);
    }
    for (const f of test) expect(predictFeatures(profile, f) / predictFeatures(truth, f)).toBeCloseTo(1, 3);
    expect(profile.calibration?.samples).toEqual({
      fp32: fits.find((f) => f.precision === 'fp32')!.samples,
      int8: fits.find((f) => f.precision === 'int8')!.samples,
    });
  });

  it('stays accurate with 5% measurement noise', () => {
    const rng = seedrandom('noise');
    const noisy = (ms: number) => ms * Math.exp(0.05 * (rng() + rng() + rng() - 1.5) * 2);
    const { profile } = calibrateFromFeatures(
      prior,
      train.map((f) => ({ features: f, measuredMs: noisy(predictFeatures(truth, f)) })),
    );
    const predicted = test.map((f) => predictFeatures(profile, f));
    const measured = test.map((f) => predictFeatures(truth, f));
    expect(fractionWithin(predicted, measured, 0.1)).toBeGreaterThanOrEqual(0.9);
    expect(kendallTau(predicted, measured)).toBeGreaterThan(0.9);
  });

  it('bounds efficiencies by MAX_CALIBRATED_EFFICIENCY and keeps unexercised classes at their prior', () => {
    const dense = features.filter((f) => f.rooflineMs.depthwise === 0 && f.precision === 'fp32').slice(0, 6);
    expect(dense.length).toBeGreaterThan(2);
    // Measurements 20x faster than the prior's roofline: efficiencies pass 1 (the machine beats the
    // stated peak) but stop at the bound.
    const { fits } = calibrateFromFeatures(
      prior,
      dense.map((f) => ({ features: f, measuredMs: 0.05 * predictFeatures(truth, f) })),
    );
    for (const c of OP_CLASSES) {
      expect(fits[0]!.efficiency[c]).toBeGreaterThan(0);
      expect(fits[0]!.efficiency[c]).toBeLessThanOrEqual(MAX_CALIBRATED_EFFICIENCY);
    }
    expect(fits[0]!.efficiency.conv).toBeGreaterThan(1);
    const exact = calibrateFromFeatures(
      prior,
      dense.map((f) => ({ features: f, measuredMs: predictFeatures(truth, f) })),
    );
    expect(exact.fits[0]!.efficiency.depthwise).toBeCloseTo(prior.efficiency.depthwise, 6);
  });

  it('keeps per-precision activation costs when it fits efficiency and overhead', () => {
    const int8 = features.filter((f) => f.precision === 'int8').slice(0, 3);
    const { profile } = calibrateFromFeatures(
      prior,
      int8.map((f) => ({ features: f, measuredMs: predictFeatures(truth, f) })),
    );
    expect(prior.byPrecision.int8?.activationPasses?.silu).toEqual({ ops: 2, bytesPerElement: 5 });
    expect(profile.byPrecision.int8?.activationPasses).toEqual(prior.byPrecision.int8?.activationPasses);
    expect(profile.byPrecision.int8?.efficiency).toBeDefined();
  });

  it('calibrates from genomes and rejects unusable samples', () => {
    const g = genomes.slice(0, 3);
    const r = calibrateProfile(
      prior,
      g.map((x) => ({ model: x, measuredMs: predictLatency(x, truth).predictedMs })),
    );
    expect(r.profile.name).toBe('host');
    expect(() => calibrateProfile(prior, [])).toThrow(/at least one/);
    expect(() => calibrateProfile(prior, [{ model: g[0], measuredMs: -1 }])).toThrow(/positive/);
  });
});
