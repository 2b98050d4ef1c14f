import { DomainError } from '@detsearch/common';
import { parseGenome, type Activation, type Genome } from '@detsearch/genome';
import type { CompiledSearchSpace, Dimension, ParamValue } from '@detsearch/search-space';
import type { LargestGenomeOptions } from './types';

/**
 * Genomes of a search space for the supernet. Every numeric dimension (multipliers, image size, and
 * any per-stage depth or width a space adds) grows the network as it grows, so the largest genome
 * takes every numeric dimension's maximum and the smallest its minimum; separable substitution is
 * off in both (its weights are held separately). The activation is fixed per supernet.
 */
export function largestGenome(space: CompiledSearchSpace, opts: LargestGenomeOptions = {}): Genome {
  return extremeGenome(space, 'max', opts);
}

export function smallestGenome(space: CompiledSearchSpace, opts: LargestGenomeOptions = {}): Genome {
  return extremeGenome(space, 'min', opts);
}

/**
 * A uniformly random genome of the space (rng in [0, 1)), with the supernet's activation.
 * `fullWidth` keeps every width dimension (the width multiple, any per-stage width) at its maximum
 * and samples the rest: Once-for-All's elastic-depth stage, which trains shallow sub-networks on
 * the full channel set before widths shrink.
 */
export function sampleGenome(
  space: CompiledSearchSpace,
  rng: () => number,
  opts: LargestGenomeOptions & { fullWidth?: boolean } = {},
): Genome {
  const activation = supernetActivation(space, opts.activation);
  const params: Record<string, ParamValue> = {};
  for (const d of space.dimensions) {
    if (d.name === 'activation') params[d.name] = activation;
    else if (opts.fullWidth && isWidthDimension(d.name)) params[d.name] = extremeValue(d, 'max');
    else params[d.name] = randomValue(d, rng);
  }
  return withClasses(space.decode(params), opts.numClasses);
}

/** The activations a space allows, the first being its default. */
export function spaceActivations(space: CompiledSearchSpace): Activation[] {
  const dim = space.dimensions.find((d) => d.name === 'activation');
  if (dim && dim.type === 'categorical') return dim.choices as Activation[];
  const fixed = space.spec.activation;
  return [typeof fixed === 'string' ? fixed : fixed.choices[0]!];
}

/** The rows of the space that may be depthwise-separable. */
export function spaceSeparableRows(space: CompiledSearchSpace): number[] {
  const sep = space.spec.separable;
  const rows = Array.isArray(sep) ? sep : sep.layers;
  return [...rows].sort((a, b) => a - b);
}

/** The image sizes a space allows, ascending. */
export function spaceImageSizes(space: CompiledSearchSpace): number[] {
  const img = space.spec.imageSize;
  if (typeof img === 'number') return [img];
  if (img.type === 'ordinal') return [...img.values];
  const out: number[] = [];
  for (let s = img.low; s <= img.high; s += img.step) out.push(s);
  return out;
}

function supernetActivation(space: CompiledSearchSpace, wanted: Activation | undefined): Activation {
  const allowed = spaceActivations(space);
  if (wanted === undefined) return allowed[0]!;
  if (!allowed.includes(wanted))
    throw new DomainError(
      'SUPERNET.INVALID',
      `activation: '${wanted}' is not in the search space (${allowed.join(', ')})`,
      'activation',
    );
  return wanted;
}

function extremeGenome(space: CompiledSearchSpace, end: 'min' | 'max', opts: LargestGenomeOptions): Genome {
  const activation = supernetActivation(space, opts.activation);
  const params: Record<string, ParamValue> = {};
  for (const d of space.dimensions) {
    if (d.name === 'activation') params[d.name] = activation;
    else params[d.name] = extremeValue(d, end);
  }
  const g = space.decode(params);
  // Separable substitution is a choice of weights, not of size: the extremes are dense.
  return withClasses({ ...g, separable: [] }, opts.numClasses);
}

/** The dimensions that set channel counts. */
export function isWidthDimension(name: string): boolean {
  return name === 'widthMultiple' || name.startsWith('stageWidth.');
}

function extremeValue(d: Dimension, end: 'min' | 'max'): ParamValue {
  switch (d.type) {
    case 'float':
    case 'int':
      return end === 'max' ? maxOfRange(d) : d.low;
    case 'ordinal':
      return end === 'max' ? Math.max(...d.values) : Math.min(...d.values);
    case 'boolean':
      return false;
    case 'categorical':
      // fp32 where offered: the supernet's own weights are float.
      return d.choices.includes('fp32') ? 'fp32' : d.choices[0]!;
  }
}

function maxOfRange(d: Extract<Dimension, { type: 'int' | 'float' }>): number {
  if (d.type === 'float') return d.high;
  const step = d.step ?? 1;
  return d.low + Math.floor((d.high - d.low) / step) * step;
}

function randomValue(d: Dimension, rng: () => number): ParamValue {
  const pick = <T>(values: readonly T[]): T =>
    values[Math.min(values.length - 1, Math.floor(rng() * values.length))]!;
  switch (d.type) {
    case 'float':
      return d.low + rng() * (d.high - d.low);
    case 'int': {
      const step = d.step ?? 1;
      const n = Math.floor((d.high - d.low) / step) + 1;
      return d.low + Math.min(n - 1, Math.floor(rng() * n)) * step;
    }
    case 'ordinal':
      return pick(d.values);
    case 'boolean':
      return rng() < 0.5;
    case 'categorical':
      return pick(d.choices);
  }
}

function withClasses(g: Genome, numClasses: number | undefined): Genome {
  return parseGenome({ ...g, ...(numClasses !== undefined ? { numClasses } : {}) });
}
