import { hypervolume } from './hypervolume';

/** Pareto dominance for minimization: a is no worse everywhere and better somewhere. */
export function dominates(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  let better = false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] > b[i]) return false;
    if (a[i] < b[i]) better = true;
  }
  return better;
}

/**
 * Non-dominated sorting: fronts of indices, best first. Equal points share a front.
 * Two objectives use Jensen's O(N log N) sweep; more use Deb's fast non-dominated sort, O(M N^2).
 */
export function nonDominatedSort(points: ArrayLike<number>[]): number[][] {
  if (points.length === 0) return [];
  return points[0].length === 2 ? sort2d(points) : sortGeneral(points);
}

/** Front index of every point (0 = non-dominated). */
export function paretoRanks(points: ArrayLike<number>[]): number[] {
  const ranks = new Array<number>(points.length).fill(0);
  nonDominatedSort(points).forEach((front, r) => front.forEach((i) => (ranks[i] = r)));
  return ranks;
}

function sort2d(points: ArrayLike<number>[]): number[][] {
  const order = points
    .map((_, i) => i)
    .sort((a, b) => points[a][0] - points[b][0] || points[a][1] - points[b][1]);
  const fronts: number[][] = [];
  // Within a front sorted by f1 the last member has the lowest f2, so it alone decides dominance.
  const dominatedBy = (k: number, p: ArrayLike<number>): boolean => {
    const q = points[fronts[k][fronts[k].length - 1]];
    return q[1] < p[1] || (q[1] === p[1] && q[0] < p[0]);
  };
  for (const i of order) {
    let lo = 0;
    let hi = fronts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (dominatedBy(mid, points[i])) lo = mid + 1;
      else hi = mid;
    }
    if (lo === fronts.length) fronts.push([i]);
    else fronts[lo].push(i);
  }
  return fronts;
}

function sortGeneral(points: ArrayLike<number>[]): number[][] {
  const n = points.length;
  const dominatedCount = new Int32Array(n);
  const dominatesList: number[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (dominates(points[i], points[j])) {
        dominatesList[i].push(j);
        dominatedCount[j]++;
      } else if (dominates(points[j], points[i])) {
        dominatesList[j].push(i);
        dominatedCount[i]++;
      }
    }
  }
  const fronts: number[][] = [];
  let current: number[] = [];
  for (let i = 0; i < n; i++) if (dominatedCount[i] === 0) current.push(i);
  while (current.length > 0) {
    fronts.push(current);
    const next: number[] = [];
    for (const i of current) for (const j of dominatesList[i]) if (--dominatedCount[j] === 0) next.push(j);
    current = next.sort((a, b) => a - b);
  }
  return fronts;
}

/**
 * Constraint-domination (Deb 2000): feasible points by non-dominated sort, then infeasible ones
 * by total violation, each violation level its own front.
 */
export function constrainedSort(points: ArrayLike<number>[], violations: ArrayLike<number>): number[][] {
  const feasible: number[] = [];
  const infeasible: number[] = [];
  for (let i = 0; i < points.length; i++) (violations[i] > 0 ? infeasible : feasible).push(i);
  const fronts = nonDominatedSort(feasible.map((i) => points[i])).map((f) => f.map((k) => feasible[k]));
  infeasible.sort((a, b) => violations[a] - violations[b] || a - b);
  for (let k = 0; k < infeasible.length; k++) {
    const i = infeasible[k];
    if (k > 0 && violations[infeasible[k - 1]] === violations[i]) fronts[fronts.length - 1].push(i);
    else fronts.push([i]);
  }
  return fronts;
}

/** Crowding distance of each member of `front` (Deb et al. 2002); boundary points get Infinity. */
export function crowdingDistance(points: ArrayLike<number>[], front: number[]): number[] {
  const n = front.length;
  const dist = new Array<number>(n).fill(0);
  if (n === 0) return dist;
  const m = points[front[0]].length;
  for (let j = 0; j < m; j++) {
    const order = front.map((_, k) => k).sort((a, b) => points[front[a]][j] - points[front[b]][j] || a - b);
    const lo = points[front[order[0]]][j];
    const hi = points[front[order[n - 1]]][j];
    dist[order[0]] = Infinity;
    dist[order[n - 1]] = Infinity;
    if (hi <= lo) continue;
    for (let k = 1; k < n - 1; k++) {
      dist[order[k]] += (points[front[order[k + 1]]][j] - points[front[order[k - 1]]][j]) / (hi - lo);
    }
  }
  return dist;
}

/**
 * Non-dominated set maintained one point at a time. With two objectives it is kept sorted by the
 * first objective, so an insertion costs a binary search plus the points it removes.
 */
export class ParetoFront<T = undefined> {
  private pts: number[][] = [];
  private payloads: T[] = [];

  constructor(readonly objectives: number) {}

  get size(): number {
    return this.pts.length;
  }

  get points(): number[][] {
    return this.pts.map((p) => p.slice());
  }

  get items(): { point: number[]; payload: T }[] {
    return this.pts.map((p, i) => ({ point: p.slice(), payload: this.payloads[i] }));
  }

  /** Adds `point` unless it is dominated by or equal to a member; returns whether it was added. */
  add(point: ArrayLike<number>, payload?: T): boolean {
    const p = Array.from(point);
    return this.objectives === 2 ? this.add2d(p, payload as T) : this.addGeneral(p, payload as T);
  }

  hypervolume(reference: ArrayLike<number>): number {
    return hypervolume(this.pts, reference);
  }

  private add2d(p: number[], payload: T): boolean {
    // First index whose (f1, f2) is lexicographically greater than p.
    let lo = 0;
    let hi = this.pts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const q = this.pts[mid];
      if (q[0] < p[0] || (q[0] === p[0] && q[1] <= p[1])) lo = mid + 1;
      else hi = mid;
    }
    // The predecessor has the lowest f2 among points with f1 <= p's.
    if (lo > 0 && this.pts[lo - 1][1] <= p[1]) return false;
    let end = lo;
    while (end < this.pts.length && this.pts[end][1] >= p[1]) end++;
    this.pts.splice(lo, end - lo, p);
    this.payloads.splice(lo, end - lo, payload);
    return true;
  }

  private addGeneral(p: number[], payload: T): boolean {
    for (const q of this.pts) if (dominates(q, p) || q.every((v, i) => v === p[i])) return false;
    const keep = this.pts.map((q) => !dominates(p, q));
    this.pts = this.pts.filter((_, i) => keep[i]);
    this.payloads = this.payloads.filter((_, i) => keep[i]);
    this.pts.push(p);
    this.payloads.push(payload);
    return true;
  }
}
