import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGenome } from '@detsearch/genome';
import { FullEvaluator } from '@detsearch/orchestrator';
import type { EpochReport } from '@detsearch/domain';

// Tiny everything: the whole project suite runs on 2 shared cores.
const ARCH = { depthMultiple: 0.33, widthMultiple: 0.0625, numClasses: 6, activation: 'relu' };
let home: string;

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'detsearch-reuse-'));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('the full evaluator shares one training between genomes that differ only in deployment', () => {
  it('trains once; a concurrent trial of the same architecture at another size and precision waits and reuses it', async () => {
    const evaluator = new FullEvaluator({
      home,
      synthetic: { images: 24, seed: 3, size: 64 },
      batchSize: 8,
      backend: 'wasm',
    });
    const fidelity = { epochs: 1, imageSize: 64 };
    const fp32At64 = parseGenome({ ...ARCH, imageSize: 64 });
    const int8At96 = parseGenome({ ...ARCH, imageSize: 96, quantization: { precision: 'int8' } });
    expect(evaluator.trainingKey(fp32At64, fidelity)).toBe(evaluator.trainingKey(int8At96, fidelity));
    expect(evaluator.trainingKey(fp32At64, fidelity)).not.toBe(
      evaluator.trainingKey({ ...fp32At64, widthMultiple: 0.125 }, fidelity),
    );
    expect(evaluator.trainingKey(fp32At64, fidelity)).not.toBe(
      evaluator.trainingKey(fp32At64, { ...fidelity, epochs: 2 }),
    );

    const trained: EpochReport[] = [];
    const reusedEpochs: EpochReport[] = [];
    const ctx = (sink: EpochReport[]) => ({
      signal: new AbortController().signal,
      onEpoch: (m: EpochReport) => {
        sink.push(m);
        return 'continue' as const;
      },
    });
    const request = { searchId: 's1', fidelity, hardwareProfile: 'host', seed: 1 };
    const [a, b] = await Promise.all([
      evaluator.evaluate({ ...request, trialId: 't1', genome: fp32At64 }, ctx(trained)),
      evaluator.evaluate({ ...request, trialId: 't2', genome: int8At96 }, ctx(reusedEpochs)),
    ]);
    expect(trained).toHaveLength(1);
    expect(reusedEpochs).toEqual([]);
    expect(a.notes).toMatch(/^trained 1 epochs at 64px/);
    expect(b.notes).toMatch(/^no training: deployed the weights trained by trial t1/);
    expect(b.notes).toMatch(/exported and scored at 96px/);
    // the reusing trial still reports the training's learning curve
    expect(b.epochs.map((e) => e.epoch)).toEqual([1]);
    expect(b.gflops).toBeGreaterThan(a.gflops);
    expect(b.onnxPath).not.toBe(a.onnxPath);

    // another search never sees this search's trainings
    const other = await evaluator.evaluate(
      { ...request, searchId: 's2', trialId: 't3', genome: int8At96 },
      ctx([]),
    );
    expect(other.notes).toMatch(/^trained 1 epochs/);

    // when a search's loop ends its shared trainings go (its artifacts live in the store)
    expect(existsSync(join(home, 'trials', 's1', 'trainings'))).toBe(true);
    await evaluator.dispose({ searchId: 's1' });
    expect(existsSync(join(home, 'trials', 's1', 'trainings'))).toBe(false);
    expect(existsSync(join(home, 'trials', 's2', 'trainings'))).toBe(true);
  });
});
