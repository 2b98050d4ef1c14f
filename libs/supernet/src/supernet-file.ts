import { initWeights, parseGenome, type Activation, type Genome, type WeightMap } from '@detsearch/genome';
import { loadWeights, saveWeights } from '@detsearch/model-onnx';
import { supernetParameterShapes, supernetVariants } from './importance';
import type { SupernetWeights } from './types';

/** Seeded initial supernet: the trainer's initialization of every tensor of every variant. */
export function initSupernet(
  largest: Genome,
  separableRows: number[],
  options: { seed?: number; randomizeBatchNorm?: boolean } = {},
): SupernetWeights {
  const base = {
    largest: parseGenome({ ...largest, separable: [] }),
    separableRows: [...separableRows].sort((a, b) => a - b),
  };
  const irs = supernetVariants(base);
  const weights: WeightMap = new Map();
  for (const ir of irs) {
    for (const [name, w] of initWeights(ir, {
      seed: options.seed ?? 0,
      randomizeBatchNorm: options.randomizeBatchNorm,
    }))
      if (!weights.has(name)) weights.set(name, w);
  }
  return {
    ...base,
    activation: base.largest.activation as Activation,
    weights,
    shapes: supernetParameterShapes(irs),
  };
}

/** Format tag in the file's metadata. */
export const SUPERNET_FORMAT = 'detsearch-supernet/1';

/** Writes a supernet as safetensors (tensors under their canonical names) with its genome in the metadata. */
export function saveSupernet(
  path: string,
  supernet: SupernetWeights,
  metadata: Record<string, string> = {},
): number {
  return saveWeights(path, supernet.weights, {
    shapes: supernet.shapes,
    metadata: {
      ...metadata,
      format: SUPERNET_FORMAT,
      largest: JSON.stringify(supernet.largest),
      separableRows: JSON.stringify(supernet.separableRows),
      activation: supernet.activation,
    },
  });
}

export function loadSupernet(path: string): SupernetWeights & { metadata: Record<string, string> } {
  const file = loadWeights(path);
  if (file.metadata.format !== SUPERNET_FORMAT)
    throw new Error(`${path}: not a supernet file (format '${file.metadata.format ?? 'none'}')`);
  return {
    largest: parseGenome(JSON.parse(file.metadata.largest!)),
    separableRows: JSON.parse(file.metadata.separableRows!) as number[],
    activation: file.metadata.activation as Activation,
    weights: file.weights,
    shapes: file.shapes,
    metadata: file.metadata,
  };
}
