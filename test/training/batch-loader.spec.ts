import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Batch,
  type YoloSample,
  createBatchLoader,
  letterbox,
  readYoloDataset,
  renderSynthImage,
  synthDataset,
} from '@detsearch/training';

const tmp = mkdtempSync(join(tmpdir(), 'detsearch-loader-'));
let samples: YoloSample[];

beforeAll(async () => {
  const r = await synthDataset(join(tmp, 'ds'), { images: 11, seed: 2, size: 80, valFraction: 0 });
  samples = (await readYoloDataset(r.yaml, { dataRoot: tmp })).train.samples;
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Byte equality of float arrays (vitest's deep equality is slow on 50k elements). */
const same = (a: Float32Array, b: Float32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

async function collect(it: AsyncIterable<Batch>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

describe('createBatchLoader', () => {
  it('letterboxes without augmentation: NHWC floats in 0..1 and targets per image', async () => {
    const loader = createBatchLoader(samples, { batchSize: 4, imageSize: 64, workers: 0 });
    const batches = await collect(loader);
    expect(loader.batchesPerEpoch).toBe(3);
    expect(batches.map((b) => b.size)).toEqual([4, 4, 3]);
    const b0 = batches[0]!;
    expect(b0.images).toHaveLength(4 * 64 * 64 * 3);
    expect(b0.indices).toEqual([0, 1, 2, 3]);
    // Image 1 of batch 0 is synth image 1 (80 px) letterboxed to 64: same pixels / 255.
    const lb = letterbox(renderSynthImage(2, 1, 80).image, 64);
    const off = 64 * 64 * 3;
    for (const k of [0, 1000, 5000, 12287])
      expect(b0.images[off + k]).toBeCloseTo(lb.image.data[k]! / 255, 6);
    // Targets: the labels of sample 1 under image index 1, normalized (square in, square out).
    const rows = [];
    for (let r = 0; r < b0.numTargets; r++)
      if (b0.targets[r * 6] === 1) rows.push([...b0.targets.subarray(r * 6 + 1, r * 6 + 6)]);
    expect(rows).toHaveLength(samples[1]!.boxes.length);
    rows.forEach((row, i) => {
      const b = samples[1]!.boxes[i]!;
      [b.cls, b.cx, b.cy, b.w, b.h].forEach((v, j) => expect(row[j]).toBeCloseTo(v, 5));
    });
    expect(b0.shapes[1]).toEqual({ width: 80, height: 80, ratio: 0.8, padX: 0, padY: 0 });
    await loader.close();
  });

  it('is deterministic per seed whatever the number of workers, and reshuffles per epoch', async () => {
    const opts = { batchSize: 4, imageSize: 64, augment: { mosaic: 0.5 }, seed: 11 };
    const inline = createBatchLoader(samples, { ...opts, workers: 0 });
    const pooled = createBatchLoader(samples, { ...opts, workers: 2 });
    try {
      const [a0, a1] = [await collect(inline.epoch(0)), await collect(inline.epoch(1))];
      const [b0, b1] = [await collect(pooled), await collect(pooled)];
      for (const [x, y] of [
        [a0, b0],
        [a1, b1],
      ] as const) {
        expect(y.map((b) => b.indices)).toEqual(x.map((b) => b.indices));
        y.forEach((b, i) => {
          expect(same(b.images, x[i]!.images)).toBe(true);
          expect(same(b.targets, x[i]!.targets)).toBe(true);
        });
      }
      expect(a0.flatMap((b) => b.indices)).not.toEqual(a1.flatMap((b) => b.indices));
      expect([...a0.flatMap((b) => b.indices)].sort((p, q) => p - q)).toEqual([...Array(11).keys()]);
      // Augmented targets stay normalized boxes with a valid image index.
      for (const b of a0)
        for (let r = 0; r < b.numTargets; r++) {
          const [i, , cx, cy, w, h] = b.targets.subarray(r * 6, r * 6 + 6);
          expect(i).toBeLessThan(b.size);
          for (const v of [cx!, cy!, w!, h!]) expect(v >= 0 && v <= 1).toBe(true);
          expect(cx! - w! / 2).toBeGreaterThanOrEqual(-1e-6);
          expect(cx! + w! / 2).toBeLessThanOrEqual(1 + 1e-6);
          expect(cy! + h! / 2).toBeLessThanOrEqual(1 + 1e-6);
        }
      // Augmentation changes pixels relative to plain letterboxing.
      const plain = await collect(
        createBatchLoader(samples, { batchSize: 4, imageSize: 64, workers: 0 }).epoch(0),
      );
      expect(same(a0[0]!.images, plain[0]!.images)).toBe(false);
      const another = await collect(createBatchLoader(samples, { ...opts, seed: 12, workers: 0 }).epoch(0));
      expect(same(another[0]!.images, a0[0]!.images)).toBe(false);
    } finally {
      await inline.close();
      await pooled.close();
    }
  });

  it('drops the short batch on request, survives an early break, replaces a vanished image', async () => {
    const loader = createBatchLoader(samples, { batchSize: 4, imageSize: 64, workers: 1, dropLast: true });
    expect(loader.batchesPerEpoch).toBe(2);
    for await (const b of loader) {
      expect(b.size).toBe(4);
      break;
    }
    expect((await collect(loader.epoch(3))).length).toBe(2);
    await loader.close();
    await expect(collect(loader.epoch(0))).rejects.toThrow(/closed/);

    // A file that disappeared after reading becomes a blank background, reported on its batch.
    const broken = [...samples.slice(0, 2), { ...samples[2]!, image: join(tmp, 'gone.png') }];
    const bad = createBatchLoader(broken, { batchSize: 2, imageSize: 64, workers: 1 });
    const batches = await collect(bad);
    await bad.close();
    expect(batches.map((b) => b.warnings.length)).toEqual([0, 1]);
    expect(batches[1]!.warnings[0]).toMatch(/gone\.png: ENOENT.*replaced by a blank image/);
    expect(batches[1]!.numTargets).toBe(0);
    expect(new Set(batches[1]!.images)).toEqual(new Set([114 / 255].map(Math.fround)));
  });
});
