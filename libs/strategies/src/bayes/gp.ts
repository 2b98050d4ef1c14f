import type { Rng } from '../rng';
import { minimizeLbfgs } from './lbfgs';
import { choleskyWithJitter, inverseFromCholesky, solveLower, solveUpperT } from './linalg';

/*
 * Gaussian-process regression with a Matern 5/2 ARD kernel on inputs in [0, 1]^d and
 * standardized targets. Hyperparameters theta = [log l_1..l_d, log signal variance, log noise
 * variance] are fitted by maximizing the log marginal likelihood plus weak priors (MAP).
 */

const SQRT5 = Math.sqrt(5);
const LOG_2PI = Math.log(2 * Math.PI);

/** Box on theta, enforced by a sigmoid reparametrization so the optimizer is unconstrained. */
const BOUNDS = {
  logLengthscale: [Math.log(0.01), Math.log(1000)],
  logSignal: [Math.log(0.01), Math.log(100)],
  logNoise: [Math.log(1e-6), Math.log(1)],
} as const;

/**
 * log l ~ Normal(sqrt(2) + log(d)/2, sqrt(3)) on each lengthscale: the expected lengthscale grows
 * with sqrt(d), so in 30 dimensions the model still generalizes between points (Hvarfner et al.
 * 2024, BoTorch's default since). Gamma(2, 0.15) on the signal variance.
 */
export function lengthscalePriorMean(d: number): number {
  return Math.SQRT2 + 0.5 * Math.log(d);
}
const LENGTHSCALE_PRIOR_VARIANCE = 3;
const SIGNAL_PRIOR = { shape: 2, rate: 0.15 };

export interface GpData {
  /** n x d inputs, row-major. */
  x: Float64Array;
  y: Float64Array;
  n: number;
  d: number;
}

function bounds(d: number): { lo: Float64Array; hi: Float64Array } {
  const lo = new Float64Array(d + 2);
  const hi = new Float64Array(d + 2);
  for (let j = 0; j < d; j++) [lo[j], hi[j]] = BOUNDS.logLengthscale;
  [lo[d], hi[d]] = BOUNDS.logSignal;
  [lo[d + 1], hi[d + 1]] = BOUNDS.logNoise;
  return { lo, hi };
}

/** Matern 5/2 correlation at scaled distance r. */
function matern52(r: number): number {
  const s = SQRT5 * r;
  return (1 + s + (s * s) / 3) * Math.exp(-s);
}

/**
 * Negative log marginal likelihood minus log prior, and its gradient w.r.t. theta when `grad`
 * is given: d/dtheta = 1/2 tr((K^-1 - a a^T) dK/dtheta) with a = K^-1 y.
 */
export function negLogPosterior(data: GpData, theta: Float64Array, grad?: Float64Array): number {
  const { x, y, n, d } = data;
  const invL2 = new Float64Array(d);
  for (let j = 0; j < d; j++) invL2[j] = Math.exp(-2 * theta[j]);
  const signal = Math.exp(theta[d]);
  const noise = Math.exp(theta[d + 1]);

  const k = new Float64Array(n * n); // signal part of K
  const e = grad ? new Float64Array(n * n) : null; // dk/dr^2-derived factor for the lengthscale gradient
  for (let a = 0; a < n; a++) {
    k[a * n + a] = signal;
    for (let b = 0; b < a; b++) {
      let r2 = 0;
      for (let j = 0; j < d; j++) {
        const t = x[a * d + j] - x[b * d + j];
        r2 += t * t * invL2[j];
      }
      const r = Math.sqrt(r2);
      const ex = Math.exp(-SQRT5 * r);
      const v = signal * (1 + SQRT5 * r + (5 / 3) * r2) * ex;
      k[a * n + b] = v;
      k[b * n + a] = v;
      if (e) e[a * n + b] = signal * (5 / 3) * (1 + SQRT5 * r) * ex;
    }
  }
  const kn = k.slice();
  for (let i = 0; i < n; i++) kn[i * n + i] += noise;
  const { l } = choleskyWithJitter(kn, n);
  const alpha = solveUpperT(l, n, solveLower(l, n, y.slice()));
  let logDet = 0;
  let fit = 0;
  for (let i = 0; i < n; i++) {
    logDet += Math.log(l[i * n + i]);
    fit += y[i] * alpha[i];
  }
  let value = 0.5 * fit + logDet + 0.5 * n * LOG_2PI;

  const mu = lengthscalePriorMean(d);
  for (let j = 0; j < d; j++) value += (theta[j] - mu) ** 2 / (2 * LENGTHSCALE_PRIOR_VARIANCE);
  value -= (SIGNAL_PRIOR.shape - 1) * theta[d] - SIGNAL_PRIOR.rate * signal;

  if (grad && e) {
    const w = inverseFromCholesky(l, n); // becomes W = K^-1 - a a^T
    for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) w[a * n + b] -= alpha[a] * alpha[b];
    grad.fill(0);
    let gSignal = 0;
    let trace = 0;
    for (let a = 0; a < n; a++) {
      trace += w[a * n + a];
      gSignal += w[a * n + a] * k[a * n + a];
      for (let b = 0; b < a; b++) {
        const wab = w[a * n + b];
        gSignal += 2 * wab * k[a * n + b];
        const f = wab * e[a * n + b];
        if (f === 0) continue;
        for (let j = 0; j < d; j++) {
          const t = x[a * d + j] - x[b * d + j];
          grad[j] += f * t * t;
        }
      }
    }
    // Pairs were summed once; the symmetric half doubles and the 1/2 cancels it.
    for (let j = 0; j < d; j++) grad[j] = grad[j] * invL2[j] + (theta[j] - mu) / LENGTHSCALE_PRIOR_VARIANCE;
    grad[d] = 0.5 * gSignal - (SIGNAL_PRIOR.shape - 1) + SIGNAL_PRIOR.rate * signal;
    grad[d + 1] = 0.5 * noise * trace;
  }
  return value;
}

