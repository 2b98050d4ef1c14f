import { DomainError } from '@detsearch/common';
import { buildIR, parseGenome, type Genome, type ModelIR, type WeightMap } from '@detsearch/genome';
import { gather, slicePlan, type SliceSpec } from './channels';
import type { SupernetWeights } from './types';

/** A sub-network of a supernet: its genome (the supernet's classes), IR, and slices. */
export interface Subnet {
  genome: Genome;
  ir: ModelIR;
  plan: SliceSpec[];
}

/**
 * The genome as the supernet builds it: the supernet's class count (the dataset's, as the trainer
 * does). Rejects genomes the supernet does not cover (another activation, a separable row whose
 * weights it does not hold).
 */
export function subnetGenome(supernet: SupernetWeights, genome: Genome): Genome {
  if (genome.activation !== supernet.activation)
    throw new DomainError(
      'SUPERNET.GENOME_OUTSIDE',
      `genome.activation: '${genome.activation}' is not the supernet's '${supernet.activation}'`,
      'genome.activation',
    );
  const missing = genome.separable.filter((r) => !supernet.separableRows.includes(r));
  if (missing.length)
    throw new DomainError(
      'SUPERNET.GENOME_OUTSIDE',
      `genome.separable: rows ${missing.join(', ')} have no separable weights in this supernet`,
      'genome.separable',
    );
  return parseGenome({ ...genome, numClasses: supernet.largest.numClasses });
}

/** The supernet's IR with the same separable rows as `genome` (names and shapes to slice from). */
export function supernetIR(supernet: SupernetWeights, genome: Genome): ModelIR {
  return buildIR(
    parseGenome({
      ...supernet.largest,
      separable: genome.separable,
      imageSize: genome.imageSize,
      quantization: { precision: 'fp32' },
    }),
  );
}

export function subnet(supernet: SupernetWeights, genome: Genome, imageSize?: number): Subnet {
  const g = subnetGenome(supernet, genome);
  const ir = buildIR(imageSize ? { ...g, imageSize } : g);
  return { genome: g, ir, plan: slicePlan(ir, supernetIR(supernet, g)) };
}

/** The weights of any genome of the space, sliced from the supernet: an ordinary WeightMap. */
export function extractWeights(supernet: SupernetWeights, genome: Genome): WeightMap {
  return extractPlan(supernet, subnet(supernet, genome).plan);
}

export function extractPlan(supernet: SupernetWeights, plan: readonly SliceSpec[]): WeightMap {
  const out: WeightMap = new Map();
  for (const spec of plan) {
    const src = supernet.weights.get(spec.name);
    if (!src) throw new Error(`supernet: no tensor ${spec.name}`);
    out.set(spec.name, gather(spec, src));
  }
  return out;
}
