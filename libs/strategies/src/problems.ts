import type { Dimension, Params, SearchSpace } from '@detsearch/search-space';
import { ParetoFront } from './pareto';

/** A standard test problem over a search space; every objective is minimized. */
export interface TestProblem {
  name: string;
  space: SearchSpace;
  objectives: number;
  evaluate(params: Params): number[];
  /** Hypervolume reference point (multi-objective problems). */
  referencePoint?: number[];
  /** Known minimum (single-objective problems). */
  optimum?: number;
  /** `count` points of the true Pareto front, non-dominated (multi-objective problems). */
  paretoFront?(count: number): number[][];
}

function unitSpace(n: number): SearchSpace {
  const dimensions: Dimension[] = [];
  for (let i = 0; i < n; i++) dimensions.push({ name: `x${i}`, type: 'float', low: 0, high: 1 });
  return { dimensions };
}

function vector(params: Params, n: number): number[] {
  const x = new Array<number>(n);
  for (let i = 0; i < n; i++) x[i] = params[`x${i}`] as number;
  return x;
}

function sampledFront(count: number, f2: (f1: number) => number): number[][] {
  const front = new ParetoFront(2);
  for (let i = 0; i < count; i++) {
    const f1 = i / (count - 1);
    front.add([f1, f2(f1)]);
  }
  return front.points;
}

/** Zitzler, Deb, Thiele 2000; 30 variables in [0, 1]. */
function zdt(name: string, shape: (f1: number, g: number) => number): TestProblem {
  const n = 30;
  return {
    name,
    space: unitSpace(n),
    objectives: 2,
    referencePoint: [1, 1],
    evaluate(params) {
      const x = vector(params, n);
      let s = 0;
      for (let i = 1; i < n; i++) s += x[i];
      const g = 1 + (9 * s) / (n - 1);
      return [x[0], g * shape(x[0], g)];
    },
    paretoFront: (count) => sampledFront(count, (f1) => shape(f1, 1)),
  };
}

export const zdt1 = zdt('zdt1', (f1, g) => 1 - Math.sqrt(f1 / g));
export const zdt2 = zdt('zdt2', (f1, g) => 1 - (f1 / g) ** 2);
export const zdt3 = zdt('zdt3', (f1, g) => 1 - Math.sqrt(f1 / g) - (f1 / g) * Math.sin(10 * Math.PI * f1));

/** Deb, Thiele, Laumanns, Zitzler 2002 with 2 objectives and 11 variables (k = 10). */
export const dtlz2: TestProblem = {
  name: 'dtlz2',
  space: unitSpace(11),
  objectives: 2,
  referencePoint: [1, 1],
  evaluate(params) {
    const x = vector(params, 11);
    let g = 0;
    for (let i = 1; i < 11; i++) g += (x[i] - 0.5) ** 2;
    return [(1 + g) * Math.cos((x[0] * Math.PI) / 2), (1 + g) * Math.sin((x[0] * Math.PI) / 2)];
  },
  paretoFront: (count) =>
    Array.from({ length: count }, (_, i) => {
      const t = ((i / (count - 1)) * Math.PI) / 2;
      return [Math.cos(t), Math.sin(t)];
    }),
};

/** Branin-Hoo on [-5, 10] x [0, 15]; three global minima of 0.397887. */
export const branin: TestProblem = {
  name: 'branin',
  space: {
    dimensions: [
      { name: 'x0', type: 'float', low: -5, high: 10 },
      { name: 'x1', type: 'float', low: 0, high: 15 },
    ],
  },
  objectives: 1,
  optimum: 0.397887,
  evaluate(params) {
    const x1 = params.x0 as number;
    const x2 = params.x1 as number;
    const b = 5.1 / (4 * Math.PI * Math.PI);
    const c = 5 / Math.PI;
    const t = 1 / (8 * Math.PI);
    return [(x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10];
  },
};

const H6_ALPHA = [1.0, 1.2, 3.0, 3.2];
const H6_A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const H6_P = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
].map((row) => row.map((v) => v * 1e-4));

