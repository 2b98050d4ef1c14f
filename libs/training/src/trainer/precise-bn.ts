import * as tf from '@tensorflow/tfjs-core';
import type { ModelIR, WeightMap } from '@detsearch/genome';
import { TfjsDetector } from '@detsearch/model-tfjs';
import type { Batch } from '../dataset/pipeline';

/**
 * Precise BatchNorm (Detectron's PreciseBN): recomputes every BatchNorm's running mean and variance
 * for the given weights as the plain average of batch statistics over a few training batches.
 *
 * Why: running statistics follow the weights with momentum 0.03 per batch, and the EMA averages them
 * again; over the thousands of iterations of a full Ultralytics run that lag vanishes, but over a short
 * trial it does not, and evaluation (and the ONNX export, which folds BatchNorm) would use statistics
 * of weights long gone. Forward passes only: a few batches cost less than one training step each.
 *
 * The detector folds batch statistics in with its IR's momentum, so momentum 1/(i+1) at batch i
 * makes the running value the cumulative mean.
 */
export async function preciseBatchNorm(
  ir: ModelIR,
  weights: WeightMap,
  batches: AsyncIterable<Batch>,
  maxBatches: number,
): Promise<WeightMap> {
  const local: ModelIR = structuredClone(ir);
  const model = TfjsDetector.build(local, weights);
  try {
    let i = 0;
    for await (const batch of batches) {
      if (i >= maxBatches) break;
      for (const op of local.ops) if (op.kind === 'batchnorm') op.momentum = 1 / (i + 1);
      tf.tidy(() => {
        const x = tf.tensor4d(batch.images, [batch.size, batch.imageSize, batch.imageSize, 3]);
        tf.dispose(model.forward(x, true));
      });
      model.applyBatchNormUpdates();
      i++;
    }
    return model.exportWeights();
  } finally {
    model.dispose();
  }
}
