/** Objective for the minimizer: returns f(x) and writes the gradient into `grad`. */
export type Objective = (x: Float64Array, grad: Float64Array) => number;

export interface MinimizeResult {
  x: Float64Array;
  f: number;
  evaluations: number;
}

/**
 * Limited-memory BFGS with a backtracking Armijo line search. `maxEvaluations` bounds the work
 * deterministically (a wall-clock limit would make results depend on the machine).
 */
export function minimizeLbfgs(
  f: Objective,
  x0: Float64Array,
  maxEvaluations: number,
  memory = 8,
): MinimizeResult {
  const dim = x0.length;
  let x = x0.slice();
  let g = new Float64Array(dim);
  let fx = f(x, g);
  let evaluations = 1;
  if (!Number.isFinite(fx)) return { x, f: fx, evaluations };
  const ss: Float64Array[] = [];
  const ys: Float64Array[] = [];
  const rhos: number[] = [];
  const dir = new Float64Array(dim);
  const alphas = new Float64Array(memory);
  let first = true;

  while (evaluations < maxEvaluations) {
    // Two-loop recursion: dir = -H g.
    for (let i = 0; i < dim; i++) dir[i] = -g[i];
    for (let k = ss.length - 1; k >= 0; k--) {
      alphas[k] = rhos[k] * dot(ss[k], dir);
      axpy(-alphas[k], ys[k], dir);
    }
    if (ss.length > 0) {
      const last = ss.length - 1;
      const gamma = dot(ss[last], ys[last]) / dot(ys[last], ys[last]);
      for (let i = 0; i < dim; i++) dir[i] *= gamma;
    }
    for (let k = 0; k < ss.length; k++) axpy(alphas[k] - rhos[k] * dot(ys[k], dir), ss[k], dir);

    let slope = dot(g, dir);
    if (!(slope < 0)) {
      // Not a descent direction: restart from steepest descent.
      ss.length = ys.length = rhos.length = 0;
      for (let i = 0; i < dim; i++) dir[i] = -g[i];
      slope = dot(g, dir);
      first = true;
    }
    if (slope > -1e-14) break;
    let step = first ? Math.min(1, 1 / Math.sqrt(-slope)) : 1;
    first = false;

    const xn = new Float64Array(dim);
    const gn = new Float64Array(dim);
    let fn = Infinity;
    let accepted = false;
    while (evaluations < maxEvaluations) {
      for (let i = 0; i < dim; i++) xn[i] = x[i] + step * dir[i];
      fn = f(xn, gn);
      evaluations++;
      if (Number.isFinite(fn) && fn <= fx + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      step *= 0.3;
      if (step < 1e-10) break;
    }
    if (!accepted) break;

    const s = new Float64Array(dim);
    const y = new Float64Array(dim);
    for (let i = 0; i < dim; i++) {
      s[i] = xn[i] - x[i];
      y[i] = gn[i] - g[i];
    }
    const sy = dot(s, y);
    if (sy > 1e-12) {
      if (ss.length === memory) {
        ss.shift();
        ys.shift();
        rhos.shift();
      }
      ss.push(s);
      ys.push(y);
      rhos.push(1 / sy);
    }
    const decrease = fx - fn;
    x = xn;
    g = gn;
    fx = fn;
    let gmax = 0;
    for (let i = 0; i < dim; i++) gmax = Math.max(gmax, Math.abs(g[i]));
    if (gmax < 1e-6 || decrease < 1e-10 * (1 + Math.abs(fx))) break;
  }
  return { x, f: fx, evaluations };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function axpy(alpha: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] += alpha * x[i];
}
