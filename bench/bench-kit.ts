// What several benchmark scripts share: their command-line flags and the genome label of their tables.
import type { Genome } from '@detsearch/genome';

/** The value after `--name` on the command line, else `fallback`. */
export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : process.argv[i + 1]!;
}

/** Depth, width, input size and separable rows: what the supernet benchmarks' spaces vary. */
export const shortGenome = (g: Genome): string =>
  `d${g.depthMultiple} w${g.widthMultiple} ${g.imageSize}px sep[${g.separable.join(',')}]`;
