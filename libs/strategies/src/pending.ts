import type { SearchSpace } from '@detsearch/search-space';
import type { Observation } from './history';
import { isNumeric } from './space';

/**
 * Distance between two gene vectors: numeric genes by their difference in [0, 1], discrete genes
 * 1 when they differ. Small enough to attribute a child to the parent it was mutated from.
 */
export function geneDistance(space: SearchSpace, a: readonly number[], b: readonly number[]): number {
  let d = 0;
  space.dimensions.forEach((dim, i) => {
    d += isNumeric(dim) ? Math.abs(a[i] - b[i]) : a[i] === b[i] ? 0 : 1;
  });
  return d;
}

/**
 * Pending children per member of `population`: each pending point (queued or running) is counted
 * for the member nearest to it, its likely parent. The strategies are stateless, so the parent of
 * a pending trial is not stored; the nearest member is what a mutation or crossover lands closest
 * to. Ties go to the earlier member, so the count is a function of the rows.
 */
export function pendingChildren(
  space: SearchSpace,
  population: readonly Observation[],
  pending: readonly (readonly number[])[],
): number[] {
  const counts = new Array<number>(population.length).fill(0);
  if (population.length === 0) return counts;
  for (const p of pending) {
    let best = 0;
    let bestD = Infinity;
    population.forEach((o, i) => {
      const d = geneDistance(space, o.genes, p);
      if (d < bestD) {
        bestD = d;
        best = i;
      }
    });
    counts[best]++;
  }
  return counts;
}
