/*
 * Hypervolume dominated by a point set (minimization) and bounded by a reference point.
 * Points not strictly better than the reference in every objective contribute nothing.
 */

function relevant(points: ArrayLike<number>[], ref: ArrayLike<number>): number[][] {
  const out: number[][] = [];
  for (const p of points) {
    let inside = true;
    for (let j = 0; j < ref.length; j++) if (!(p[j] < ref[j])) inside = false;
    if (inside) out.push(Array.from(p));
  }
  return out;
}

/** Exact 2-D hypervolume by a sweep over the first objective, O(N log N). */
export function hypervolume2d(points: ArrayLike<number>[], ref: ArrayLike<number>): number {
  const pts = relevant(points, ref).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let area = 0;
  let lastF2 = ref[1];
  for (const p of pts) {
    if (p[1] < lastF2) {
      area += (ref[0] - p[0]) * (lastF2 - p[1]);
      lastF2 = p[1];
    }
  }
  return area;
}

/** Exact 3-D hypervolume: slabs along the third objective over a 2-D front kept sorted, O(N^2). */
export function hypervolume3d(points: ArrayLike<number>[], ref: ArrayLike<number>): number {
  const pts = relevant(points, ref).sort((a, b) => a[2] - b[2]);
  const front: number[][] = []; // 2-D non-dominated set, sorted by f1 ascending (f2 descending)
  let volume = 0;
  for (let i = 0; i < pts.length; i++) {
    insert2d(front, pts[i]);
    const next = i + 1 < pts.length ? pts[i + 1][2] : ref[2];
    if (next > pts[i][2]) volume += area2dSorted(front, ref) * (next - pts[i][2]);
  }
  return volume;
}

function insert2d(front: number[][], p: number[]): void {
  let lo = 0;
  let hi = front.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (front[mid][0] < p[0] || (front[mid][0] === p[0] && front[mid][1] <= p[1])) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && front[lo - 1][1] <= p[1]) return;
  let end = lo;
  while (end < front.length && front[end][1] >= p[1]) end++;
  front.splice(lo, end - lo, p);
}

function area2dSorted(front: number[][], ref: ArrayLike<number>): number {
  let area = 0;
  let lastF2 = ref[1];
  for (const p of front) {
    area += (ref[0] - p[0]) * (lastF2 - p[1]);
    lastF2 = p[1];
  }
  return area;
}

/**
 * WFG algorithm (While, Bradstreet, Barone 2012) for any number of objectives: the volume is the
 * sum of each point's exclusive contribution, computed from the non-dominated part of its limit set.
 */
export function hypervolumeWfg(points: ArrayLike<number>[], ref: ArrayLike<number>): number {
  return wfg(nonDominated(relevant(points, ref)), Array.from(ref));
}

function wfg(pts: number[][], ref: number[]): number {
  const m = ref.length;
  // Worsening order of the last objective keeps limit sets small.
  const sorted = pts.slice().sort((a, b) => b[m - 1] - a[m - 1]);
  let total = 0;
  for (let k = 0; k < sorted.length; k++) {
    const p = sorted[k];
    let incl = 1;
    for (let j = 0; j < m; j++) incl *= ref[j] - p[j];
    if (k + 1 < sorted.length) {
      const limit: number[][] = [];
      for (let i = k + 1; i < sorted.length; i++) limit.push(sorted[i].map((v, j) => Math.max(v, p[j])));
      const nd = nonDominated(limit);
      incl -= nd.length === 1 ? boxVolume(nd[0], ref) : wfg(nd, ref);
    }
    total += incl;
  }
  return total;
}

function boxVolume(p: number[], ref: number[]): number {
  let v = 1;
  for (let j = 0; j < ref.length; j++) v *= ref[j] - p[j];
  return v;
}

/** Non-dominated subset without duplicates. */
function nonDominated(pts: number[][]): number[][] {
  const out: number[][] = [];
  outer: for (let i = 0; i < pts.length; i++) {
    for (let j = 0; j < pts.length; j++) {
      if (i === j) continue;
      if (weaklyDominates(pts[j], pts[i]) && (!weaklyDominates(pts[i], pts[j]) || j < i)) continue outer;
    }
    out.push(pts[i]);
  }
  return out;
}

function weaklyDominates(a: number[], b: number[]): boolean {
  for (let j = 0; j < a.length; j++) if (a[j] > b[j]) return false;
  return true;
}

/** Hypervolume for any number of objectives: exact sweeps for 1-3, WFG beyond. */
export function hypervolume(points: ArrayLike<number>[], ref: ArrayLike<number>): number {
  const m = ref.length;
  if (m === 1) {
    let best = ref[0];
    for (const p of points) if (p[0] < best) best = p[0];
    return ref[0] - best;
  }
  if (m === 2) return hypervolume2d(points, ref);
  if (m === 3) return hypervolume3d(points, ref);
  return hypervolumeWfg(points, ref);
}
