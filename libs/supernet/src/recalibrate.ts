import { buildIR, parseGenome, type Genome, type WeightMap } from '@detsearch/genome';
import { preciseBatchNorm, type Batch } from '@detsearch/training';
import type { ImageBatch } from './types';

/**
 * BatchNorm recalibration of a sub-network (Once-for-All): its running statistics are sliced from the
 * largest network's, which describe other activations; replace them with the plain average of batch
 * statistics over a few hundred training images (forward passes only). Returns new weights; the
 * input map is not changed.
 */
export async function recalibrateBatchNorm(
  weights: WeightMap,
  genome: Genome,
  images: readonly ImageBatch[],
): Promise<WeightMap> {
  if (images.length === 0) throw new Error('recalibrateBatchNorm: no images');
  const g = parseGenome({ ...genome, imageSize: images[0]!.imageSize });
  const ir = buildIR(g);
  async function* batches(): AsyncGenerator<Batch> {
    for (const b of images) {
      if (b.imageSize !== images[0]!.imageSize) throw new Error('recalibrateBatchNorm: mixed image sizes');
      yield b as Batch;
    }
  }
  return preciseBatchNorm(ir, weights, batches(), images.length);
}
