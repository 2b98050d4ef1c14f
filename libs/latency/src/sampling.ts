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
  for (let i = 0; i < count; i++) {
    const precision = pick(precisions);
    const separable = rng() < pSeparable ? SEPARABLE_ROWS.filter(() => rng() < 0.5) : [];
    genomes.push(
      parseGenome({
        depthMultiple: pick(depths),
        widthMultiple: pick(widths),
        imageSize: pick(sizes),
        numClasses: options.numClasses ?? 80,
        separable,
        activation: pick(activations),
        quantization: { precision },
      }),
    );
  }
  return genomes;
}
