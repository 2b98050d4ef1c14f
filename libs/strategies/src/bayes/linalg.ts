/*
 * Dense symmetric positive-definite algebra on row-major Float64Array n x n matrices.
 * Loops run along rows so the inner products stay contiguous in memory.
 */

/** Lower Cholesky factor of `a` (not modified); null when `a` is not positive definite. */
export function cholesky(a: Float64Array, n: number): Float64Array | null {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const rj = j * n;
      let s = a[ri + j];
      for (let k = 0; k < j; k++) s -= l[ri + k] * l[rj + k];
      if (i === j) {
        if (!(s > 0)) return null;
        l[ri + i] = Math.sqrt(s);
      } else {
        l[ri + j] = s / l[rj + j];
      }
    }
  }
  return l;
}

/**
 * Cholesky with growing diagonal jitter (relative to the mean diagonal) until it succeeds.
 * Returns the factor and the jitter that was added.
 */
export function choleskyWithJitter(a: Float64Array, n: number): { l: Float64Array; jitter: number } {
  let l = cholesky(a, n);
  if (l) return { l, jitter: 0 };
  let mean = 0;
  for (let i = 0; i < n; i++) mean += a[i * n + i];
  mean = Math.max(mean / Math.max(n, 1), 1e-12);
  const b = a.slice();
  for (let e = -9; e <= 0; e++) {
    const jitter = mean * Math.pow(10, e);
    for (let i = 0; i < n; i++) b[i * n + i] = a[i * n + i] + jitter;
    l = cholesky(b, n);
    if (l) return { l, jitter };
  }
  throw new Error('matrix is not positive definite even with jitter');
}

/** Solves L x = b in place (L lower triangular). */
export function solveLower(l: Float64Array, n: number, b: Float64Array): Float64Array {
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[ri + k] * b[k];
    b[i] = s / l[ri + i];
  }
  return b;
}

/** Solves L^T x = b in place. */
export function solveUpperT(l: Float64Array, n: number, b: Float64Array): Float64Array {
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < n; k++) s -= l[k * n + i] * b[k];
    b[i] = s / l[i * n + i];
  }
  return b;
}

/**
 * A^-1 from its Cholesky factor: W = L^-1 stored transposed (row j of `wt` is column j of W, so
 * both passes run over contiguous memory), then (A^-1)_ij = sum_{k >= max(i,j)} W_ki W_kj.
 */
export function inverseFromCholesky(l: Float64Array, n: number): Float64Array {
  const wt = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    wt[rj + j] = 1 / l[rj + j];
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = 0;
      for (let k = j; k < i; k++) s -= l[ri + k] * wt[rj + k];
      wt[rj + i] = s / l[ri + i];
    }
  }
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = i; j < n; j++) {
      const rj = j * n;
      let s = 0;
      for (let k = j; k < n; k++) s += wt[ri + k] * wt[rj + k];
      inv[ri + j] = s;
      inv[rj + i] = s;
    }
  }
  return inv;
}
