import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIR, parseGenome } from '@detsearch/genome';
import { loadWeights, weightMismatches } from '@detsearch/model-onnx';
import { initBackend } from '@detsearch/model-tfjs';
import { extractWeights } from './extract';
import { recalibrateBatchNorm } from './recalibrate';
import { scoreCandidate } from './score';
import { CandidateScorer } from './scorer';
import { largestGenome } from './space';
import { initSupernet, saveSupernet, saveSupernetSets } from './supernet-file';
import { pseudoImages, TINY_SPACE, tinySubnetGenome } from './test-helpers';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('BatchNorm recalibration and candidate scoring', () => {
  beforeAll(async () => {
    await initBackend('wasm', { log: () => undefined });
  });

  it('recalibration moves running statistics to the batch statistics', async () => {
    const sn = initSupernet(largestGenome(TINY_SPACE, { numClasses: 2 }), [3], {
      seed: 1,
      randomizeBatchNorm: true,
    });
    const g = parseGenome({
      ...largestGenome(TINY_SPACE, { numClasses: 2 }),
      widthMultiple: 0.0625,
      imageSize: 64,
    });
    const w = extractWeights(sn, g);
    const images = pseudoImages(4, 64, 3);
    const recal = await recalibrateBatchNorm(w, g, [{ images, size: 4, imageSize: 64 }]);
    // The first conv's output statistics over the batch, computed directly (6x6 stride 2 pad 2).
    const ir = buildIR(g);
    const conv = ir.ops.find((o) => o.name === 'model.0.conv')!;
    if (conv.kind !== 'conv') throw new Error('unexpected IR');
    const { mean, variance } = tf.tidy(() => {
      const x = tf.pad(tf.tensor4d(images, [4, 64, 64, 3]), [
        [0, 0],
        [2, 2],
        [2, 2],
        [0, 0],
      ]);
      const filter = tf.transpose(
        tf.tensor4d(w.get('model.0.conv.weight')!, [conv.outChannels, 3, 6, 6]),
        [2, 3, 1, 0],
      );
      const y = tf.conv2d(x, filter as tf.Tensor4D, 2, 'valid');
      const m = tf.moments(y, [0, 1, 2]);
      const n = y.size / conv.outChannels;
      return { mean: m.mean.dataSync(), variance: tf.mul(m.variance, n / (n - 1)).dataSync() };
    });
    const before = w.get('model.0.bn.running_mean')!;
    const after = recal.get('model.0.bn.running_mean')!;
    const dist = (a: ArrayLike<number>) => Math.max(...Array.from(a, (v, i) => Math.abs(v - mean[i]!)));
    expect(dist(before)).toBeGreaterThan(0.05);
    expect(dist(after)).toBeLessThan(1e-3);
    const varAfter = recal.get('model.0.bn.running_var')!;
    expect(
      Math.max(...Array.from(varAfter, (v, i) => Math.abs(v - variance[i]!) / variance[i]!)),
    ).toBeLessThan(1e-2);
    // Weights other than the running statistics are untouched.
    expect(recal.get('model.0.conv.weight')).toEqual(w.get('model.0.conv.weight'));
    expect(recal.get('model.0.bn.weight')).toEqual(w.get('model.0.bn.weight'));
  });

  it('scores a candidate as deployed (fp32 and int8), leaving the ONNX and the recalibrated weights', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'supernet-score-'));
    dirs.push(outDir);
    const largest = largestGenome(TINY_SPACE, { numClasses: 6 });
    const sn = initSupernet(largest, [3, 4, 18], { seed: 2 });
    const dataset = { synth: { images: 10, seed: 4, size: 64 } };
    const fromFile = { dataset, hardwareProfile: 'x86-server', bnImages: 8, latencyRuns: 2 };
    const common = { ...fromFile, weights: sn, inProcess: true };
    const g = tinySubnetGenome(largest);
    const fp32 = await scoreCandidate({ ...common, genome: g, outDir: join(outDir, 'a') });
    expect(fp32.map50).toBeGreaterThanOrEqual(0);
    expect(fp32.map50).toBeLessThanOrEqual(1);
    expect(fp32.fp32Map50).toBe(fp32.map50);
    expect(fp32.latencyMs).toBeGreaterThan(0);
    expect(fp32.measuredLatencyMs).toBeGreaterThan(0);
    expect(fp32.params).toBeGreaterThan(1000);
    expect(existsSync(fp32.onnxPath)).toBe(true);
    const file = loadWeights(fp32.weightsPath);
    expect(weightMismatches(buildIR({ ...g, numClasses: 6 }), file)).toEqual([]);

    // Adapted first: the saved weights are the adapted ones, and the time is accounted for.
    const adapted = await scoreCandidate({ ...common, genome: g, outDir: join(outDir, 'd'), adaptSteps: 2 });
    expect(adapted.phaseSeconds!.adapt).toBeGreaterThan(0);
    expect(fp32.phaseSeconds!.adapt).toBeLessThan(adapted.phaseSeconds!.adapt);
    const adaptedFile = loadWeights(adapted.weightsPath);
    expect(adaptedFile.weights.get('model.0.conv.weight')).not.toEqual(
      file.weights.get('model.0.conv.weight'),
    );

    // Many candidates through one long-lived child: the supernet file, int8 export, requests queued.
    const path = join(outDir, 'supernet.safetensors');
    saveSupernet(path, sn);
    const scorer = CandidateScorer.open();
    try {
      const [int8, again] = await Promise.all([
        scorer.score({
          ...fromFile,
          supernetPath: path,
          genome: parseGenome({ ...g, quantization: { precision: 'int8' } }),
          outDir: join(outDir, 'b'),
          calibrationImages: 4,
        }),
        scorer.score({ ...fromFile, supernetPath: path, genome: g, outDir: join(outDir, 'c') }),
      ]);
      expect(int8.sizeBytes).toBeLessThan(fp32.sizeBytes);
      expect(int8.params).toBe(fp32.params);
      // Same weights from the file as from memory: the same estimate.
      expect(again.map50).toBeCloseTo(fp32.map50, 6);
      expect(again.sizeBytes).toBe(fp32.sizeBytes);
    } finally {
      await scorer.close();
    }
    await expect(scorer.score({ ...fromFile, supernetPath: path, genome: g, outDir })).rejects.toThrow(
      /closed/,
    );
  }, 180_000);

  it('scores each genome on the weight set of its own image size from a per-size file', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'supernet-score-sets-'));
    dirs.push(outDir);
    const largest = largestGenome(TINY_SPACE, { numClasses: 6 });
    const at64 = initSupernet(largest, [3, 4, 18], { seed: 2 });
    const at96 = initSupernet(largest, [3, 4, 18], { seed: 7 });
    const path = join(outDir, 'sets.safetensors');
    saveSupernetSets(path, [
      { imageSize: 64, supernet: at64 },
      { imageSize: 96, supernet: at96 },
    ]);
    const common = {
      dataset: { synth: { images: 10, seed: 4, size: 64 } },
      hardwareProfile: 'x86-server',
      bnImages: 8,
      latencyRuns: 1,
      inProcess: true,
    };
    const g64 = tinySubnetGenome(largest);
    const g96 = parseGenome({ ...g64, imageSize: 96 });
    const stem = async (o: Partial<Parameters<typeof scoreCandidate>[0]>, name: string) => {
      const r = await scoreCandidate({ ...common, genome: g64, ...o, outDir: join(outDir, name) });
      return loadWeights(r.weightsPath).weights.get('model.0.conv.weight');
    };
    const fromFile64 = await stem({ supernetPath: path }, 'f64');
    const fromFile96 = await stem({ supernetPath: path, genome: g96 }, 'f96');
    expect(fromFile64).toEqual(await stem({ weights: at64 }, 'm64'));
    expect(fromFile96).toEqual(await stem({ weights: at96, genome: g96 }, 'm96'));
    expect(fromFile64).not.toEqual(fromFile96);
    // The scoring size picks the set, not the genome's own size.
    expect(await stem({ supernetPath: path, imageSize: 96 }, 's96')).toEqual(fromFile96);
  }, 120_000);
});
