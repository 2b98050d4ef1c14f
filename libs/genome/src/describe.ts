import { buildIR } from './build-ir';
import { modelCost, type ModelCost } from './cost';
import { parseGenome, type Genome } from './genome';
import type { BuiltRow } from './ir';
import { STANDARD_MODELS, type StandardModelName } from './yolov5-table';
import { DomainError } from '@detsearch/common';

export interface ArchitectureSummary extends ModelCost {
  genome: Genome;
  /** Raw Detect outputs, NCHW with batch 1: [1, 3 * (nc + 5), H/stride, W/stride]. */
  outputShapes: number[][];
  rows: BuiltRow[];
}

export function describeGenome(input: unknown): ArchitectureSummary {
  const genome = parseGenome(input);
  const ir = buildIR(genome);
  const cost = modelCost(ir);
  const outputShapes = ir.outputs.map((o) => {
    const s = ir.tensors[o]!;
    return [1, s.channels, s.height, s.width];
  });
  return { genome, ...cost, outputShapes, rows: ir.rows };
}

/** The genome of a published YOLOv5 scale (n, s, m, l, x). */
export function standardGenome(name: string, numClasses = 80, imageSize = 640): Genome {
  if (!(name in STANDARD_MODELS)) {
    throw new DomainError(
      'GENOME.UNKNOWN_MODEL',
      `model: unknown model '${name}'; known: ${Object.keys(STANDARD_MODELS).join(', ')}`,
      'model',
    );
  }
  const [depthMultiple, widthMultiple] = STANDARD_MODELS[name as StandardModelName];
  return parseGenome({ depthMultiple, widthMultiple, numClasses, imageSize });
}
