import {
  cardinality,
  type Dimension,
  type ParamValue,
  type Params,
  type SearchSpace,
} from '@detsearch/search-space';
import type { Rng } from './rng';

/*
 * Genes: each dimension as one number so the operators can be generic.
 * float, int, ordinal -> position in [0, 1] (log scale where asked); categorical -> choice index;
 * boolean -> 0 | 1.
 */

export function isNumeric(d: Dimension): d is Extract<Dimension, { type: 'float' | 'int' | 'ordinal' }> {
  return d.type === 'float' || d.type === 'int' || d.type === 'ordinal';
}

/** Number of grid steps of a discrete numeric dimension (0 for float). */
export function gridSteps(d: Dimension): number {
  if (d.type === 'int') return Math.floor((d.high - d.low) / (d.step ?? 1));
  if (d.type === 'ordinal') return d.values.length - 1;
  return 0;
}

function toLogUnit(v: number, low: number, high: number, log: boolean | undefined): number {
  if (high <= low) return 0;
  if (log) return (Math.log(v) - Math.log(low)) / (Math.log(high) - Math.log(low));
  return (v - low) / (high - low);
}

function fromLogUnit(u: number, low: number, high: number, log: boolean | undefined): number {
  if (log) return Math.exp(Math.log(low) + u * (Math.log(high) - Math.log(low)));
  return low + u * (high - low);
}

const clamp01 = (u: number): number => (u < 0 ? 0 : u > 1 ? 1 : u);

export function encodeGene(d: Dimension, value: ParamValue | undefined): number {
  switch (d.type) {
    case 'float':
      return typeof value === 'number' ? clamp01(toLogUnit(value, d.low, d.high, d.log)) : 0.5;
    case 'int': {
      if (typeof value !== 'number') return 0.5;
      if (d.log) return clamp01(toLogUnit(value, d.low, d.high, true));
      const steps = gridSteps(d);
      return steps > 0
        ? Math.min(steps, Math.max(0, Math.round((value - d.low) / (d.step ?? 1)))) / steps
        : 0;
    }
    case 'ordinal': {
      const i = typeof value === 'number' ? nearestIndex(d.values, value) : 0;
      return d.values.length > 1 ? i / (d.values.length - 1) : 0;
    }
    case 'categorical':
      return Math.max(0, d.choices.indexOf(value as string | number));
    case 'boolean':
      return value === true ? 1 : 0;
  }
}

export function decodeGene(d: Dimension, gene: number): ParamValue {
  switch (d.type) {
    case 'float': {
      const v = fromLogUnit(clamp01(gene), d.low, d.high, d.log);
      return Math.min(d.high, Math.max(d.low, v));
    }
    case 'int': {
      const step = d.step ?? 1;
      const k = d.log
        ? Math.round((fromLogUnit(clamp01(gene), d.low, d.high, true) - d.low) / step)
        : Math.round(clamp01(gene) * gridSteps(d));
      return d.low + Math.min(gridSteps(d), Math.max(0, k)) * step;
    }
    case 'ordinal':
      return d.values[Math.round(clamp01(gene) * (d.values.length - 1))];
    case 'categorical':
      return d.choices[Math.min(d.choices.length - 1, Math.max(0, Math.round(gene)))];
    case 'boolean':
      return gene >= 0.5;
  }
}

function nearestIndex(values: number[], v: number): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (Math.abs(values[i] - v) < Math.abs(values[best] - v)) best = i;
  return best;
}

export function encode(space: SearchSpace, params: Params): number[] {
  return space.dimensions.map((d) => encodeGene(d, params[d.name]));
}

export function decode(space: SearchSpace, genes: ArrayLike<number>): Params {
  const out: Params = {};
  space.dimensions.forEach((d, i) => (out[d.name] = decodeGene(d, genes[i])));
  return out;
}

/**
 * Gene of the quantile `u` in [0, 1) of the uniform distribution over the dimension (log-uniform
 * where `log` is set); grid values are equally likely, the end values included.
 */
export function geneFromUniform(d: Dimension, u: number): number {
  const pick = (k: number): number => Math.min(k - 1, Math.floor(u * k));
  switch (d.type) {
    case 'float':
      return u;
    case 'int':
      if (d.log) return u;
      return gridSteps(d) > 0 ? pick(gridSteps(d) + 1) / gridSteps(d) : 0;
    case 'ordinal':
      return d.values.length > 1 ? pick(d.values.length) / (d.values.length - 1) : 0;
    case 'categorical':
      return pick(d.choices.length);
    case 'boolean':
      return pick(2);
  }
}

export function sampleGene(d: Dimension, rng: Rng): number {
  return geneFromUniform(d, rng.uniform());
}

/** Rounds a gene to the nearest legal value: grid dimensions to a step, floats clamped to [0, 1]. */
export function snapGene(d: Dimension, gene: number): number {
  switch (d.type) {
    case 'float':
      return clamp01(gene);
    case 'int':
      if (d.log) return encodeGene(d, decodeGene(d, gene));
      return gridSteps(d) > 0 ? Math.round(clamp01(gene) * gridSteps(d)) / gridSteps(d) : 0;
    case 'ordinal':
      return gridSteps(d) > 0 ? Math.round(clamp01(gene) * gridSteps(d)) / gridSteps(d) : 0;
    case 'categorical':
      return Math.min(d.choices.length - 1, Math.max(0, Math.round(gene)));
    case 'boolean':
      return gene >= 0.5 ? 1 : 0;
  }
}

