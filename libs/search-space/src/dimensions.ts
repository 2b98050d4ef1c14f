/**
 * Typed dimensions of a search space, in the form every strategy consumes.
 * A point in the space is a `Params` record keyed by dimension name.
 */
export type ParamValue = number | string | boolean;
export type Params = Record<string, ParamValue>;

export interface FloatDimension {
  name: string;
  type: 'float';
  low: number;
  high: number;
  /** Sample and model on a log scale (low must be > 0). */
  log?: boolean;
}

export interface IntDimension {
  name: string;
  type: 'int';
  low: number;
  high: number;
  /** Values are low, low+step, ... <= high. Default 1. */
  step?: number;
  log?: boolean;
}

/** An ordered numeric grid: neighbours are meaningful (e.g. width multipliers). */
export interface OrdinalDimension {
  name: string;
  type: 'ordinal';
  values: number[];
}

/** Unordered choices: no distance between them other than equal / not equal. */
export interface CategoricalDimension {
  name: string;
  type: 'categorical';
  choices: (string | number)[];
}

export interface BooleanDimension {
  name: string;
  type: 'boolean';
}

export type Dimension =
  FloatDimension | IntDimension | OrdinalDimension | CategoricalDimension | BooleanDimension;

export interface SearchSpace {
  dimensions: Dimension[];
}

/** Number of distinct values of a discrete dimension; Infinity for floats. */
export function cardinality(d: Dimension): number {
  switch (d.type) {
    case 'float':
      return Infinity;
    case 'int':
      return Math.floor((d.high - d.low) / (d.step ?? 1)) + 1;
    case 'ordinal':
      return d.values.length;
    case 'categorical':
      return d.choices.length;
    case 'boolean':
      return 2;
  }
}

/** True when `value` is a legal value of `d`. */
export function isInDimension(d: Dimension, value: ParamValue): boolean {
  switch (d.type) {
    case 'float':
      return typeof value === 'number' && Number.isFinite(value) && value >= d.low && value <= d.high;
    case 'int': {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < d.low || value > d.high)
        return false;
      return (value - d.low) % (d.step ?? 1) === 0;
    }
    case 'ordinal':
      return typeof value === 'number' && d.values.includes(value);
    case 'categorical':
      return d.choices.includes(value as string | number);
    case 'boolean':
      return typeof value === 'boolean';
  }
}
