import { describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { erfc, logExpectedImprovement, logH, logNormCdf, normCdf, normPdf } from './acquisition';
import { fitHyperparameters, GaussianProcess, negLogPosterior } from './gp';
import { minimizeLbfgs } from './lbfgs';
import { cholesky, choleskyWithJitter, inverseFromCholesky } from './linalg';

function spd(n: number, seed: string): Float64Array {
  const rng = new Rng(seed);
  const b = Array.from({ length: n * n }, () => rng.normal());
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = i === j ? n : 0;
      for (let k = 0; k < n; k++) s += b[i * n + k] * b[j * n + k];
      a[i * n + j] = s;
    }
  return a;
}

describe('linear algebra', () => {
  it('factors and inverts a symmetric positive-definite matrix', () => {
    const n = 12;
    const a = spd(n, 'a');
    const l = cholesky(a, n)!;
    const inv = inverseFromCholesky(l, n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let llt = 0;
        let ai = 0;
        for (let k = 0; k < n; k++) {
          llt += l[i * n + k] * l[j * n + k];
          ai += a[i * n + k] * inv[k * n + j];
        }
        expect(llt).toBeCloseTo(a[i * n + j], 9);
        expect(ai).toBeCloseTo(i === j ? 1 : 0, 9);
      }
  });

  it('adds jitter to a singular matrix instead of failing', () => {
    const ones = new Float64Array(9).fill(1);
    expect(cholesky(ones, 3)).toBeNull();
    const { jitter } = choleskyWithJitter(ones, 3);
    expect(jitter).toBeGreaterThan(0);
  });
});

describe('normal helpers and log expected improvement', () => {
  it('matches the direct formulas where those are accurate', () => {
    expect(erfc(0.5)).toBeCloseTo(0.4795001221869535, 6);
    expect(normCdf(1.96)).toBeCloseTo(0.9750021048517795, 6);
    for (const z of [-0.9, -0.5, 0, 0.7, 2, 5]) {
      expect(logH(z)).toBeCloseTo(Math.log(normPdf(z) + z * normCdf(z)), 6);
    }
    expect(logNormCdf(-3)).toBeCloseTo(Math.log(0.0013498980316301), 6);
    expect(logNormCdf(3)).toBeCloseTo(Math.log(0.9986501019683699), 9);
  });

  it('stays finite, smooth and increasing deep in the tail', () => {
    // h(-10) = 7.4746e-25 (asymptotic series to z^-8); phi + z Phi loses every digit there.
    expect(logH(-10)).toBeCloseTo(Math.log(7.4746e-25), 3);
    expect(logNormCdf(-40)).toBeCloseTo(-804.6084420137538, 6);
    let prev = -Infinity;
    for (let z = -60; z <= 3; z += 0.25) {
      const v = logH(z);
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThan(prev);
      prev = v;
    }
    // No jump where the formula switches branches.
    for (const z of [-1, -25]) expect(Math.abs(logH(z - 1e-9) - logH(z + 1e-9))).toBeLessThan(1e-4);
    expect(logExpectedImprovement(10, 0.1, 0)).toBeLessThan(-4000);
  });
});

describe('Gaussian process', () => {
  const n = 25;
  const rng = new Rng('gp');
  const d = 2;
  const x = new Float64Array(n * d).map(() => rng.uniform());
  const f = (a: number, b: number): number => Math.sin(6 * a) + 0.5 * b; // b varies slowly
  const yRaw = Array.from({ length: n }, (_, i) => f(x[i * d], x[i * d + 1]));
  const mean = yRaw.reduce((s, v) => s + v, 0) / n;
  const y = Float64Array.from(yRaw, (v) => v - mean);
  const data = { x, y, n, d };

  it('has an analytic gradient that matches finite differences', () => {
    const theta = Float64Array.from([Math.log(0.3), Math.log(0.8), Math.log(1.2), Math.log(1e-3)]);
    const grad = new Float64Array(4);
    negLogPosterior(data, theta, grad);
    for (let i = 0; i < 4; i++) {
      const h = 1e-5;
      const up = theta.slice();
      const down = theta.slice();
      up[i] += h;
      down[i] -= h;
      const numeric = (negLogPosterior(data, up) - negLogPosterior(data, down)) / (2 * h);
      expect(grad[i]).toBeCloseTo(numeric, 3);
    }
  });

  it('fits hyperparameters that predict held-out points and rank the dimensions', () => {
    const theta = fitHyperparameters(data, new Rng('fit'), { maxEvaluations: 60, restarts: 3 });
    expect(theta[1]).toBeGreaterThan(theta[0]); // the slow dimension gets the longer lengthscale
    const gp = new GaussianProcess(data, theta);
    for (const [a, b] of [
      [0.3, 0.4],
      [0.7, 0.9],
    ]) {
      const p = gp.predict(Float64Array.from([a, b]));
      expect(p.mean + mean).toBeCloseTo(f(a, b), 1);
      expect(p.variance).toBeLessThan(0.05);
    }
    // At a training input the latent variance is about the noise level.
    expect(gp.predict(x.slice(0, 2)).variance).toBeLessThan(1e-2);
  });

  it('extends by one point exactly like a refit on the larger data', () => {
    const theta = Float64Array.from([Math.log(0.3), Math.log(0.8), 0, Math.log(1e-4)]);
    const small = { x: x.slice(0, (n - 1) * d), y: y.slice(0, n - 1), n: n - 1, d };
    const gp = new GaussianProcess(small, theta);
    gp.extend(x.slice((n - 1) * d), y[n - 1]);
    const full = new GaussianProcess(data, theta);
    const q = Float64Array.from([0.41, 0.13]);
    expect(gp.predict(q).mean).toBeCloseTo(full.predict(q).mean, 8);
    expect(gp.predict(q).variance).toBeCloseTo(full.predict(q).variance, 8);
  });
});

describe('L-BFGS', () => {
  it('minimizes the Rosenbrock function', () => {
    const r = minimizeLbfgs(
      (v, g) => {
        const [a, b] = v;
        g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
        g[1] = 200 * (b - a * a);
        return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
      },
      Float64Array.from([-1.2, 1]),
      500,
    );
    expect(r.x[0]).toBeCloseTo(1, 3);
    expect(r.x[1]).toBeCloseTo(1, 3);
  });
});
