import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  SYNTH_CLASSES,
  decodeImage,
  readYoloDataset,
  renderSynthImage,
  synthDataset,
} from '@detsearch/training';

const tmp = mkdtempSync(join(tmpdir(), 'detsearch-synth-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** sha256 over every file's relative path and bytes. */
function treeHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else h.update(relative(dir, p)).update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex');
}

describe('synthDataset', () => {
  it('same seed, same bytes; another seed, other bytes', async () => {
    const opts = { images: 10, seed: 7, size: 64 };
    const a = await synthDataset(join(tmp, 'a'), opts);
    const b = await synthDataset(join(tmp, 'b'), opts);
    const c = await synthDataset(join(tmp, 'c'), { ...opts, seed: 8 });
    expect(treeHash(a.path)).toBe(treeHash(b.path));
    expect(treeHash(a.path)).not.toBe(treeHash(c.path));
    expect(a).toMatchObject({ train: 8, val: 2, classes: [...SYNTH_CLASSES] });
  });

  it('replaces a previous synthetic dataset whole and refuses other non-empty folders', async () => {
    const out = join(tmp, 'again');
    await synthDataset(out, { images: 6, seed: 1, size: 48 });
    const small = await synthDataset(out, { images: 3, seed: 1, size: 48 });
    const fresh = await synthDataset(join(tmp, 'fresh'), { images: 3, seed: 1, size: 48 });
    expect(treeHash(small.path)).toBe(treeHash(fresh.path));
    mkdirSync(join(tmp, 'other'));
    writeFileSync(join(tmp, 'other', 'keep.txt'), 'mine');
    await expect(synthDataset(join(tmp, 'other'), { images: 1 })).rejects.toMatchObject({
      code: 'DATASET.OUT_NOT_EMPTY',
    });
    expect(readFileSync(join(tmp, 'other', 'keep.txt'), 'utf8')).toBe('mine');
  });

  it('is read back by the YOLO reader without a single problem', async () => {
    const r = await synthDataset(join(tmp, 'read'), { images: 12, seed: 1, size: 96, valFraction: 0.25 });
    const d = await readYoloDataset(r.yaml, { dataRoot: tmp });
    expect(d.config.names).toEqual([...SYNTH_CLASSES]);
    expect(d.train.samples).toHaveLength(9);
    expect(d.val.samples).toHaveLength(3);
    for (const s of [d.train.summary, d.val.summary])
      expect(s).toMatchObject({ corruptImages: 0, badRows: 0, missingLabels: 0, messages: [] });
    expect(d.train.summary.labels + d.val.summary.labels).toBe(r.boxes);
    expect(d.train.samples[0]).toMatchObject({ width: 96, height: 96 });
    expect(readFileSync(r.yaml, 'utf8')).toMatch(/^train: images\/train$/m);
  });

  it('labels hug the drawn shapes: tight boxes over varied sizes and every class', () => {
    const sizes: number[] = [];
    const classes = new Set<number>();
    for (let i = 0; i < 40; i++) {
      const { image, boxes } = renderSynthImage(3, i, 160);
      expect(image.data.length).toBe(160 * 160 * 3);
      for (const b of boxes) {
        expect(b.cx - b.w / 2).toBeGreaterThanOrEqual(-1e-9);
        expect(b.cx + b.w / 2).toBeLessThanOrEqual(1 + 1e-9);
        sizes.push(Math.max(b.w, b.h) * 160);
        classes.add(b.cls);
      }
    }
    expect(classes.size).toBe(SYNTH_CLASSES.length);
    expect(Math.min(...sizes)).toBeLessThan(14);
    expect(Math.max(...sizes)).toBeGreaterThan(60);
  });

  it('writes PNGs that decode to the rendered pixels', async () => {
    const r = await synthDataset(join(tmp, 'px'), { images: 2, seed: 5, size: 48, valFraction: 0 });
    const decoded = decodeImage(readFileSync(join(r.path, 'images/train/000001.png')));
    expect(decoded.data).toEqual(renderSynthImage(5, 1, 48).image.data);
    expect(r.val).toBe(0);
  });
});
