/**
 * The hypervolume history of a search: after each completed trial (in trial order), the area of
 * the (maximize mAP@0.5:0.95, minimize latency) plane dominated by the completed trials so far,
 * against the reference (mAP 0, 1.1 x the slowest latency of any completed trial), divided by that
 * reference latency. The CLI's hypervolume.png and the API's GET /searches/:id/hypervolume both
 * come from here.
 */

export interface HypervolumeTrial {
  number: number;
  status: string;
  map50_95: number | null;
  latencyMs: number | null;
}

export interface HypervolumeStep {
  /** Completed trials so far (1-based). */
  x: number;
  /** Normalized hypervolume after them. */
  y: number;
  /** Number of the trial that completed at this step. */
  number: number;
}

export interface HypervolumeHistory {
  /** Reference latency (ms); null before the first completed trial. */
  referenceLatencyMs: number | null;
  /** Completed trials with both values. */
  completed: number;
  steps: HypervolumeStep[];
}

const measured = (t: HypervolumeTrial) =>
  t.status === 'completed' &&
  typeof t.map50_95 === 'number' &&
  Number.isFinite(t.map50_95) &&
  typeof t.latencyMs === 'number' &&
  Number.isFinite(t.latencyMs);

/**
 * `changesOnly`: keep only the steps where the value changes, and the last one (a step function
 * drawn with `stepped` lines loses nothing; 100,000 trials give a few hundred points).
 *
 * Incremental: the front is kept sorted by latency (mAP rising along it) and each new trial costs
 * O(front size), so a history over 100,000 trials takes milliseconds.
 */
export function hypervolumeHistory(
  trials: readonly HypervolumeTrial[],
  options: { changesOnly?: boolean } = {},
): HypervolumeHistory {
  const done = trials.filter(measured).sort((a, b) => a.number - b.number);
  if (done.length === 0) return { referenceLatencyMs: null, completed: 0, steps: [] };
  let slowest = -Infinity;
  for (const t of done) slowest = Math.max(slowest, t.latencyMs!);
  const ref = 1.1 * slowest;
  const front: [number, number][] = []; // [latency, mAP], latency ascending, mAP strictly ascending
  let area = 0;
  const steps: HypervolumeStep[] = [];
  done.forEach((t, i) => {
    if (insert(front, [t.latencyMs!, t.map50_95!])) area = dominatedArea(front, ref);
    steps.push({ x: i + 1, y: ref > 0 ? area / ref : 0, number: t.number });
  });
  const kept = options.changesOnly
    ? steps.filter((s, i) => i === 0 || i === steps.length - 1 || s.y !== steps[i - 1]!.y)
    : steps;
  return { referenceLatencyMs: ref, completed: done.length, steps: kept };
}

/** Adds `p` unless a front point dominates it (weakly); drops the points it dominates. */
function insert(front: [number, number][], p: [number, number]): boolean {
  const [lat, map] = p;
  if (map <= 0) return false;
  // First index with latency > lat: everything before is at most as slow.
  let lo = 0;
  let hi = front.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (front[mid]![0] <= lat) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && front[lo - 1]![1] >= map) return false;
  // Points at the same latency with less mAP sit just before lo; slower ones with no more mAP after it.
  let start = lo;
  while (start > 0 && front[start - 1]![0] === lat) start--;
  let end = lo;
  while (end < front.length && front[end]![1] <= map) end++;
  front.splice(start, end - start, [lat, map]);
  return true;
}

/** Area dominated by the front within [0, ref] of latency and [0, mAP]: one slab per point. */
function dominatedArea(front: [number, number][], ref: number): number {
  let area = 0;
  let below = 0;
  for (const [lat, map] of front) {
    if (lat < ref) area += (ref - lat) * (map - below);
    below = map;
  }
  return area;
}
