import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIR, initWeights, modelCost, parseGenome } from '@detsearch/genome';
import { exportOnnx, loadWeights, OnnxModel } from '@detsearch/model-onnx';
import {
  runInChild,
  runTrial,
  runTrialInProcess,
  trainDetector,
  TrialFailedError,
  type EpochMetrics,
  type TrainJob,
  type TrainSummary,
  type TrialRunResult,
} from '@detsearch/training';

// Tiny everything: the whole project suite runs on 2 shared cores.
const GENOME = { depthMultiple: 0.33, widthMultiple: 0.0625, imageSize: 64, numClasses: 6 };
let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'detsearch-trainer-'));
  process.env.DATA_ROOT = root;
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function job(name: string, extra: Partial<TrainJob> = {}): TrainJob {
  return {
    genome: GENOME,
    dataset: { synth: { images: 24, seed: 3, size: 64 } },
    epochs: 2,
    batchSize: 8,
    seed: 1,
    outDir: join(root, name),
    workers: 0,
    backend: 'wasm',
    maxBatchesPerEpoch: 2,
    maxValImages: 8,
    ...extra,
  };
}

// An infinite learning rate: the first optimizer step makes the weights non-finite, so the second
// batch's loss is NaN. (The IPC channel uses structured clone, which carries Infinity.)
const DIVERGE = { lr0: Infinity, warmupEpochs: 0, nominalBatch: 8, augment: false };

const finiteLosses = (m: EpochMetrics) => [m.box, m.obj, m.cls].every((v) => Number.isFinite(v) && v >= 0);

