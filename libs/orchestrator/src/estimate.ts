import { buildIR, modelCost, type Genome } from '@detsearch/genome';
import type { SearchFidelity } from '@detsearch/persistence';
import {
  compileSearchSpace,
  type Dimension,
  type Params,
  type SearchSpaceSpec,
} from '@detsearch/search-space';
import { rungEpochs } from './asha';

/**
 * How fast this machine trains, measured (a short probe, or real trials' rates stored after them).
 * Seconds per training image of a model of `g` forward GFLOPs at its training size are modelled as
 * `secondsPerImage * (OVERHEAD_GFLOPS + g) / (OVERHEAD_GFLOPS + gflops)`: proportional to the work,
 * plus a per-image cost (data, loss, small-kernel dispatch) that dominates tiny models.
 */
export interface TrainingThroughput {
  /** Forward GFLOPs per image of the measured model at its training size. */
  gflops: number;
  /** Measured seconds per training image (forward + backward + update) of that model, one process. */
  secondsPerImage: number;
  /** Where the number comes from, e.g. "probe on wasm, 2026-12-04" or "12 trials of this host". */
  source: string;
}

/**
 * A per-image cost expressed in GFLOPs, fit on this project's measurements (bench:train's
 * yolov5n-scale model at 160 px: 13.9 images/s; width-0.125 models at 96 px: about 25 images/s).
 */
export const OVERHEAD_GFLOPS = 0.08;
/** Process start, dataset read, BatchNorm re-estimation, ONNX export, scoring and latency measurement. */
export const FULL_TRIAL_OVERHEAD_SECONDS = 15;
/** The surrogate evaluator computes a formula; what remains is storing the trial (embedded database). */
export const SURROGATE_TRIAL_SECONDS = 0.5;
/** A validation image costs a forward pass, about a third of a training step. */
const VALIDATION_FRACTION = 1 / 3;
/**
 * A supernet candidate (extraction, BatchNorm recalibration on 256 images, export, mAP on the val
 * images, latency) costs about as much as training this many images: 4.3 s measured on the
 * benchmark space at 0.13 s per training image.
 */
export const SUPERNET_CANDIDATE_IMAGES = 33;
/**
 * An adaptation step is a forward and backward pass of 8 images without augmentation or loader:
 * about half of 8 training images (0.39-0.49 s measured against 0.13 s per training image).
 */
export const ADAPT_STEP_IMAGES = 4;

/** What a supernet search spends besides its candidates: the supernet, the final stage. */
export interface SupernetPlan {
  /** Supernet training before the first candidate: 0 when a ready one matches. */
  trainSeconds: number;
  adaptSteps: number;
  fineTune: { topK: number; epochs: number; seeds: number };
}

export interface EstimateInput {
  evaluator: string;
  trials: number;
  fidelity: SearchFidelity;
  searchSpace: SearchSpaceSpec;
  /** Trials evaluated at once (bounded by the cores that can train). */
  parallel: number;
  trainImages: number;
  valImages: number;
  /** Required for the training evaluators; ignored by the surrogate. */
  throughput?: TrainingThroughput;
  /** Extra time the surrogate spends per trial (DETSEARCH_SURROGATE_MS), in seconds. */
  surrogateSeconds?: number;
  /**
   * The most trials that train: genomes sharing a training (the evaluator's training key) are
   * scored on its weights at the per-trial overhead only. Default: every trial trains.
   */
  trainings?: number;
  /** Evaluator 'supernet': its supernet training, adaptation steps and final stage. */
  supernet?: SupernetPlan;
}

export interface DurationEstimate {
  /** Expected wall-clock seconds of the whole search, with ASHA's expected pruning. */
  seconds: number;
  /** Expected seconds of one trial (its expected epochs plus the per-trial overhead). */
  perTrialSeconds: number;
  trials: number;
  /** One sentence: what the estimate rests on. */
  basis: string;
  /** Seconds of one full epoch of a typical model (training + validation). */
  perEpochSeconds: number;
  /** Every trial trained to the full budget of epochs (no pruning). */
  maxSeconds: number;
  /** Expected epochs per trial under ASHA. */
  expectedEpochs: number;
  parallel: number;
  /** Mean forward GFLOPs of the search space's models at the training image size. */
  typicalGflops: number;
}

/**
 * Expected epochs a trial trains under ASHA: every trial reaches the first rung, about 1/eta of
 * those the next, and so on up to the full budget.
 */
export function expectedEpochsPerTrial(f: SearchFidelity): number {
  const eta = f.eta ?? 3;
  const stops = [...rungEpochs(f), f.epochs];
  let total = 0;
  let previous = 0;
  stops.forEach((epoch, k) => {
    total += (epoch - previous) / eta ** k;
    previous = epoch;
  });
  return total;
}

