import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { supernetChildEntry } from './child-entry-path';
import { compileSearchSpace } from '@detsearch/search-space';
import { largestGenome, spaceSeparableRows } from './space';
import { initSupernet, loadSupernet, readSupernetFile } from './supernet-file';
import { TINY_SPACE_SPEC } from './test-helpers';
import { combineProgress, perSizeDir, trainSupernet } from './train';
import type { SupernetProgress, TrainSupernetOptions } from './types';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function job(outDir: string): TrainSupernetOptions {
  return {
    space: TINY_SPACE_SPEC,
    activation: 'silu',
    dataset: { synth: { images: 12, seed: 2, size: 64 } },
    outDir,
    epochs: 2,
    seed: 5,
    batchSize: 2,
    imageSizes: [64],
    maxBatchesPerEpoch: 2,
    maxValImages: 2,
    checkpointSeconds: 0,
  };
}

describe('supernet training', () => {
  it('resumes after SIGKILL from its last checkpoint and finishes', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'supernet-kill-'));
    dirs.push(outDir);
    const entry = supernetChildEntry();
    const child = fork(entry.file, [], {
      execArgv: entry.execArgv,
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const progress: SupernetProgress[] = [];
    const killed = new Promise<string | null>((resolve) => {
      child.on('message', (raw) => {
        const m = raw as { type: string; progress?: SupernetProgress };
        if (m.type === 'ready') child.send({ type: 'start', kind: 'supernet-train', payload: job(outDir) });
        if (m.type === 'progress') {
          progress.push(m.progress!);
          // Kill hard once the first checkpoint is on disk, mid-epoch.
          if (m.progress!.phase === 'train' && existsSync(join(outDir, 'checkpoint.safetensors')))
            child.kill('SIGKILL');
        }
      });
      child.on('exit', (_code, signal) => resolve(signal));
    });
    expect(await killed).toBe('SIGKILL');
    expect(existsSync(join(outDir, 'result.json'))).toBe(false);
    const stepsBeforeKill = progress.filter((p) => p.phase === 'train').length;
    expect(stepsBeforeKill).toBeGreaterThanOrEqual(2);
    expect(stepsBeforeKill).toBeLessThan(4);

    const resumedProgress: SupernetProgress[] = [];
    const r = await trainSupernet({ ...job(outDir), onProgress: (p) => resumedProgress.push(p) });
    expect(r.resumed).toBe(1);
    expect(r.status).toBe('completed');
    expect(r.metrics.steps).toBe(4);
    expect(r.epochs).toBe(2);
    // Only the steps after the checkpoint ran again.
    const resumedSteps = resumedProgress.filter((p) => p.phase === 'train').length;
    expect(resumedSteps).toBeLessThanOrEqual(4 - (stepsBeforeKill - 1));
    expect(resumedProgress.at(-1)!.phase).toBe('done');
    expect(Number.isFinite(r.metrics.largestMap50)).toBe(true);
    const sn = loadSupernet(r.weightsPath);
    expect(sn.activation).toBe('silu');
    expect(sn.separableRows).toEqual([3, 4, 18]);
    expect(sn.weights.has('model.3.dw.conv.weight')).toBe(true);
    // A finished run is returned as it is.
    const again = await trainSupernet({ ...job(outDir), inProcess: true });
    expect(again).toEqual(r);
    // A finished run or a checkpoint of another dataset (or space, activation, settings) is never reused.
    const other = { ...job(outDir), dataset: { synth: { images: 12, seed: 3, size: 64 } }, inProcess: true };
    await expect(trainSupernet(other)).rejects.toThrow(/result.json: from another run/);
    const narrower = { ...job(outDir).space, widthMultiple: { type: 'ordinal' as const, values: [0.0625] } };
    await expect(trainSupernet({ ...job(outDir), space: narrower, inProcess: true })).rejects.toThrow(
      /from another run/,
    );
    rmSync(join(outDir, 'result.json'));
    await expect(trainSupernet(other)).rejects.toThrow(/checkpoint.safetensors: from another run/);
    // Two training processes, each paying the wasm warm-up: slow on a loaded machine.
  }, 240_000);

  it('trains the largest network alone first, then the sandwich (separable weights untouched until then)', async () => {
    const run = async (largestFirst: number) => {
      const outDir = mkdtempSync(join(tmpdir(), 'supernet-first-'));
      dirs.push(outDir);
      const r = await trainSupernet({ ...job(outDir), largestFirst, inProcess: true });
      return loadSupernet(r.weightsPath);
    };
    const space = compileSearchSpace(TINY_SPACE_SPEC);
    const initial = initSupernet(
      largestGenome(space, { activation: 'silu', numClasses: 2 }),
      spaceSeparableRows(space),
      { seed: 5 },
    );
    // Tensors only a separable sub-network uses: the largest is dense.
    const separableOnly = [...initial.weights.keys()].filter((k) => /^model\.\d+\.(dw|pw)\./.test(k));
    expect(separableOnly.length).toBeGreaterThan(0);
    // Compared as sorted values: the importance reordering after each epoch permutes channels.
    const sorted = (w: Float32Array) => Float32Array.from(w).sort();
    const changed = (sn: { weights: Map<string, Float32Array> }) =>
      separableOnly.filter((k) => {
        const a = sorted(sn.weights.get(k)!);
        const b = sorted(initial.weights.get(k)!);
        return a.some((x, i) => x !== b[i]);
      }).length;
    const alone = await run(1);
    expect(changed(alone)).toBe(0);
    // The dense weights did learn.
    const stem = 'model.0.conv.weight';
    expect(alone.weights.get(stem)).not.toEqual(initial.weights.get(stem));
    expect(changed(await run(0))).toBeGreaterThan(0);
  }, 120_000);

  it("trains separable weights every sandwich step through the smallest member, the space's least compute", async () => {
    const space = compileSearchSpace(TINY_SPACE_SPEC);
    const initial = initSupernet(
      largestGenome(space, { activation: 'silu', numClasses: 2 }),
      spaceSeparableRows(space),
      { seed: 5 },
    );
    // The learned separable substitutes of the Conv rows 3 and 18 (BatchNorm statistics follow the largest).
    const convSeparable = [...initial.weights.keys()].filter(
      (k) => /^model\.(3|18)\.(dw|pw)\./.test(k) && !/running|num_batches/.test(k),
    );
    expect(convSeparable.length).toBeGreaterThan(0);
    const sorted = (w: Float32Array) => Float32Array.from(w).sort();
    const trained = async (separableSmallest: boolean) => {
      const outDir = mkdtempSync(join(tmpdir(), 'supernet-smallest-'));
      dirs.push(outDir);
      // No random sub-network: only the largest (dense) and the smallest train.
      const r = await trainSupernet({
        ...job(outDir),
        largestFirst: 0,
        randomSubnets: 0,
        separableSmallest,
        inProcess: true,
      });
      const sn = loadSupernet(r.weightsPath);
      return convSeparable.filter((k) => {
        const a = sorted(sn.weights.get(k)!);
        const b = sorted(initial.weights.get(k)!);
        return a.some((x, i) => x !== b[i]);
      });
    };
    expect(await trained(true)).toEqual(convSeparable);
    expect(await trained(false)).toEqual([]);
  }, 120_000);

  it('trains one weight set per image size, each its own resumable run, merged into one file', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'supernet-per-size-'));
    dirs.push(outDir);
    const perSize = { ...job(outDir), epochs: 1, imageSizes: undefined, perSize: true };
    // The 64 px run finished earlier (a kill after it, say): it is taken as it is, only 96 px trains.
    const first = await trainSupernet({
      ...perSize,
      perSize: false,
      imageSizes: [64],
      outDir: perSizeDir(outDir, 64),
      inProcess: true,
    });
    const progress: SupernetProgress[] = [];
    const r = await trainSupernet({ ...perSize, onProgress: (p) => progress.push(p) });
    expect(r.metrics.imageSizes).toEqual([64, 96]);
    expect(r.metrics.perSize!.map((s) => [s.imageSize, s.steps, s.epochs])).toEqual([
      [64, 2, 1],
      [96, 2, 1],
    ]);
    expect(r.metrics.steps).toBe(4);
    expect(r.epochs).toBe(1);
    expect(r.metrics.largestMap50).toBe(r.metrics.perSize![1]!.largestMap50);
    const trained = (size: number) =>
      progress.filter(
        (p) => p.phase === 'train' && p.sizes!.find((s) => s.imageSize === size)!.phase === 'train',
      );
    expect(trained(96).length).toBeGreaterThan(0);
    expect(trained(64)).toEqual([]);
    expect(progress.at(-1)!.phase).toBe('done');

    // One file, a set per size: 64 px is the earlier run's, 96 px one trained at 96 px alone.
    const file = readSupernetFile(r.weightsPath);
    expect(file.sets.map((s) => s.imageSize)).toEqual([64, 96]);
    const alone96 = mkdtempSync(join(tmpdir(), 'supernet-96-'));
    dirs.push(alone96);
    const single96 = await trainSupernet({
      ...perSize,
      perSize: false,
      imageSizes: [96],
      outDir: alone96,
      inProcess: true,
    });
    const stem = 'model.0.conv.weight';
    expect(file.sets[0]!.supernet.weights.get(stem)).toEqual(
      loadSupernet(first.weightsPath).weights.get(stem),
    );
    expect(file.sets[1]!.supernet.weights.get(stem)).toEqual(
      loadSupernet(single96.weightsPath).weights.get(stem),
    );
    expect(file.sets[0]!.supernet.weights.get(stem)).not.toEqual(file.sets[1]!.supernet.weights.get(stem));

    // Finished: returned as it is; another seed in the same outDir is another run.
    expect(await trainSupernet({ ...perSize, inProcess: true })).toEqual(r);
    await expect(trainSupernet({ ...perSize, seed: 6, inProcess: true })).rejects.toThrow(
      /result.json: from another run/,
    );
  }, 240_000);

  it('reports concurrent per-size runs as the least advanced, with the longest times', () => {
    const p = (
      epoch: number,
      step: number,
      phase: SupernetProgress['phase'],
      elapsedMs: number,
      etaMs: number,
      loss: number,
    ): SupernetProgress => ({
      epoch,
      step,
      stepsPerEpoch: 10,
      elapsedMs,
      etaMs,
      loss,
      phase,
    });
    const c = combineProgress(
      [64, 96, 128],
      new Map([
        [64, p(2, 5, 'checkpoint', 1000, 500, 1)],
        [96, p(1, 7, 'train', 1200, 900, 3)],
      ]),
    );
    // 128 px has not reported yet: it is the least advanced, still preparing.
    expect(c).toMatchObject({ epoch: 0, step: 0, phase: 'prepare', elapsedMs: 1200, etaMs: 900, loss: 2 });
    expect(c.sizes!.map((s) => s.imageSize)).toEqual([64, 96, 128]);
    const all = combineProgress(
      [64, 96],
      new Map([
        [64, p(3, 0, 'done', 1000, 0, 1)],
        [96, p(1, 7, 'train', 1200, 900, 3)],
      ]),
    );
    expect(all).toMatchObject({ epoch: 1, step: 7, phase: 'train' });
  });
});