export interface FitOptions {
  /** Upper bound on full-data likelihood evaluations. */
  maxEvaluations: number;
  /** Random starting points screened before the L-BFGS run. */
  restarts: number;
  /** Above this many points, the search runs on a random subset of this size first. */
  subsetSize?: number;
}

/**
 * MAP hyperparameters: screens several starts by value, then L-BFGS from the best. With many
 * points the search first runs on a random subset (each evaluation is O(n^3), so a subset of 48
 * costs a few percent) and only the final refinement sees all the data.
 */
export function fitHyperparameters(data: GpData, rng: Rng, options: FitOptions): Float64Array {
  const subsetSize = options.subsetSize ?? 48;
  if (data.n <= subsetSize * 1.25)
    return fitFrom(data, initialThetas(data.d, rng, options.restarts), options.maxEvaluations);
  const rows = rng.sample(data.n, subsetSize).sort((a, b) => a - b);
  const x = new Float64Array(subsetSize * data.d);
  const y = new Float64Array(subsetSize);
  rows.forEach((r, i) => {
    x.set(data.x.subarray(r * data.d, (r + 1) * data.d), i * data.d);
    y[i] = data.y[r];
  });
  const rough = fitFrom({ x, y, n: subsetSize, d: data.d }, initialThetas(data.d, rng, options.restarts), 60);
  return fitFrom(data, [rough, initialThetas(data.d, rng, 0)[0]], options.maxEvaluations);
}

function initialThetas(d: number, rng: Rng, restarts: number): Float64Array[] {
  const make = (ls: (j: number) => number, signal: number, noise: number): Float64Array => {
    const t = new Float64Array(d + 2);
    for (let j = 0; j < d; j++) t[j] = Math.log(ls(j));
    t[d] = Math.log(signal);
    t[d + 1] = Math.log(noise);
    return t;
  };
  const median = Math.exp(lengthscalePriorMean(d));
  const starts = [make(() => median, 1, 1e-4), make(() => 0.3, 1, 1e-3)];
  for (let r = 0; r < restarts; r++) {
    const ls = (): number => Math.exp(Math.log(0.05) + rng.uniform() * Math.log((2 * median) / 0.05));
    starts.push(make(ls, 0.5 + 2 * rng.uniform(), 1e-5));
  }
  return starts;
}

function fitFrom(data: GpData, starts: Float64Array[], maxEvaluations: number): Float64Array {
  const { d } = data;
  const { lo, hi } = bounds(d);
  const toZ = (theta: Float64Array): Float64Array =>
    theta.map((t, i) => {
      const u = Math.min(1 - 1e-9, Math.max(1e-9, (t - lo[i]) / (hi[i] - lo[i])));
      return Math.log(u / (1 - u));
    });
  const toTheta = (z: Float64Array): Float64Array =>
    z.map((v, i) => lo[i] + (hi[i] - lo[i]) / (1 + Math.exp(-v)));
  const thetaGrad = new Float64Array(d + 2);
  const objective = (z: Float64Array, gz: Float64Array): number => {
    const theta = toTheta(z);
    let v: number;
    try {
      v = negLogPosterior(data, theta, thetaGrad);
    } catch {
      return Infinity;
    }
    for (let i = 0; i < z.length; i++) {
      const s = 1 / (1 + Math.exp(-z[i]));
      gz[i] = thetaGrad[i] * (hi[i] - lo[i]) * s * (1 - s);
    }
    return v;
  };
  // Starts are clipped into the box so the comparison below is between reachable points.
  let best = toTheta(toZ(starts[0]));
  let bestValue = Infinity;
  for (const start of starts) {
    const s = toTheta(toZ(start));
    let v: number;
    try {
      v = negLogPosterior(data, s);
    } catch {
      continue;
    }
    if (v < bestValue) {
      bestValue = v;
      best = s;
    }
  }
  const budget = Math.max(1, maxEvaluations - starts.length);
  const result = minimizeLbfgs(objective, toZ(best), budget);
  return Number.isFinite(result.f) && result.f <= bestValue ? toTheta(result.x) : best;
}