/** A small deterministic generator: the estimate must not change between two calls. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function sampleValue(d: Dimension, r: () => number): number | string | boolean {
  switch (d.type) {
    case 'float':
      return d.low + r() * (d.high - d.low);
    case 'int': {
      const step = d.step ?? 1;
      return d.low + step * Math.floor(r() * (Math.floor((d.high - d.low) / step) + 1));
    }
    case 'ordinal':
      return d.values[Math.floor(r() * d.values.length)]!;
    case 'categorical':
      return d.choices[Math.floor(r() * d.choices.length)]!;
    case 'boolean':
      return r() < 0.5;
  }
}

/** Mean forward GFLOPs of models drawn from the space, at `imageSize` when training uses a fixed one. */
export function typicalGflops(spec: SearchSpaceSpec, imageSize?: number, samples = 24): number {
  const space = compileSearchSpace(spec);
  const r = lcg(12345);
  let sum = 0;
  for (let i = 0; i < samples; i++) {
    const params: Params = {};
    for (const d of space.dimensions) params[d.name] = sampleValue(d, r);
    const genome = space.decode(params);
    sum += modelCost(buildIR(imageSize ? { ...genome, imageSize } : genome)).gflops;
  }
  return sum / samples;
}

/**
 * How many distinct trainings the space holds, by the evaluator's training key: every genome of a
 * discrete space up to `limit` genomes; undefined when the space is larger or continuous.
 */
export function distinctTrainings(
  spec: SearchSpaceSpec,
  keyOf: (genome: Genome) => string,
  limit = 4096,
): number | undefined {
  const space = compileSearchSpace(spec);
  const choices: (number | string | boolean)[][] = [];
  for (const d of space.dimensions) {
    if (d.type === 'ordinal') choices.push([...d.values]);
    else if (d.type === 'categorical') choices.push([...d.choices]);
    else if (d.type === 'boolean') choices.push([false, true]);
    else if (d.type === 'int' && (d.high - d.low) / (d.step ?? 1) < 64) {
      const step = d.step ?? 1;
      const values: number[] = [];
      for (let v = d.low; v <= d.high; v += step) values.push(v);
      choices.push(values);
    } else return undefined;
  }
  if (choices.reduce((n, c) => n * c.length, 1) > limit) return undefined;
  const keys = new Set<string>();
  const params: Params = {};
  const walk = (i: number): void => {
    if (i === choices.length) {
      keys.add(keyOf(space.decode(params)));
      return;
    }
    for (const v of choices[i]!) {
      params[space.dimensions[i]!.name] = v;
      walk(i + 1);
    }
  };
  walk(0);
  return keys.size;
}

/** Seconds per training image of a model of `gflops`, from a throughput measured on another. */
export function secondsPerImage(t: TrainingThroughput, gflops: number): number {
  return (t.secondsPerImage * (OVERHEAD_GFLOPS + gflops)) / (OVERHEAD_GFLOPS + t.gflops);
}

