import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIR, parseGenome, type ModelIR, type WeightMap } from '@detsearch/genome';
import { initBackend, TfjsDetector } from '@detsearch/model-tfjs';
import { prepareDataset, scaledLossHyp, SCRATCH_LOW_LOSS, yoloLoss, type Batch } from '@detsearch/training';
import { adaptSubnet } from './adapt';
import { extractWeights } from './extract';
import { largestGenome } from './space';
import { initSupernet } from './supernet-file';
import { TINY_SPACE, tinySubnetGenome } from './test-helpers';
import { trainBatches } from './train';

const dir = mkdtempSync(join(tmpdir(), 'supernet-adapt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Mean detection loss of the weights over the batches (training-mode forward, as the steps see it). */
function meanLoss(ir: ModelIR, weights: WeightMap, batches: Batch[]): number {
  const model = TfjsDetector.build(ir, weights);
  try {
    const hyp = scaledLossHyp(ir.genome.numClasses, ir.input.shape.height, 3, SCRATCH_LOW_LOSS);
    let sum = 0;
    for (const b of batches)
      sum += tf.tidy(() => {
        const x = tf.tensor4d(b.images, [b.size, b.imageSize, b.imageSize, 3]);
        const outs = model.forward(x, true);
        return yoloLoss(outs, b.targets, { numClasses: ir.genome.numClasses, hyp }).total.dataSync()[0]!;
      });
    model.discardBatchNormUpdates();
    return sum / batches.length;
  } finally {
    model.dispose();
  }
}

describe('adaptation of an extracted sub-network', () => {
  let batches: Batch[];
  let ir: ModelIR;
  let inherited: WeightMap;

  beforeAll(async () => {
    await initBackend('wasm', { log: () => undefined });
    const data = await prepareDataset({ synth: { images: 20, seed: 3, size: 64 } }, dir);
    batches = await trainBatches(data, 16, 64, 0, 8);
    const largest = largestGenome(TINY_SPACE, { numClasses: data.numClasses });
    const sn = initSupernet(largest, [3, 4, 18], { seed: 5 });
    const g = tinySubnetGenome(largest);
    ir = buildIR(g);
    inherited = extractWeights(sn, g);
  });

  it('zero steps returns the inherited weights as they are', () => {
    expect(adaptSubnet(ir, inherited, batches, { steps: 0 })).toBe(inherited);
  });

  it('lowers the training loss on its batches and leaves the inherited map unchanged', () => {
    const before = new Map([...inherited].map(([k, v]) => [k, Float32Array.from(v)]));
    const adapted = adaptSubnet(ir, inherited, batches, { steps: 6, lr: 2e-3 });
    for (const [k, v] of before) expect(inherited.get(k)).toEqual(v);
    expect([...adapted.keys()].sort()).toEqual([...inherited.keys()].sort());
    for (const [k, v] of adapted) expect(v.length).toBe(inherited.get(k)!.length);
    expect(adapted.get('model.0.conv.weight')).not.toEqual(inherited.get('model.0.conv.weight'));
    // BatchNorm running statistics follow the steps' batches.
    expect(adapted.get('model.0.bn.running_mean')).not.toEqual(inherited.get('model.0.bn.running_mean'));
    expect(meanLoss(ir, adapted, batches)).toBeLessThan(meanLoss(ir, inherited, batches) * 0.95);
  }, 120_000);

  it('a warm-up, and a decay after it, move the weights less', () => {
    const drift = (w: WeightMap) => {
      let sum = 0;
      for (const [k, v] of w) {
        if (!k.endsWith('.weight')) continue;
        const base = inherited.get(k)!;
        for (let i = 0; i < v.length; i++) sum += Math.abs(v[i]! - base[i]!);
      }
      return sum;
    };
    const plain = adaptSubnet(ir, inherited, batches, { steps: 2, lr: 2e-3 });
    const ramped = adaptSubnet(ir, inherited, batches, { steps: 2, lr: 2e-3, warmup: 1 });
    // Two ramped steps at a third and two thirds of the rate: about half the plain steps' drift.
    expect(drift(ramped)).toBeLessThan(drift(plain) * 0.7);
    expect(drift(ramped)).toBeGreaterThan(drift(plain) * 0.3);
    // Four steps after a one-step warm-up: at 1/2, 1, 1, 1 of the rate, or 1/2, 1, 2/3, 1/3 decaying.
    const held = adaptSubnet(ir, inherited, batches, { steps: 4, lr: 2e-3, warmup: 0.25 });
    const decayed = adaptSubnet(ir, inherited, batches, { steps: 4, lr: 2e-3, warmup: 0.25, decay: true });
    expect(drift(decayed)).toBeLessThan(drift(held) * 0.9);
  }, 120_000);

  it('refuses batches of another image size than the network', () => {
    const other = buildIR(parseGenome({ ...ir.genome, imageSize: 96 }));
    expect(() => adaptSubnet(other, inherited, batches, { steps: 1 })).toThrow(/64 px for a 96 px/);
  });
});
