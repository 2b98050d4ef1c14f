import { describe, expect, it } from 'vitest';
import { getPreset, loadDefaultSearchSpace, presetSearchSpace } from '@detsearch/latency';
import { fullTrainingKey } from './evaluators/full';
import {
  distinctTrainings,
  estimateSearchDuration,
  expectedEpochsPerTrial,
  formatDuration,
  FULL_TRIAL_OVERHEAD_SECONDS,
  refineEta,
  secondsPerImage,
  SUPERNET_CANDIDATE_IMAGES,
  ADAPT_STEP_IMAGES,
  typicalGflops,
  type EstimateInput,
} from './estimate';

const quickDemo = presetSearchSpace(getPreset('quick-demo'), loadDefaultSearchSpace());
const throughput = { gflops: 0.26, secondsPerImage: 0.072, source: 'test' };
const base: EstimateInput = {
  evaluator: 'full',
  trials: 8,
  fidelity: { epochs: 2, minEpochs: 1, eta: 3, imageSize: 128 },
  searchSpace: quickDemo,
  parallel: 2,
  trainImages: 192,
  valImages: 48,
  throughput,
};

describe('search duration estimate', () => {
  it('counts the epochs ASHA is expected to train: all reach the first rung, 1/eta the next', () => {
    expect(expectedEpochsPerTrial({ epochs: 2, minEpochs: 1, eta: 3 })).toBeCloseTo(1 + 1 / 3);
    // rungs 5, 15 below 30: 5 + 10/3 + 15/9
    expect(expectedEpochsPerTrial({ epochs: 30, minEpochs: 5, eta: 3 })).toBeCloseTo(5 + 10 / 3 + 15 / 9);
    // no pruning: minEpochs = epochs
    expect(expectedEpochsPerTrial({ epochs: 9, minEpochs: 9, eta: 3 })).toBe(9);
  });

  it('is the per-trial time times the waves of parallel trials', () => {
    const e = estimateSearchDuration(base);
    expect(e.trials).toBe(8);
    expect(e.perTrialSeconds).toBeCloseTo(FULL_TRIAL_OVERHEAD_SECONDS + e.expectedEpochs * e.perEpochSeconds);
    expect(e.seconds).toBeCloseTo((8 / 2) * e.perTrialSeconds);
    expect(e.maxSeconds).toBeGreaterThan(e.seconds);
    expect(e.basis).toMatch(/8 trials .* 192 training images.* 2 at a time/);
  });

  it('a supernet search: its supernet, each candidate scored once (`parallel` at a time), then the final stage', () => {
    const supernet = { trainSeconds: 600, adaptSteps: 10, fineTune: { topK: 3, epochs: 5, seeds: 1 } };
    const input = {
      ...base,
      evaluator: 'supernet',
      trials: 60,
      fidelity: { ...base.fidelity, epochs: 5 },
      supernet,
    };
    expect(input.parallel).toBe(2);
    const e = estimateSearchDuration(input);
    const full = estimateSearchDuration({ ...input, evaluator: 'full' });
    const perImage = secondsPerImage(throughput, typicalGflops(quickDemo, 128));
    expect(e.perTrialSeconds).toBeCloseTo(perImage * (SUPERNET_CANDIDATE_IMAGES + 10 * ADAPT_STEP_IMAGES));
    const fineTune = FULL_TRIAL_OVERHEAD_SECONDS + 5 * full.perEpochSeconds;
    // 60 candidates two at a time; 3 finalists two at a time: two rounds.
    expect(e.seconds).toBeCloseTo(600 + 30 * e.perTrialSeconds + 2 * fineTune);
    expect(e.maxSeconds).toBe(e.seconds);
    expect(e.parallel).toBe(2);
    expect(e.basis).toMatch(
      /^supernet training 10 min \+ 60 candidates .* scored 2 at a time \(10 adaptation steps each\) \+ 3 fine-tunings x 5 epochs/,
    );
    // One at a time: every candidate and fine-tuning in turn.
    const serial = estimateSearchDuration({ ...input, parallel: 1 });
    expect(serial.seconds).toBeCloseTo(600 + 60 * e.perTrialSeconds + 3 * fineTune);
    expect(serial.basis).toMatch(/scored one at a time/);
    // Two seeds: each finalist's seeds one after another.
    const twoSeeds = estimateSearchDuration({
      ...input,
      supernet: { ...supernet, fineTune: { ...supernet.fineTune, seeds: 2 } },
    });
    expect(twoSeeds.seconds - e.seconds).toBeCloseTo(2 * fineTune);
    // A ready supernet costs no training; fewer candidates than finalists fine-tune only those.
    const ready = estimateSearchDuration({ ...input, trials: 2, supernet: { ...supernet, trainSeconds: 0 } });
    expect(ready.basis).toMatch(/^a ready supernet \(no training\) \+ 2 candidates .* 2 fine-tunings/);
    expect(ready.seconds).toBeCloseTo(ready.perTrialSeconds + fineTune);
  });

  it('charges shared trainings once: the trials that reuse one cost their export and scoring only', () => {
    const long = { ...base, fidelity: { epochs: 8, minEpochs: 8, imageSize: 160 } };
    const all = estimateSearchDuration({ ...long, trials: 12 });
    const shared = estimateSearchDuration({ ...long, trials: 12, trainings: 2 });
    expect(shared.seconds).toBeCloseTo(
      (2 / 2) * shared.perTrialSeconds + (10 * FULL_TRIAL_OVERHEAD_SECONDS) / 2,
    );
    expect(shared.seconds).toBeLessThan(all.seconds / 3);
    expect(shared.basis).toMatch(/^2 trainings shared by 12 trials/);
    // never more trainings than trials
    expect(estimateSearchDuration({ ...base, trainings: 50 }).seconds).toBeCloseTo(
      estimateSearchDuration(base).seconds,
    );
  });

  it('counts the distinct trainings of a discrete space by the evaluator key', () => {
    const fidelity = { epochs: 7, imageSize: 160 };
    const space = {
      ...quickDemo,
      widthMultiple: { type: 'ordinal' as const, values: [0.1875, 0.25] },
      imageSize: { type: 'ordinal' as const, values: [96, 128, 160] },
      quantization: {
        type: 'categorical' as const,
        choices: ['fp32' as const, 'int8-static-per-channel' as const],
      },
    };
    // 2 widths x 3 input sizes x 2 precisions, trained at one size: 2 trainings
    expect(distinctTrainings(space, (g) => fullTrainingKey(g, fidelity))).toBe(2);
    // trained at each genome's own size, input size no longer shares: 2 widths x 3 sizes
    expect(distinctTrainings(space, (g) => fullTrainingKey(g, { epochs: 7 }))).toBe(6);
    // the default search trains once
    expect(distinctTrainings(quickDemo, (g) => fullTrainingKey(g, fidelity))).toBe(1);
    // too many genomes to enumerate: unknown
    expect(
      distinctTrainings(loadDefaultSearchSpace(), (g) => fullTrainingKey(g, fidelity), 100),
    ).toBeUndefined();
  });

  it('grows with trials, epochs, images and model size, and shrinks with parallel trials and throughput', () => {
    const s = estimateSearchDuration(base).seconds;
    expect(estimateSearchDuration({ ...base, trials: 16 }).seconds).toBeCloseTo(2 * s);
    expect(
      estimateSearchDuration({ ...base, fidelity: { ...base.fidelity, epochs: 9 } }).seconds,
    ).toBeGreaterThan(s);
    expect(estimateSearchDuration({ ...base, trainImages: 1920 }).seconds).toBeGreaterThan(3 * s);
    expect(
      estimateSearchDuration({ ...base, fidelity: { ...base.fidelity, imageSize: 320 } }).seconds,
    ).toBeGreaterThan(s);
    expect(estimateSearchDuration({ ...base, parallel: 1 }).seconds).toBeCloseTo(2 * s);
    expect(
      estimateSearchDuration({ ...base, throughput: { ...throughput, secondsPerImage: 0.036 } }).seconds,
    ).toBeLessThan(s);
  });

  it('flags the long device presets: days, not minutes, at their default budgets', () => {
    const pi = getPreset('raspberry-pi-4-realtime');
    const e = estimateSearchDuration({
      ...base,
      trials: pi.budget.trials,
      fidelity: { epochs: pi.fidelity.epochs, minEpochs: pi.fidelity.minEpochs, eta: 3 },
      searchSpace: presetSearchSpace(pi, loadDefaultSearchSpace()),
    });
    expect(e.seconds).toBeGreaterThan(3600 * 5);
    expect(formatDuration(e.seconds)).toMatch(/h|days/);
    expect(estimateSearchDuration(base).seconds).toBeLessThan(3600);
  });

  it('is near zero for the surrogate, which trains nothing', () => {
    const e = estimateSearchDuration({ ...base, evaluator: 'surrogate', trials: 100, throughput: undefined });
    expect(e.perTrialSeconds).toBeLessThan(1);
    expect(e.basis).toMatch(/surrogate/);
  });

  it('needs a throughput for training evaluators', () => {
    expect(() => estimateSearchDuration({ ...base, throughput: undefined })).toThrow(/throughput/);
  });

  it('scales per-image time with model size around a fixed per-image cost', () => {
    expect(secondsPerImage(throughput, throughput.gflops)).toBeCloseTo(throughput.secondsPerImage);
    const tiny = secondsPerImage(throughput, 0.01);
    expect(tiny).toBeLessThan(throughput.secondsPerImage);
    expect(tiny).toBeGreaterThan(throughput.secondsPerImage * (0.01 / 0.26)); // not proportional: overhead
  });

  it('measures the typical model of a space at the training size, deterministically', () => {
    const g128 = typicalGflops(quickDemo, 128);
    expect(typicalGflops(quickDemo, 128)).toBe(g128);
    expect(typicalGflops(quickDemo, 256)).toBeCloseTo(4 * g128, 1);
  });

  it('refines the ETA from the first epoch: slower than predicted means later', () => {
    const e = estimateSearchDuration(base);
    const predictedFirst = e.perEpochSeconds + FULL_TRIAL_OVERHEAD_SECONDS / 2;
    expect(refineEta(e, predictedFirst, 10)).toBeCloseTo(e.seconds - 10);
    expect(refineEta(e, 2 * predictedFirst, 10)).toBeCloseTo(2 * e.seconds - 10);
    expect(refineEta(e, predictedFirst, e.seconds + 5)).toBe(0);
  });

  it('formats durations for people', () => {
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(600)).toBe('10 min');
    expect(formatDuration(5 * 3600)).toBe('5.0 h');
    expect(formatDuration(3 * 86400)).toBe('3.0 days');
  });
});