/** A GP conditioned on data with fixed hyperparameters; cheap to extend by one point. */
export class GaussianProcess {
  private x: Float64Array;
  private y: Float64Array;
  private l: Float64Array;
  private alpha: Float64Array;
  private n: number;
  private readonly invL2: Float64Array;
  private readonly signal: number;
  private readonly noise: number;
  private kbuf: Float64Array;

  constructor(
    data: GpData,
    readonly theta: Float64Array,
  ) {
    const { n, d } = data;
    this.n = n;
    this.x = data.x.slice(0, n * d);
    this.y = data.y.slice(0, n);
    this.invL2 = new Float64Array(d);
    for (let j = 0; j < d; j++) this.invL2[j] = Math.exp(-2 * theta[j]);
    this.signal = Math.exp(theta[d]);
    this.noise = Math.exp(theta[d + 1]);
    const kn = new Float64Array(n * n);
    for (let a = 0; a < n; a++) {
      for (let b = 0; b <= a; b++) {
        const v = this.kernel(this.x, a * d, this.x, b * d) + (a === b ? this.noise : 0);
        kn[a * n + b] = v;
        kn[b * n + a] = v;
      }
    }
    const { l, jitter } = choleskyWithJitter(kn, n);
    this.noise += jitter;
    this.l = l;
    this.alpha = solveUpperT(l, n, solveLower(l, n, this.y.slice()));
    this.kbuf = new Float64Array(n);
  }

  get size(): number {
    return this.n;
  }

  private get d(): number {
    return this.invL2.length;
  }

  private kernel(xa: Float64Array, oa: number, xb: Float64Array, ob: number): number {
    let r2 = 0;
    for (let j = 0; j < this.invL2.length; j++) {
      const t = xa[oa + j] - xb[ob + j];
      r2 += t * t * this.invL2[j];
    }
    return this.signal * matern52(Math.sqrt(r2));
  }

  /** Posterior mean and latent (noise-free) variance at one input. */
  predict(xq: Float64Array): { mean: number; variance: number } {
    const { n, d } = this;
    const k = this.kbuf;
    let mean = 0;
    for (let a = 0; a < n; a++) {
      k[a] = this.kernel(this.x, a * d, xq, 0);
      mean += k[a] * this.alpha[a];
    }
    // v = L^-1 k; variance = k(x, x) - v.v
    const l = this.l;
    let vv = 0;
    for (let i = 0; i < n; i++) {
      const ri = i * n;
      let s = k[i];
      for (let m = 0; m < i; m++) s -= l[ri + m] * k[m];
      s /= l[ri + i];
      k[i] = s;
      vv += s * s;
    }
    return { mean, variance: Math.max(this.signal - vv, 1e-12 * this.signal) };
  }

  /**
   * Conditions on one more observation (used for fantasies of pending points) by appending a row
   * to the Cholesky factor, O(n^2).
   */
  extend(xq: Float64Array, yq: number): void {
    const { n, d } = this;
    const m = n + 1;
    const kq = new Float64Array(n);
    for (let a = 0; a < n; a++) kq[a] = this.kernel(this.x, a * d, xq, 0);
    const row = solveLower(this.l, n, kq);
    let rr = 0;
    for (let i = 0; i < n; i++) rr += row[i] * row[i];
    const diag = Math.sqrt(Math.max(this.signal + this.noise - rr, 1e-10 * this.signal));
    const l = new Float64Array(m * m);
    for (let i = 0; i < n; i++) l.set(this.l.subarray(i * n, i * n + i + 1), i * m);
    l.set(row, n * m);
    l[n * m + n] = diag;
    const x = new Float64Array(m * d);
    x.set(this.x);
    x.set(xq.subarray(0, d), n * d);
    const y = new Float64Array(m);
    y.set(this.y);
    y[n] = yq;
    this.x = x;
    this.y = y;
    this.l = l;
    this.n = m;
    this.kbuf = new Float64Array(m);
    this.alpha = solveUpperT(l, m, solveLower(l, m, y.slice()));
  }
}