export function sampleGenes(space: SearchSpace, rng: Rng): number[] {
  return space.dimensions.map((d) => sampleGene(d, rng));
}

/** Canonical gene of a decoded value: two gene vectors are the same point iff these agree. */
export function canonicalGenes(space: SearchSpace, genes: ArrayLike<number>): number[] {
  return space.dimensions.map((d, i) => encodeGene(d, decodeGene(d, genes[i])));
}

/** Number of distinct points; Infinity when a float dimension exists. */
export function spaceSize(space: SearchSpace): number {
  return space.dimensions.reduce((acc, d) => acc * cardinality(d), 1);
}

const hashBuf = new Float64Array(1);
const hashWords = new Uint32Array(hashBuf.buffer);

function hashVector(v: ArrayLike<number>): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < v.length; i++) {
    hashBuf[0] = v[i] === 0 ? 0 : v[i]; // fold -0 into 0
    h = Math.imul(h ^ hashWords[0], 0x01000193);
    h = Math.imul(h ^ hashWords[1], 0x01000193);
  }
  return h >>> 0;
}

/** A point's genes as decoded-then-encoded (equal iff the points are equal) and their hash. */
export interface EncodedPoint {
  readonly genes: readonly number[];
  readonly hash: number;
}

const encodings = new WeakMap<SearchSpace, WeakMap<Params, EncodedPoint>>();

/**
 * `encode` memoized per (space, params object). A pure cache: results are identical without it,
 * it only saves re-encoding the whole history on every ask. Trial params are treated as
 * immutable once they are in a history.
 */
export function encodePoint(space: SearchSpace, params: Params): EncodedPoint {
  let bySpace = encodings.get(space);
  if (!bySpace) encodings.set(space, (bySpace = new WeakMap()));
  let point = bySpace.get(params);
  if (!point) {
    const genes = encode(space, params);
    point = { genes, hash: hashVector(genes) };
    bySpace.set(params, point);
  }
  return point;
}

/** Set of points (by decoded value) for duplicate avoidance, keyed by a numeric hash. */
export class PointSet {
  private readonly buckets = new Map<number, (readonly number[])[]>();
  private count = 0;

  /** `base` is consulted too but never changed (the shared part built from a history). */
  constructor(
    private readonly space: SearchSpace,
    private readonly base?: PointSet,
  ) {}

  get size(): number {
    return this.count + (this.base?.size ?? 0);
  }

  addParams(params: Params): void {
    const p = encodePoint(this.space, params);
    this.add(p.genes, p.hash);
  }

  hasGenes(genes: ArrayLike<number>): boolean {
    const c = canonicalGenes(this.space, genes);
    return this.hasCanonical(c, hashVector(c));
  }

  private hasCanonical(c: readonly number[], h: number): boolean {
    const bucket = this.buckets.get(h);
    if (bucket !== undefined && bucket.some((b) => sameVector(b, c))) return true;
    return this.base !== undefined && this.base.hasCanonical(c, h);
  }

  addGenes(genes: ArrayLike<number>): void {
    const c = canonicalGenes(this.space, genes);
    this.add(c, hashVector(c));
  }

  private add(c: readonly number[], h: number): void {
    if (this.base?.hasCanonical(c, h)) return;
    const bucket = this.buckets.get(h);
    if (!bucket) this.buckets.set(h, [c]);
    else if (!bucket.some((b) => sameVector(b, c))) bucket.push(c);
    else return;
    this.count++;
  }
}

function sameVector(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Every trial's params, pending and failed ones included: none of them should be proposed again. */
export function pointSetOf(space: SearchSpace, params: Iterable<Params>): PointSet {
  const set = new PointSet(space);
  for (const p of params) set.addParams(p);
  return set;
}

const ENUMERATION_LIMIT = 100_000;

/**
 * Returns `genes` if new, else tries `retry` a few times; in a small finite space falls back to a
 * random unused point, and accepts a duplicate only when the space is exhausted (or too big to list).
 */
export function ensureNew(
  space: SearchSpace,
  seen: PointSet,
  genes: number[],
  retry: (attempt: number) => number[],
  rng: Rng,
  attempts = 50,
): number[] {
  let g = genes;
  for (let a = 0; a < attempts && seen.hasGenes(g); a++) g = retry(a);
  if (!seen.hasGenes(g)) return g;
  const size = spaceSize(space);
  if (size > ENUMERATION_LIMIT || seen.size >= size) return g;
  const unused = enumerateGenes(space).filter((p) => !seen.hasGenes(p));
  return unused.length > 0 ? unused[rng.int(unused.length)] : g;
}

function enumerateGenes(space: SearchSpace): number[][] {
  let all: number[][] = [[]];
  for (const d of space.dimensions) {
    const card = cardinality(d);
    const values: number[] = [];
    for (let k = 0; k < card; k++) {
      if (d.type === 'categorical' || d.type === 'boolean') values.push(k);
      else if (d.type === 'ordinal') values.push(card > 1 ? k / (card - 1) : 0);
      else if (d.type === 'int') values.push(encodeGene(d, d.low + k * (d.step ?? 1)));
    }
    all = all.flatMap((prefix) => values.map((v) => [...prefix, v]));
  }
  return all;
}
