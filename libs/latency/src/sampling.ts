import seedrandom from 'seedrandom';
import { SEPARABLE_ROWS, parseGenome, type Activation, type Genome, type Precision } from '@detsearch/genome';

export interface GenomeSamplingOptions {
  depthMultiples?: number[];
  widthMultiples?: number[];
  imageSizes?: number[];
  precisions?: Precision[];
  activations?: Activation[];
  /** Chance that a genome has separable layers at all; each allowed row is then picked with p = 0.5. */
  separableProbability?: number;
  numClasses?: number;
  /**
   * Cycle precision x activation instead of drawing them, so a small calibration set holds every
   * combination equally often (each precision is fitted on its own share of the samples).
   */
  balanced?: boolean;
}

/**
 * Random genomes spanning the axes latency depends on (size, resolution, precision, separable
 * rows, activation), for calibrating and checking a profile. Small defaults keep a host run short.
 */
export function sampleLatencyGenomes(
  count: number,
  seed: string | number,
  options: GenomeSamplingOptions = {},
): Genome[] {
  const rng = seedrandom(String(seed));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
  const depths = options.depthMultiples ?? [0.33, 0.5, 0.67];
  const widths = options.widthMultiples ?? [0.125, 0.1875, 0.25, 0.375, 0.5];
  const sizes = options.imageSizes ?? [96, 128, 160, 192, 224];
  const precisions = options.precisions ?? ['fp32', 'int8'];
  const activations = options.activations ?? ['silu', 'relu'];
  const pSeparable = options.separableProbability ?? 0.5;
  const genomes: Genome[] = [];
  const combos = precisions.flatMap((p) => activations.map((a) => [p, a] as const));
  for (let i = 0; i < count; i++) {
    // Unbalanced draws keep their original order (precision first, activation last) so a seed
    // names the same genomes it always did.
    const combo = options.balanced ? combos[i % combos.length]! : undefined;
    const precision = combo ? combo[0] : pick(precisions);
    const separable = rng() < pSeparable ? SEPARABLE_ROWS.filter(() => rng() < 0.5) : [];
    genomes.push(
      parseGenome({
        depthMultiple: pick(depths),
        widthMultiple: pick(widths),
        imageSize: pick(sizes),
        numClasses: options.numClasses ?? 80,
        separable,
        activation: combo ? combo[1] : pick(activations),
        quantization: { precision },
      }),
    );
  }
  return genomes;
}
