import type { TrainSupernetOptions, TrainSupernetResult } from './types';

/**
 * Trains a supernet with the sandwich rule (largest, smallest and random sub-networks each step),
 * in-place distillation from the largest, elastic input size; checkpoints in outDir and resumes from
 * them; runs in a child process unless `inProcess`.
 */
export async function trainSupernet(opts: TrainSupernetOptions): Promise<TrainSupernetResult> {
  throw new Error(`trainSupernet: not implemented yet (${opts.outDir})`);
}
