import { objectiveVector, type ObjectiveMetrics, type ObjectiveName } from '@detsearch/domain';
import { crowdingDistance, nonDominatedSort } from '@detsearch/strategies';
import type { SearchFidelity } from '@detsearch/persistence';

/**
 * Asynchronous successive halving (ASHA, Li et al. 2020) over epochs, on several objectives.
 *
 * Rungs sit at minEpochs * eta^k (k = 0, 1, ...) below `epochs`. When a trial finishes a rung's
 * epoch it competes with every trial that has reached that rung so far (their rows hold their
 * per-epoch metrics, so the scheduler keeps no state and a resumed search decides the same way).
 * It continues when it ranks in the top floor(n / eta) by non-dominated rank (ties broken by
 * crowding distance, then creation order); with fewer than eta competitors, when it is
 * non-dominated among them. Objective values at a rung: mAP at that epoch and the genome's
 * latency and size (known before training). With `imageSizes`, image size is a fidelity as well:
 * low rungs train at smaller images (see imageSizeByEpoch).
 */
export function rungEpochs(f: SearchFidelity): number[] {
  const min = f.minEpochs ?? f.epochs;
  const eta = f.eta ?? 3;
  const rungs: number[] = [];
  for (let e = min; e < f.epochs; e = Math.max(e + 1, Math.round(e * eta))) rungs.push(e);
  return rungs;
}

/**
 * The training image size of every epoch (index e - 1 for epoch e) with image-size rungs, null
 * without them. Segment k (the epochs after rung k - 1 up to rung k) trains at imageSizes[k];
 * segments past the list at `finalSize`; no size exceeds `finalSize`. Every trial at a rung has
 * trained at the same sizes, so the rung's comparison stays fair.
 */
export function imageSizeByEpoch(f: SearchFidelity, finalSize: number): number[] | null {
  if (!f.imageSizes || f.imageSizes.length === 0) return null;
  const rungs = rungEpochs(f);
  const out: number[] = [];
  for (let e = 1; e <= f.epochs; e++) {
    const segment = rungs.filter((r) => r < e).length;
    out.push(Math.min(segment < f.imageSizes.length ? f.imageSizes[segment]! : finalSize, finalSize));
  }
  return out;
}

/** Index of the rung at `epoch`, or -1 when the epoch is not a rung. */
export function rungIndex(f: SearchFidelity, epoch: number): number {
  return rungEpochs(f).indexOf(epoch);
}

/** A trial at a rung: its mAP at the rung's epoch and its genome-derived costs. */
export interface RungCompetitor extends ObjectiveMetrics {
  id: string;
  number: number;
  map50_95: number;
}

/** A missing cost ranks worst. */
export function rungVector(objectives: readonly ObjectiveName[], c: RungCompetitor): number[] {
  return objectiveVector(objectives, c);
}

/**
 * Whether `trialId` continues past this rung. `competitors` are all trials at the rung,
 * the candidate included.
 */
export function promotes(
  trialId: string,
  competitors: RungCompetitor[],
  objectives: ObjectiveName[],
  eta: number,
): boolean {
  const n = competitors.length;
  const me = competitors.findIndex((c) => c.id === trialId);
  if (me < 0) return true;
  const points = competitors.map((c) => rungVector(objectives, c));
  const fronts = nonDominatedSort(points);
  const k = Math.floor(n / eta);
  if (k === 0) return fronts[0]!.includes(me);
  const order: number[] = [];
  for (const front of fronts) {
    const crowd = crowdingDistance(points, front);
    const ranked = front
      .map((idx, j) => ({ idx, crowd: crowd[j]! }))
      .sort((a, b) => b.crowd - a.crowd || competitors[a.idx]!.number - competitors[b.idx]!.number);
    for (const r of ranked) order.push(r.idx);
    if (order.length >= k) break;
  }
  return order.slice(0, k).includes(me);
}
