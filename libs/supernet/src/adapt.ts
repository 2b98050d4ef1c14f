import * as tf from '@tensorflow/tfjs-core';
import type { ModelIR, WeightMap } from '@detsearch/genome';
import { TfjsDetector } from '@detsearch/model-tfjs';
import {
  AdamW,
  clipScale,
  scaledLossHyp,
  SCRATCH_LOW_LOSS,
  trainableParams,
  yoloLoss,
  type Batch,
} from '@detsearch/training';

export interface AdaptOptions {
  /** Optimizer steps, one batch each (batches are reused in order when there are fewer). */
  steps: number;
  /** AdamW learning rate (default 1e-3), constant after the warm-up unless `decay`. */
  lr?: number;
  /**
   * Fraction of the steps over which the rate ramps up linearly (default 0). Adam's first steps
   * move every weight by about the rate whatever its gradient, which a trained network feels.
   */
  warmup?: number;
  /**
   * After the warm-up the rate falls linearly towards 0, the last of n steps at 1/n of it (default
   * false). The last iterate of a constant rate is one noisy point of its trajectory.
   */
  decay?: boolean;
}

/** The trainer's AdamW settings for the few adaptation steps. */
const MOMENTUM = 0.937;
const WEIGHT_DECAY = 0.0005;
const MAX_GRAD_NORM = 10;
export const DEFAULT_ADAPT_LR = 1e-3;

/**
 * A few steps of ordinary training of an extracted sub-network from its inherited weights, before it
 * is scored. Shared weights are a compromise between sub-networks: in a shallow one, a block reads
 * features the deeper networks never produced there (a head C3 has no shortcut), and its estimate
 * is low for reasons a handful of gradient steps remove. Every candidate gets the same steps on the
 * same batches, so the estimate stays a comparison of architectures. Returns new weights (BatchNorm
 * running statistics updated by the steps; recalibrate afterwards); the input map is not changed.
 */
export function adaptSubnet(
  ir: ModelIR,
  weights: WeightMap,
  batches: readonly Batch[],
  opts: AdaptOptions,
): WeightMap {
  if (opts.steps <= 0) return weights;
  if (batches.length === 0) throw new Error('adaptSubnet: no batches');
  const size = ir.input.shape.height;
  const nc = ir.genome.numClasses;
  const lr = opts.lr ?? DEFAULT_ADAPT_LR;
  const warmupSteps = Math.round(Math.min(1, Math.max(0, opts.warmup ?? 0)) * opts.steps);
  const lrAt = (step: number) =>
    step < warmupSteps
      ? (lr * (step + 1)) / (warmupSteps + 1)
      : opts.decay
        ? (lr * (opts.steps - step)) / (opts.steps - warmupSteps)
        : lr;
  const lossHyp = scaledLossHyp(nc, size, 3, SCRATCH_LOW_LOSS);
  const model = TfjsDetector.build(ir, weights);
  const params = trainableParams(model.trainableVariables());
  const byVarName = new Map(params.map((p) => [p.variable.name, p.name]));
  const optimizer = new AdamW(params);
  try {
    for (let step = 0; step < opts.steps; step++) {
      const batch = batches[step % batches.length]!;
      if (batch.imageSize !== size)
        throw new Error(`adaptSubnet: batch of ${batch.imageSize} px for a ${size} px network`);
      const x = tf.tensor4d(batch.images, [batch.size, size, size, 3]);
      const { value, grads } = tf.variableGrads(
        () => yoloLoss(model.forward(x, true), batch.targets, { numClasses: nc, hyp: lossHyp }).total,
        params.map((p) => p.variable),
      );
      const loss = value.dataSync()[0]!;
      tf.dispose([x, value]);
      if (!Number.isFinite(loss)) {
        tf.dispose(Object.values(grads));
        model.discardBatchNormUpdates();
        throw new Error(`adaptSubnet: loss is not finite at step ${step}`);
      }
      const named: Record<string, tf.Tensor> = {};
      for (const [varName, g] of Object.entries(grads)) named[byVarName.get(varName)!] = g;
      const gradScale = clipScale(named, MAX_GRAD_NORM);
      optimizer.step(named, {
        weightLr: lrAt(step),
        biasLr: lrAt(step),
        momentum: MOMENTUM,
        weightDecay: WEIGHT_DECAY,
        gradScale,
      });
      tf.dispose(Object.values(named));
      model.applyBatchNormUpdates();
    }
    return model.exportWeights();
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}
