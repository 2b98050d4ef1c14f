import { beforeAll, describe, expect, it } from 'vitest';
import { buildIR, parameterSpecs, parseGenome, type Genome, type WeightMap } from '@detsearch/genome';
import { initBackend } from '@detsearch/model-tfjs';
import { extractWeights, supernetIR } from './extract';
import { reorderByImportance } from './importance';
import { largestGenome, sampleGenome, smallestGenome } from './space';
import { initSupernet } from './supernet-file';
import { forwardFlat, maxAbsDiff, pseudoImages, TINY_SPACE } from './test-helpers';
import type { SupernetWeights } from './types';

const largest = largestGenome(TINY_SPACE);

function freshSupernet(): SupernetWeights {
  return initSupernet(largest, [3, 4, 18], { seed: 3, randomizeBatchNorm: true });
}

/**
 * The supernet's own network (with `separable` rows) where every channel a narrower genome drops is
 * silenced: BatchNorm gamma and beta zero, so the channel is exactly 0 after SiLU, and its consumers
 * (through concats, SPPF, residual adds, the head) get nothing from it.
 */
function silencedFull(sn: SupernetWeights, narrow: Genome): WeightMap {
  const sub = buildIR(narrow);
  const subChannels = new Map(sub.ops.filter((o) => o.kind === 'batchnorm').map((o) => [o.name, o.channels]));
  const sup = supernetIR(sn, narrow);
  const w: WeightMap = new Map();
  for (const s of parameterSpecs(sup)) w.set(s.name, Float32Array.from(sn.weights.get(s.name)!));
  for (const op of sup.ops) {
    if (op.kind !== 'batchnorm') continue;
    const keep = subChannels.get(op.name);
    if (keep === undefined) throw new Error(`${op.name} missing from the narrow network`);
    for (const p of ['weight', 'bias']) w.get(`${op.name}.${p}`)!.fill(0, keep);
  }
  return w;
}

describe('supernet extraction', () => {
  beforeAll(async () => {
    await initBackend('wasm', { log: () => undefined });
  });

  it('the space gives largest, smallest and random genomes with the fixed activation', () => {
    expect(largest).toMatchObject({
      depthMultiple: 0.67,
      widthMultiple: 0.125,
      imageSize: 96,
      separable: [],
    });
    expect(smallestGenome(TINY_SPACE)).toMatchObject({
      depthMultiple: 0.33,
      widthMultiple: 0.0625,
      imageSize: 64,
    });
    let seed = 1;
    const rng = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    for (let i = 0; i < 20; i++) {
      const g = sampleGenome(TINY_SPACE, rng);
      expect(g.activation).toBe('silu');
      expect([0.33, 0.67]).toContain(g.depthMultiple);
    }
  });

  it('the largest sub-network reproduces the supernet exactly', () => {
    const sn = freshSupernet();
    const g = { ...largest, imageSize: 64 };
    const w = extractWeights(sn, g);
    const ir = buildIR(g);
    for (const s of parameterSpecs(ir)) expect(w.get(s.name)).toEqual(sn.weights.get(s.name));
    const own: WeightMap = new Map(parameterSpecs(ir).map((s) => [s.name, sn.weights.get(s.name)!]));
    const x = pseudoImages(2, 64);
    expect(maxAbsDiff(forwardFlat(ir, w, x, 2), forwardFlat(ir, own, x, 2))).toBe(0);
  });

  it('a narrower network equals the full one with the dropped channels silenced (concats, SPPF, head)', () => {
    const sn = freshSupernet();
    const narrow = parseGenome({ ...largest, widthMultiple: 0.0625, imageSize: 64 });
    const x = pseudoImages(2, 64, 11);
    const sub = forwardFlat(buildIR(narrow), extractWeights(sn, narrow), x, 2);
    const full = forwardFlat(supernetIR(sn, narrow), silencedFull(sn, narrow), x, 2);
    const scale = Math.max(...full.map((f) => f.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
    expect(maxAbsDiff(sub, full)).toBeLessThan(1e-5 * Math.max(1, scale));
  });

  it('the same holds with separable rows (depthwise weights of their own)', () => {
    const sn = freshSupernet();
    const narrow = parseGenome({ ...largest, widthMultiple: 0.0625, imageSize: 64, separable: [3, 4, 18] });
    const w = extractWeights(sn, narrow);
    expect(w.has('model.3.dw.conv.weight')).toBe(true);
    expect(w.has('model.3.conv.weight')).toBe(false);
    expect(w.has('model.4.m.0.cv2.pw.conv.weight')).toBe(true);
    const x = pseudoImages(2, 64, 5);
    const sub = forwardFlat(buildIR(narrow), w, x, 2);
    const full = forwardFlat(supernetIR(sn, narrow), silencedFull(sn, narrow), x, 2);
    const scale = Math.max(...full.map((f) => f.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
    expect(maxAbsDiff(sub, full)).toBeLessThan(1e-5 * Math.max(1, scale));
    // Silencing is not vacuous: the unsilenced full network differs.
    const unsilenced = forwardFlat(supernetIR(sn, narrow), sn.weights, x, 2);
    expect(maxAbsDiff(unsilenced, full)).toBeGreaterThan(1e-3);
  });

  it('a shallower network takes the first k bottlenecks of each C3', () => {
    const sn = freshSupernet();
    const shallow = parseGenome({ ...largest, depthMultiple: 0.33, imageSize: 64 });
    const w = extractWeights(sn, shallow);
    // yolov5 row 4 has 6 bottlenecks at depth 1: 4 at 0.67, 2 at 0.33.
    expect(sn.weights.has('model.4.m.3.cv1.conv.weight')).toBe(true);
    expect(w.has('model.4.m.1.cv1.conv.weight')).toBe(true);
    expect(w.has('model.4.m.2.cv1.conv.weight')).toBe(false);
    expect(w.get('model.4.m.1.cv2.conv.weight')).toEqual(sn.weights.get('model.4.m.1.cv2.conv.weight'));
    // cv3 reads the concat of the last kept bottleneck and cv2: same tensor, same channels.
    expect(w.get('model.4.cv3.conv.weight')).toEqual(sn.weights.get('model.4.cv3.conv.weight'));
    const out = forwardFlat(buildIR(shallow), w, pseudoImages(1, 64), 1);
    expect(out.every((o) => o.every(Number.isFinite))).toBe(true);
  });

  it('importance reordering keeps the largest network the same function and sorts gamma', () => {
    const sn = freshSupernet();
    const x = pseudoImages(2, 64, 7);
    for (const sep of [[], [3, 4, 18], [4]]) {
      const g = parseGenome({ ...largest, imageSize: 64, separable: sep });
      const before = forwardFlat(buildIR(g), extractWeights(sn, g), x, 2);
      const copy: SupernetWeights = {
        ...sn,
        weights: new Map([...sn.weights].map(([k, v]) => [k, Float32Array.from(v)])),
      };
      reorderByImportance(copy);
      const after = forwardFlat(buildIR(g), extractWeights(copy, g), x, 2);
      const scale = Math.max(...before.map((f) => f.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
      expect(maxAbsDiff(before, after)).toBeLessThan(1e-5 * Math.max(1, scale));
      // A lone producer (row 0's conv) ends up sorted by |gamma|.
      const gamma = Array.from(copy.weights.get('model.0.bn.weight')!, Math.abs);
      expect(gamma).toEqual([...gamma].sort((a, b) => b - a));
      expect(copy.weights.get('model.0.bn.weight')).not.toEqual(sn.weights.get('model.0.bn.weight'));
    }
  });
});