/** Hartmann 6-D on [0, 1]^6; global minimum -3.32237 (a local one at -3.2032). */
export const hartmann6: TestProblem = {
  name: 'hartmann6',
  space: unitSpace(6),
  objectives: 1,
  optimum: -3.32237,
  evaluate(params) {
    const x = vector(params, 6);
    let f = 0;
    for (let i = 0; i < 4; i++) {
      let s = 0;
      for (let j = 0; j < 6; j++) s += H6_A[i][j] * (x[j] - H6_P[i][j]) ** 2;
      f -= H6_ALPHA[i] * Math.exp(-s);
    }
    return [f];
  },
};

const NAS_FLAGS = 23;
const NAS_WIDTHS = [0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1];
const NAS_PRECISIONS = ['fp32', 'fp16', 'int8'] as const;
/** Error added and latency fraction saved per separable layer (fixed pseudo-random coefficients). */
const NAS_COEFFS = Array.from({ length: NAS_FLAGS }, (_, i) => {
  const u = (k: number): number => (((Math.sin((i + 1) * 12.9898 + k * 78.233) * 43758.5453) % 1) + 1) % 1;
  return { error: 0.001 + 0.011 * u(1), saving: 0.005 + 0.03 * u(2) };
});
const NAS_PRECISION = {
  fp32: { error: 0, latency: 1 },
  fp16: { error: 0.002, latency: 0.6 },
  int8: { error: 0.015, latency: 0.35 },
};
const NAS_LATENCY_WEIGHT = 0.12;

function nasParts(depth: number, width: number, precision: (typeof NAS_PRECISIONS)[number]) {
  const p = NAS_PRECISION[precision];
  return {
    error: 0.25 + 0.45 * Math.exp(-2.2 * depth * width) + p.error,
    latency: depth * width * width * p.latency,
  };
}

function nasValue(
  depth: number,
  width: number,
  precision: (typeof NAS_PRECISIONS)[number],
  flags: boolean[],
) {
  const base = nasParts(depth, width, precision);
  let error = base.error;
  let saved = 0;
  flags.forEach((on, i) => {
    if (!on) return;
    error += NAS_COEFFS[i].error;
    saved += NAS_COEFFS[i].saving;
  });
  return error + NAS_LATENCY_WEIGHT * base.latency * (1 - saved);
}

/**
 * A NAS-like mixed space: depth (int 1-4) x width multiplier (7 ordinal values) x 23 separable-conv
 * flags x precision (categorical), one objective: detection error plus a latency penalty. Each
 * separable layer costs a little accuracy and saves a fraction of the latency, so whether it pays
 * depends on the architecture around it; the optimum is exact (enumerate depth, width and
 * precision, then each flag on its own, since the flags add up).
 */
export const nas: TestProblem = {
  name: 'nas',
  space: {
    dimensions: [
      { name: 'depth', type: 'int', low: 1, high: 4 },
      { name: 'width', type: 'ordinal', values: NAS_WIDTHS },
      ...Array.from({ length: NAS_FLAGS }, (_, i): Dimension => ({ name: `sep${i}`, type: 'boolean' })),
      { name: 'precision', type: 'categorical', choices: [...NAS_PRECISIONS] },
    ],
  },
  objectives: 1,
  optimum: nasOptimum(),
  evaluate(params) {
    const flags = Array.from({ length: NAS_FLAGS }, (_, i) => params[`sep${i}`] === true);
    return [
      nasValue(
        params.depth as number,
        params.width as number,
        params.precision as (typeof NAS_PRECISIONS)[number],
        flags,
      ),
    ];
  },
};

function nasOptimum(): number {
  let best = Infinity;
  for (let depth = 1; depth <= 4; depth++) {
    for (const width of NAS_WIDTHS) {
      for (const precision of NAS_PRECISIONS) {
        const base = nasParts(depth, width, precision);
        // A flag pays when the latency it saves outweighs the error it adds.
        const flags = NAS_COEFFS.map((c) => NAS_LATENCY_WEIGHT * base.latency * c.saving > c.error);
        best = Math.min(best, nasValue(depth, width, precision, flags));
      }
    }
  }
  return best;
}

export const PROBLEMS: Record<string, TestProblem> = { zdt1, zdt2, zdt3, dtlz2, branin, hartmann6, nas };
export const PROBLEM_NAMES = Object.keys(PROBLEMS);

export function getProblem(name: string): TestProblem {
  const p = PROBLEMS[name];
  if (!p) throw new Error(`unknown problem '${name}' (expected one of ${PROBLEM_NAMES.join(', ')})`);
  return p;
}