describe('trainer', () => {
  it('trains in a child process (from TS source), streams epochs and obeys a stop decision', async () => {
    const seen: EpochMetrics[] = [];
    const logs: string[] = [];
    const summary = await runInChild<TrainSummary>('train', job('child', { epochs: 3 }), {
      onLog: (l) => logs.push(l),
      onEpoch: (m) => {
        seen.push(m);
        return m.epoch === 1 ? 'stop' : 'continue';
      },
    });
    expect(summary.status).toBe('stopped');
    expect(summary.epochs.map((e) => e.epoch)).toEqual([0, 1]);
    expect(seen).toEqual(summary.epochs);
    for (const m of seen) {
      expect(finiteLosses(m)).toBe(true);
      expect(m.map50).toBeGreaterThanOrEqual(0);
      expect(m.map50).toBeLessThanOrEqual(1);
      expect(m.imagesPerSecond).toBeGreaterThan(0);
    }
    expect(summary.backend).toBe('wasm');
    expect(logs.some((l) => l.includes('wasm'))).toBe(true);
    // EMA weights on disk in the canonical layout, loadable for export.
    const file = loadWeights(summary.weightsPath!);
    const ir = buildIR(parseGenome(GENOME));
    expect(file.weights.size).toBe(initWeights(ir).size);
    expect([...file.weights.values()].every((w) => w.every(Number.isFinite))).toBe(true);
  });

  it('an aborted child run rejects promptly', async () => {
    const controller = new AbortController();
    const t0 = Date.now();
    const run = runInChild('train', job('abort', { epochs: 50 }), {
      signal: controller.signal,
      onLog: () => controller.abort(),
    });
    await expect(run).rejects.toMatchObject({ code: 'ABORTED' });
    expect(Date.now() - t0).toBeLessThan(60_000);
  });

  it('ends a diverging run as failed with the reason, and the process carries on', async () => {
    const out = await trainDetector(
      job('nan', {
        epochs: 1,
        hyp: DIVERGE,
      }),
    );
    expect(out.summary.status).toBe('failed');
    expect(out.summary.reason).toMatch(/not finite at epoch \d+, batch \d+/);
    expect(out.summary.weightsPath).toBeUndefined();
    // Still usable afterwards: a normal run in the same process, which leaves no tensor behind.
    const tensorsBefore = tf.memory().numTensors;
    const ok = await trainDetector(job('after-nan', { epochs: 1, maxBatchesPerEpoch: 2 }));
    expect(ok.summary.status).toBe('completed');
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('distils from a teacher ONNX: the distillation term is reported and finite', async () => {
    const genome = parseGenome(GENOME);
    const ir = buildIR(genome);
    const teacherPath = join(root, 'teacher.onnx');
    writeFileSync(teacherPath, await exportOnnx(ir, initWeights(ir, { seed: 9 }), { precision: 'fp32' }));
    const out = await trainDetector(
      job('distill', { epochs: 1, maxBatchesPerEpoch: 1, teacherOnnx: teacherPath, distillWeight: 0.5 }),
    );
    expect(out.summary.status).toBe('completed');
    const d = out.summary.epochs[0]!.distill;
    expect(d).toBeGreaterThan(0);
    expect(Number.isFinite(d)).toBe(true);
  });
});

describe('runTrial', () => {
  it('trains, exports int8 (calibrated), scores the exported model, measures and predicts latency', async () => {
    const genome = {
      ...GENOME,
      quantization: { precision: 'int8', scheme: 'static', granularity: 'per-channel' },
    };
    const events: string[] = [];
    const r: TrialRunResult = await runTrial(
      {
        genome,
        dataset: { synth: { images: 24, seed: 3, size: 64 } },
        epochs: 1,
        batchSize: 8,
        hardwareProfile: 'raspberry-pi-4',
        seed: 1,
        outDir: join(root, 'trial'),
        workers: 0,
        backend: 'wasm',
        maxBatchesPerEpoch: 2,
        maxValImages: 8,
        calibrationImages: 4,
        latencyRuns: 3,
        // A negative threshold forces the quantization-aware stage (an untrained model loses nothing).
        qat: { threshold: -1, epochs: 1 },
      },
      (e) => void events.push(e.type),
    );
    expect(r.quantization.method).toMatch(
      /^int8 static per-channel, minmax calibration on 4 training images/,
    );
    expect(r.quantization.method).toMatch(/quantization-aware fine-tuning/);
    expect(r.quantization.floatLayers).toEqual([0, 24]);
    expect(r.quantization.ptqMap50).toBeGreaterThanOrEqual(0);
    expect(r.quantization.qatMap50).toBeGreaterThanOrEqual(0);
    expect(r.quantization.deployedMap50).toBe(Math.max(r.quantization.ptqMap50!, r.quantization.qatMap50!));
    expect(r.map50).toBe(r.quantization.deployedMap50);
    expect(r.status).toBe('completed');
    expect(events).toContain('epoch');
    for (const v of [r.map50, r.map50_95, r.fp32Map50, r.fp32Map50_95]) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    const cost = modelCost(buildIR(parseGenome(genome)));
    expect(r.params).toBe(cost.params);
    expect(r.precision).toBe('int8');
    expect(r.latencyMs).toBeGreaterThan(0);
    expect(r.measuredLatencyMs).toBeGreaterThan(0);
    expect(r.sizeBytes).toBeGreaterThan(1000);
    expect(existsSync(r.onnxPath)).toBe(true);
    expect(existsSync(r.weightsPath)).toBe(true);
    expect(r.epochs).toHaveLength(1);
  });

  it('trains at the fidelity size, deploys at the genome size, and reuses a training without training', async () => {
    const base = {
      dataset: { synth: { images: 24, seed: 3, size: 64 } },
      epochs: 1,
      batchSize: 8,
      imageSize: 64,
      hardwareProfile: 'host',
      seed: 1,
      workers: 0,
      backend: 'wasm',
      maxBatchesPerEpoch: 2,
      maxValImages: 8,
      calibrationImages: 4,
      latencyRuns: 2,
      qat: { epochs: 0 },
    };
    const first = await runTrialInProcess({ ...base, genome: GENOME, outDir: join(root, 'train-64') });
    expect(first).toMatchObject({ imageSize: 64, trainImageSize: 64, reusedTraining: false });

    const epochs: unknown[] = [];
    const int8At96 = { ...GENOME, imageSize: 96, quantization: { precision: 'int8' } };
    const second = await runTrialInProcess(
      {
        ...base,
        genome: int8At96,
        outDir: join(root, 'reuse-96'),
        trained: { weightsPath: first.weightsPath, summary: first.training },
      },
      {
        onEpoch: (m) => {
          epochs.push(m);
          return 'continue';
        },
      },
    );
    expect(epochs).toEqual([]);
    expect(second).toMatchObject({
      imageSize: 96,
      trainImageSize: 64,
      reusedTraining: true,
      precision: 'int8',
    });
    expect(second.epochs).toEqual(first.epochs);
    // Exported at the deployed size: its cost is the 96 px model's, and its grid fits 96 px.
    expect(second.gflops).toBeCloseTo(modelCost(buildIR(parseGenome(int8At96))).gflops, 9);
    const model = await OnnxModel.load(second.onnxPath);
    try {
      const outs = await model.run(new Float32Array(3 * 96 * 96));
      expect(outs[0]!.length).toBe(3 * (6 + 5) * 12 * 12);
    } finally {
      await model.dispose();
    }

    // Weights of another architecture are refused, not silently reinitialized.
    await expect(
      runTrialInProcess({
        ...base,
        genome: { ...GENOME, widthMultiple: 0.125 },
        outDir: join(root, 'reuse-wrong'),
        trained: { weightsPath: first.weightsPath, summary: first.training },
      }),
    ).rejects.toBeInstanceOf(TrialFailedError);
  });

  it('rejects a diverging trial with TrialFailedError', async () => {
    await expect(
      runTrial({
        genome: GENOME,
        dataset: { synth: { images: 24, seed: 3, size: 64 } },
        epochs: 1,
        batchSize: 8,
        hardwareProfile: 'raspberry-pi-4',
        seed: 1,
        outDir: join(root, 'trial-nan'),
        workers: 0,
        backend: 'wasm',
        maxBatchesPerEpoch: 2,
        hyp: DIVERGE,
      }),
    ).rejects.toBeInstanceOf(TrialFailedError);
  });
});
