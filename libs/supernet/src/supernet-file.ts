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

/** Format tag of a file holding one weight set per training image size (saveSupernetSets). */
export const SUPERNET_SETS_FORMAT = 'detsearch-supernet-sets/1';

/** The tensor name prefix of the weight set of one image size in a per-size file. */
const setPrefix = (imageSize: number) => `${imageSize}px/`;

/**
 * Writes one weight set per training image size into one file (one artifact to store, fetch and
 * hash): each set's tensors under `<size>px/<canonical name>`. Every set has the same largest
 * genome, separable rows and activation.
 */
export function saveSupernetSets(
  path: string,
  sets: ReadonlyArray<{ imageSize: number; supernet: SupernetWeights }>,
  metadata: Record<string, string> = {},
): number {
  if (sets.length === 0) throw new Error('saveSupernetSets: no weight set');
  const weights: WeightMap = new Map();
  const shapes = new Map<string, number[]>();
  for (const { imageSize, supernet } of sets) {
    const prefix = setPrefix(imageSize);
    for (const [name, w] of supernet.weights) weights.set(prefix + name, w);
    for (const [name, shape] of supernet.shapes) shapes.set(prefix + name, shape);
  }
  const first = sets[0]!.supernet;
  return saveWeights(path, weights, {
    shapes,
    metadata: {
      ...metadata,
      format: SUPERNET_SETS_FORMAT,
      imageSizes: JSON.stringify(sets.map((s) => s.imageSize)),
      largest: JSON.stringify(first.largest),
      separableRows: JSON.stringify(first.separableRows),
      activation: first.activation,
    },
  });
}

/** A supernet file as read: one shared weight set, or one per training image size. */
export interface SupernetFile {
  /** Set per trained image size, ascending; a shared file has one entry, keyed by null. */
  sets: Array<{ imageSize: number | null; supernet: SupernetWeights }>;
  metadata: Record<string, string>;
}

/** Reads a supernet file of either format. */
export function readSupernetFile(path: string): SupernetFile {
  const file = loadWeights(path);
  const format = file.metadata.format;
  if (format !== SUPERNET_FORMAT && format !== SUPERNET_SETS_FORMAT)
    throw new Error(`${path}: not a supernet file (format '${format ?? 'none'}')`);
  const base = {
    largest: parseGenome(JSON.parse(file.metadata.largest!)),
    separableRows: JSON.parse(file.metadata.separableRows!) as number[],
    activation: file.metadata.activation as Activation,
  };
  if (format === SUPERNET_FORMAT)
    return {
      sets: [{ imageSize: null, supernet: { ...base, weights: file.weights, shapes: file.shapes } }],
      metadata: file.metadata,
    };
  const sizes = (JSON.parse(file.metadata.imageSizes!) as number[]).sort((a, b) => a - b);
  const sets = sizes.map((imageSize) => {
    const prefix = setPrefix(imageSize);
    const weights: WeightMap = new Map();
    const shapes = new Map<string, number[]>();
    for (const [name, w] of file.weights)
      if (name.startsWith(prefix)) weights.set(name.slice(prefix.length), w);
    for (const [name, shape] of file.shapes)
      if (name.startsWith(prefix)) shapes.set(name.slice(prefix.length), shape);
    if (weights.size === 0) throw new Error(`${path}: no weights for ${imageSize} px`);
    return { imageSize, supernet: { ...base, weights, shapes } };
  });
  return { sets, metadata: file.metadata };
}

/**
 * The weight set that scores genomes at `imageSize`: the shared one, else the set trained at the
 * nearest size (the larger on a tie: a set generalizes down better than up).
 */
export function supernetForSize(file: SupernetFile, imageSize: number): SupernetWeights {
  let best = file.sets[0]!;
  for (const s of file.sets) {
    if (s.imageSize === null) return s.supernet;
    const d = Math.abs(s.imageSize - imageSize);
    const bd = Math.abs(best.imageSize! - imageSize);
    if (d < bd || (d === bd && s.imageSize > best.imageSize!)) best = s;
  }
  return best.supernet;
}

/**
 * Reads a supernet: a shared file as it is; of a per-size file, the set for `imageSize`
 * (supernetForSize), by default the largest size's.
 */
export function loadSupernet(
  path: string,
  options: { imageSize?: number } = {},
): SupernetWeights & { metadata: Record<string, string> } {
  const file = readSupernetFile(path);
  const size = options.imageSize ?? Math.max(...file.sets.map((s) => s.imageSize ?? 0));
  return { ...supernetForSize(file, size), metadata: file.metadata };
}
