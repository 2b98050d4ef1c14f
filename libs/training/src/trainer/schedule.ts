/**
 * Ultralytics' optimizer hyperparameters (hyp.scratch-low.yaml) and its learning-rate schedule,
 * as pure functions of the iteration so they are trivially testable.
 */

export interface OptimizerHyp {
  /** Initial learning rate. */
  lr0: number;
  /** Final learning rate as a fraction of lr0. */
  lrf: number;
  momentum: number;
  weightDecay: number;
  /** Warm-up length in epochs (fractional allowed). */
  warmupEpochs: number;
  warmupMomentum: number;
  warmupBiasLr: number;
  /** Cosine ('one cycle') instead of linear decay. */
  cosLr: boolean;
  /** Ultralytics' --optimizer: SGD (nesterov) or AdamW (use lr0 about 1e-3). */
  optimizer: 'SGD' | 'AdamW';
  /**
   * Nominal batch size: gradients accumulate until about this many images (Ultralytics nbs 64);
   * undefined: the batch size (an optimizer step per batch, weight decay as given).
   */
  nominalBatch?: number;
}

export const SCRATCH_LOW_OPTIMIZER: Readonly<OptimizerHyp> = Object.freeze({
  lr0: 0.01,
  lrf: 0.01,
  momentum: 0.937,
  weightDecay: 0.0005,
  warmupEpochs: 3,
  warmupMomentum: 0.8,
  warmupBiasLr: 0.1,
  cosLr: false,
  optimizer: 'SGD',
  nominalBatch: 64,
});

/** LR multiplier at an epoch (train.py `lf`): linear 1 -> lrf, or cosine one-cycle 1 -> lrf. */
export function lrFactor(epoch: number, epochs: number, hyp: Pick<OptimizerHyp, 'lrf' | 'cosLr'>): number {
  if (hyp.cosLr) return ((1 - Math.cos((epoch * Math.PI) / epochs)) / 2) * (hyp.lrf - 1) + 1;
  return (1 - epoch / epochs) * (1 - hyp.lrf) + hyp.lrf;
}

/** Gradient accumulation steps and the weight decay scaled to the effective batch (train.py). */
export function accumulation(batchSize: number, hyp: Pick<OptimizerHyp, 'nominalBatch' | 'weightDecay'>) {
  const nbs = hyp.nominalBatch ?? batchSize;
  const accumulate = Math.max(Math.round(nbs / batchSize), 1);
  return { accumulate, weightDecay: (hyp.weightDecay * batchSize * accumulate) / nbs };
}

/**
 * Warm-up iterations. Ultralytics uses max(warmup_epochs * batches, 100); that would swallow a whole
 * short run, so here it is capped at a third of all iterations.
 */
export function warmupIterations(
  batchesPerEpoch: number,
  epochs: number,
  hyp: Pick<OptimizerHyp, 'warmupEpochs'>,
): number {
  const total = batchesPerEpoch * epochs;
  const nw = Math.max(Math.round(hyp.warmupEpochs * batchesPerEpoch), Math.min(100, total));
  return Math.min(nw, Math.floor(total / 3));
}

export interface StepSettings {
  /** Learning rate for biases (BN beta and conv/Detect biases). */
  biasLr: number;
  /** Learning rate for weights (conv weights and BN gamma). */
  weightLr: number;
  momentum: number;
}

/**
 * Learning rates and momentum at global iteration `ni` of epoch `epoch`: during warm-up the bias lr
 * falls from warmup_bias_lr and the other lrs rise from 0 to lr0 * lf(epoch), and momentum rises from
 * warmup_momentum (np.interp over [0, nw]); afterwards lr0 * lf(epoch) for all.
 */
export function stepSettings(
  ni: number,
  nw: number,
  epoch: number,
  epochs: number,
  hyp: OptimizerHyp,
): StepSettings {
  const lr = hyp.lr0 * lrFactor(epoch, epochs, hyp);
  if (nw <= 0 || ni > nw) return { biasLr: lr, weightLr: lr, momentum: hyp.momentum };
  const f = Math.min(Math.max(ni / nw, 0), 1);
  const interp = (a: number, b: number) => a + (b - a) * f;
  return {
    biasLr: interp(hyp.warmupBiasLr, lr),
    weightLr: interp(0, lr),
    momentum: interp(hyp.warmupMomentum, hyp.momentum),
  };
}
