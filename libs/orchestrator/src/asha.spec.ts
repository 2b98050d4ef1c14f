import { describe, expect, it } from 'vitest';
import { imageSizeByEpoch, promotes, rungEpochs, rungIndex, type RungCompetitor } from './asha';

const c = (n: number, map: number, latencyMs: number): RungCompetitor => ({
  id: `t${n}`,
  number: n,
  map50_95: map,
  latencyMs,
  sizeBytes: null,
});

describe('ASHA rungs', () => {
  it('places rungs at minEpochs * eta^k below the full budget', () => {
    expect(rungEpochs({ epochs: 9, minEpochs: 1, eta: 3 })).toEqual([1, 3]);
    expect(rungEpochs({ epochs: 27, minEpochs: 1, eta: 3 })).toEqual([1, 3, 9]);
    expect(rungEpochs({ epochs: 10, minEpochs: 2, eta: 2 })).toEqual([2, 4, 8]);
    expect(rungEpochs({ epochs: 5 })).toEqual([]);
    expect(rungEpochs({ epochs: 5, minEpochs: 5 })).toEqual([]);
    expect(rungIndex({ epochs: 9, minEpochs: 1, eta: 3 }, 3)).toBe(1);
    expect(rungIndex({ epochs: 9, minEpochs: 1, eta: 3 }, 2)).toBe(-1);
  });
});

describe('promotion by non-dominated rank', () => {
  const objectives = ['map50_95', 'latency'] as const;

  it('with fewer than eta competitors, promotes exactly the non-dominated ones', () => {
    const rung = [c(0, 0.3, 10), c(1, 0.2, 20)];
    expect(promotes('t0', rung, [...objectives], 3)).toBe(true);
    expect(promotes('t1', rung, [...objectives], 3)).toBe(false);
    const tradeoff = [c(0, 0.3, 10), c(1, 0.4, 20)];
    expect(promotes('t1', tradeoff, [...objectives], 3)).toBe(true);
  });

  it('promotes the top floor(n / eta), never a dominated trial over a non-dominated one', () => {
    // Front: t0, t1, t2 (trade-offs); t3..t8 dominated by t1.
    const rung = [
      c(0, 0.5, 50),
      c(1, 0.4, 20),
      c(2, 0.2, 5),
      ...[3, 4, 5, 6, 7, 8].map((n) => c(n, 0.1, 30 + n)),
    ];
    const promoted = rung.filter((r) => promotes(r.id, rung, [...objectives], 3)).map((r) => r.number);
    expect(promoted).toHaveLength(3);
    expect(promoted.sort()).toEqual([0, 1, 2]);
    // Single objective view: only mAP counts, and only the best third goes on.
    const byMap = rung.filter((r) => promotes(r.id, rung, ['map50_95'], 3)).map((r) => r.number);
    expect(byMap.sort()).toEqual([0, 1, 2]);
    expect(rung.filter((r) => promotes(r.id, rung, ['map50_95'], 9))).toHaveLength(1);
  });

  it('breaks ties inside a front by crowding distance (extremes first)', () => {
    const rung = [c(0, 0.1, 1), c(1, 0.2, 2), c(2, 0.3, 3), c(3, 0.4, 4), c(4, 0.5, 5), c(5, 0.6, 6)];
    const promoted = rung
      .filter((r) => promotes(r.id, rung, ['map50_95', 'latency'], 3))
      .map((r) => r.number);
    expect(promoted.sort()).toEqual([0, 5]);
  });
});

describe('image-size rungs', () => {
  it('train each rung segment at its size and promoted trials at the full size', () => {
    const f = { epochs: 9, minEpochs: 1, eta: 3 };
    // Rungs at epochs 1 and 3: epoch 1 at 160, epochs 2-3 at 224, epochs 4-9 at the full 320.
    expect(imageSizeByEpoch({ ...f, imageSizes: [160, 224] }, 320)).toEqual([
      160, 224, 224, 320, 320, 320, 320, 320, 320,
    ]);
    expect(imageSizeByEpoch({ ...f, imageSizes: [160] }, 320)).toEqual([
      160, 320, 320, 320, 320, 320, 320, 320, 320,
    ]);
    // Never above the trial's own size (a genome at 192 px).
    expect(imageSizeByEpoch({ ...f, imageSizes: [160, 224] }, 192)).toEqual([
      160, 192, 192, 192, 192, 192, 192, 192, 192,
    ]);
    expect(imageSizeByEpoch(f, 320)).toBeNull();
  });
});