export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 48 * 3600) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} days`;
}

/**
 * The duration of a search before it starts, from its budget, fidelity, search space, dataset size
 * and this machine's measured training throughput. Pure: the caller measures and counts.
 */
export function estimateSearchDuration(input: EstimateInput): DurationEstimate {
  const trials = input.trials;
  const parallel = Math.max(1, Math.min(input.parallel, trials));
  const expectedEpochs = expectedEpochsPerTrial(input.fidelity);
  if (input.evaluator === 'surrogate') {
    const perTrialSeconds = SURROGATE_TRIAL_SECONDS + (input.surrogateSeconds ?? 0);
    const seconds = Math.ceil(trials / parallel) * perTrialSeconds;
    return {
      seconds,
      perTrialSeconds,
      trials,
      basis: 'surrogate evaluator: an analytic formula, no training (near-instant per trial)',
      perEpochSeconds: 0,
      maxSeconds: seconds,
      expectedEpochs,
      parallel,
      typicalGflops: 0,
    };
  }
  const t = input.throughput;
  if (!t) throw new Error('estimateSearchDuration: the training evaluators need a measured throughput');
  const gflops = typicalGflops(input.searchSpace, input.fidelity.imageSize);
  const perImage = secondsPerImage(t, gflops);
  const perEpochSeconds = perImage * (input.trainImages + VALIDATION_FRACTION * input.valImages);
  const throughputText = `throughput ${(1 / t.secondsPerImage).toFixed(1)} img/s at ${t.gflops.toFixed(2)} GFLOPs (${t.source})`;
  if (input.evaluator === 'supernet' && input.supernet)
    return supernetEstimate(input, input.supernet, perImage, perEpochSeconds, gflops, throughputText);
  const perTrialSeconds = FULL_TRIAL_OVERHEAD_SECONDS + expectedEpochs * perEpochSeconds;
  const trainings = Math.min(trials, input.trainings ?? trials);
  // Trainings run `parallel` at a time; the trials that reuse one cost their export and scoring.
  const reuseSeconds = ((trials - trainings) * FULL_TRIAL_OVERHEAD_SECONDS) / parallel;
  const waves = Math.max(1, trainings / parallel);
  const seconds = waves * perTrialSeconds + reuseSeconds;
  const maxSeconds =
    waves * (FULL_TRIAL_OVERHEAD_SECONDS + input.fidelity.epochs * perEpochSeconds) + reuseSeconds;
  const basis =
    (trainings < trials
      ? `${trainings} trainings shared by ${trials} trials (the others differ only in input size or precision) x `
      : `${trials} trials x `) +
    `${expectedEpochs.toFixed(1)} expected epochs (ASHA, up to ${input.fidelity.epochs}) ` +
    `x ${input.trainImages} training images, models of ~${gflops.toFixed(2)} GFLOPs, ${parallel} at a time; ` +
    throughputText;
  return {
    seconds,
    perTrialSeconds,
    trials,
    basis,
    perEpochSeconds,
    maxSeconds,
    expectedEpochs,
    parallel,
    typicalGflops: gflops,
  };
}

/**
 * A supernet search: its supernet's training (none when a ready one matches; the sizes' weight
 * sets train at once within its budget), its candidates scored `parallel` at a time (a scoring
 * process each), then the final stage's fine-tunings, `parallel` at a time. No ASHA: a candidate
 * is scored once.
 */
function supernetEstimate(
  input: EstimateInput,
  plan: SupernetPlan,
  perImage: number,
  perEpochSeconds: number,
  gflops: number,
  throughputText: string,
): DurationEstimate {
  const trials = input.trials;
  const parallel = Math.max(1, input.parallel);
  const perTrialSeconds = perImage * (SUPERNET_CANDIDATE_IMAGES + plan.adaptSteps * ADAPT_STEP_IMAGES);
  const finalists = Math.min(trials, plan.fineTune.topK);
  const fineTunes = finalists * plan.fineTune.seeds;
  // Finalists train at once, each its seeds one after another.
  const fineTuneSeconds =
    Math.ceil(finalists / parallel) *
    plan.fineTune.seeds *
    (FULL_TRIAL_OVERHEAD_SECONDS + plan.fineTune.epochs * perEpochSeconds);
  const seconds = plan.trainSeconds + Math.ceil(trials / parallel) * perTrialSeconds + fineTuneSeconds;
  const atOnce = parallel === 1 ? 'one at a time' : `${parallel} at a time`;
  const basis =
    (plan.trainSeconds > 0
      ? `supernet training ${(plan.trainSeconds / 60).toFixed(0)} min + `
      : 'a ready supernet (no training) + ') +
    `${trials} candidates x ~${perTrialSeconds.toFixed(1)} s scored ${atOnce} (${plan.adaptSteps} adaptation steps each) + ` +
    `${fineTunes} fine-tunings x ${plan.fineTune.epochs} epochs of ${input.trainImages} training images (${atOnce}); ` +
    `models of ~${gflops.toFixed(2)} GFLOPs, ${throughputText}`;
  return {
    seconds,
    perTrialSeconds,
    trials,
    basis,
    // Trials report no epochs (only the final stage trains): nothing to refine the ETA with.
    perEpochSeconds: 0,
    maxSeconds: seconds,
    expectedEpochs: 0,
    parallel,
    typicalGflops: gflops,
  };
}

/**
 * The ETA once a trial has trained its first epoch: the estimate's remaining time scaled by how
 * much slower (or faster) that epoch was than predicted.
 */
export function refineEta(
  estimate: Pick<DurationEstimate, 'seconds' | 'perEpochSeconds'>,
  observedFirstEpochSeconds: number,
  elapsedSeconds: number,
): number {
  if (!(estimate.perEpochSeconds > 0) || !(observedFirstEpochSeconds > 0))
    return Math.max(0, estimate.seconds - elapsedSeconds);
  // The first epoch also carries the trial's start-up (process, dataset): count half the overhead.
  const predicted = estimate.perEpochSeconds + FULL_TRIAL_OVERHEAD_SECONDS / 2;
  const ratio = observedFirstEpochSeconds / predicted;
  return Math.max(0, estimate.seconds * ratio - elapsedSeconds);
}

/**
 * A reference measurement for listings made before this machine has measured anything: bench:train's
 * yolov5n-scale model (depth 0.33, width 0.25, 6 classes) at 160 px, 13.9 images/s on one core of the
 * project's 2-core development machine. Launches measure instead (a probe, then real trials).
 */
export const REFERENCE_THROUGHPUT: TrainingThroughput = {
  gflops: 0.259,
  secondsPerImage: 1 / 13.9,
  source: 'reference: bench:train on a 2-core machine, not measured here',
};
