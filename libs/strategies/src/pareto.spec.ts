import { describe, expect, it } from 'vitest';
import { hypervolume, hypervolume2d, hypervolume3d, hypervolumeWfg } from './hypervolume';
import { constrainedSort, crowdingDistance, dominates, nonDominatedSort, ParetoFront } from './pareto';
import { zdt1, zdt2, dtlz2 } from './problems';
import { Rng } from './rng';

const randomPoints = (n: number, m: number, seed: string, grid = 0): number[][] => {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () =>
    Array.from({ length: m }, () => (grid ? rng.int(grid) / grid : rng.uniform())),
  );
};

/** Fronts by definition: peel off the non-dominated points repeatedly. */
function bruteForceFronts(points: number[][]): number[][] {
  let left = points.map((_, i) => i);
  const fronts: number[][] = [];
  while (left.length > 0) {
    const front = left.filter((i) => !left.some((j) => dominates(points[j], points[i])));
    fronts.push(front);
    left = left.filter((i) => !front.includes(i));
  }
  return fronts;
}

const sorted = (fronts: number[][]): number[][] => fronts.map((f) => f.slice().sort((a, b) => a - b));

/** Exact volume by inclusion-exclusion over all subsets (small sets only). */
function inclusionExclusion(points: number[][], ref: number[]): number {
  let total = 0;
  const n = points.length;
  for (let mask = 1; mask < 1 << n; mask++) {
    const corner = ref.map(() => -Infinity);
    let bits = 0;
    for (let i = 0; i < n; i++) {
      if (!(mask & (1 << i))) continue;
      bits++;
      points[i].forEach((v, j) => (corner[j] = Math.max(corner[j], v)));
    }
    const vol = corner.reduce((acc, v, j) => acc * Math.max(0, ref[j] - v), 1);
    total += bits % 2 === 1 ? vol : -vol;
  }
  return total;
}

describe('non-dominated sort', () => {
  it('sorts a hand-made 2-D case, equal points sharing a front', () => {
    const pts = [
      [1, 5],
      [2, 3],
      [3, 1],
      [2, 4],
      [4, 4],
      [2, 3],
      [5, 5],
    ];
    expect(sorted(nonDominatedSort(pts))).toEqual([[0, 1, 2, 5], [3], [4], [6]]);
  });

  it.each([2, 3, 4])('agrees with the definition on random points in %i objectives (ties included)', (m) => {
    for (const grid of [0, 5]) {
      const pts = randomPoints(120, m, `nds${m}${grid}`, grid);
      expect(sorted(nonDominatedSort(pts))).toEqual(sorted(bruteForceFronts(pts)));
    }
  });

  it('ranks feasible points first, then infeasible ones by violation', () => {
    const pts = [
      [1, 1],
      [0, 0],
      [2, 2],
      [0.5, 3],
    ];
    expect(constrainedSort(pts, [0, 0.5, 0, 0.2])).toEqual([[0], [2], [3], [1]]);
  });

  it('gives boundary points infinite crowding and interior ones the normalized side sum', () => {
    const pts = [
      [0, 4],
      [1, 2],
      [2, 1],
      [4, 0],
    ];
    const d = crowdingDistance(pts, [0, 1, 2, 3]);
    expect(d[0]).toBe(Infinity);
    expect(d[3]).toBe(Infinity);
    expect(d[1]).toBeCloseTo(2 / 4 + 3 / 4);
    expect(d[2]).toBeCloseTo(3 / 4 + 2 / 4);
  });
});

describe('ParetoFront', () => {
  it.each([2, 3])('keeps exactly the non-dominated set of a stream in %i objectives', (m) => {
    const pts = randomPoints(2000, m, `front${m}`, 40);
    const front = new ParetoFront<number>(m);
    pts.forEach((p, i) => front.add(p, i));
    const firstFront = pts.filter((p) => !pts.some((q) => dominates(q, p)));
    const expected = new Set(firstFront.map((p) => JSON.stringify(p)));
    expect(new Set(front.points.map((p) => JSON.stringify(p)))).toEqual(expected);
    for (const { point, payload } of front.items) expect(pts[payload]).toEqual(point);
    expect(front.hypervolume(new Array(m).fill(1.1))).toBeCloseTo(
      hypervolume(pts, new Array(m).fill(1.1)),
      12,
    );
  });
});

describe('hypervolume', () => {
  it('computes small 2-D and 3-D cases exactly', () => {
    expect(
      hypervolume2d(
        [
          [1, 3],
          [2, 2],
          [3, 1],
        ],
        [4, 4],
      ),
    ).toBe(6);
    expect(hypervolume3d([[0, 0, 0]], [1, 1, 1])).toBe(1);
    expect(
      hypervolume3d(
        [
          [0, 0, 0.5],
          [0.5, 0.5, 0],
        ],
        [1, 1, 1],
      ),
    ).toBeCloseTo(0.625, 15);
    // Points outside the reference box, on its boundary or dominated add nothing.
    expect(
      hypervolume(
        [
          [0.5, 0.5],
          [1, 0],
          [2, -1],
          [0.6, 0.6],
        ],
        [1, 1],
      ),
    ).toBe(0.25);
  });

  it.each([2, 3, 4, 5])('general WFG algorithm agrees with inclusion-exclusion in %i objectives', (m) => {
    const pts = randomPoints(9, m, `ie${m}`);
    const ref = new Array(m).fill(1);
    expect(hypervolumeWfg(pts, ref)).toBeCloseTo(inclusionExclusion(pts, ref), 12);
  });

  it('WFG equals the exact sweeps on larger 2-D and 3-D sets', () => {
    const p2 = randomPoints(300, 2, 'w2', 50);
    expect(hypervolumeWfg(p2, [1.2, 1.2])).toBeCloseTo(hypervolume2d(p2, [1.2, 1.2]), 12);
    const p3 = randomPoints(150, 3, 'w3').map((p) => p.map((v) => v * v));
    expect(hypervolumeWfg(p3, [1, 1, 1])).toBeCloseTo(hypervolume3d(p3, [1, 1, 1]), 12);
    const p4 = randomPoints(60, 4, 'w4');
    expect(hypervolume(p4, [1, 1, 1, 1])).toBe(hypervolumeWfg(p4, [1, 1, 1, 1]));
  });

  it('approaches the true fronts of the test problems when sampled densely', () => {
    expect(hypervolume(zdt1.paretoFront!(5001), [1, 1])).toBeCloseTo(2 / 3, 3);
    expect(hypervolume(zdt2.paretoFront!(5001), [1, 1])).toBeCloseTo(1 / 3, 3);
    expect(hypervolume(dtlz2.paretoFront!(5001), [1, 1])).toBeCloseTo(1 - Math.PI / 4, 3);
    // A sparse sample stays below the continuous value.
    expect(hypervolume(zdt1.paretoFront!(11), [1, 1])).toBeLessThan(2 / 3);
  });
});
