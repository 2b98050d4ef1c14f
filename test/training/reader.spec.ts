import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as jpeg from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '@detsearch/common';
import { DataRoot } from '@detsearch/config';
import { encodePng, loadDataConfig, readYoloDataset, readYoloSplit } from '@detsearch/training';

const png = (w = 16, h = 12) => encodePng({ width: w, height: h, data: new Uint8Array(w * h * 3).fill(90) });
const jpg = (w = 20, h = 10) =>
  jpeg.encode({ width: w, height: h, data: Buffer.alloc(w * h * 4, 200) }, 90).data;

let tmp: string;
let root: string;
let ds: string;

function write(path: string, data: string | Uint8Array): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, data);
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'detsearch-reader-'));
  root = join(tmp, 'root');
  ds = join(root, 'ds');
  const outside = join(tmp, 'outside');
  write(join(outside, 'evil.png'), png());
  write(join(outside, 'dir', 'evil2.png'), png());
  // train: a folder; labels found by the /images/ -> /labels/ swap.
  write(join(ds, 'images/train/a_good.png'), png());
  write(join(ds, 'labels/train/a_good.txt'), '0 0.5 0.5 0.2 0.2\n1 0.2 0.2 0.1 0.1\n1 0.2 0.2 0.1\n');
  write(join(ds, 'images/train/b_corrupt.png'), Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4, 5, 6]));
  write(join(ds, 'labels/train/b_corrupt.txt'), '0 0.5 0.5 0.2 0.2\n');
  write(join(ds, 'images/train/c_background.png'), png());
  write(join(ds, 'images/train/d_empty.png'), png());
  write(join(ds, 'labels/train/d_empty.txt'), '');
  write(join(ds, 'images/train/e_tiny.png'), png(5, 5));
  write(join(ds, 'images/train/f_photo.bmp'), 'BM...');
  write(join(ds, 'images/train/notes.md'), '# not an image');
  write(join(ds, 'images/train/sub/g_nested.jpg'), jpg());
  write(join(ds, 'labels/train/sub/g_nested.txt'), '1 0.5 0.5 0.5 0.5\n');
  symlinkSync(join(outside, 'evil.png'), join(ds, 'images/train/h_link.png'));
  symlinkSync(join(outside, 'dir'), join(ds, 'images/train/i_linkdir'));
  // val: a .txt list with ./ and bare relative lines, one missing.
  write(join(ds, 'images/val/v1.jpg'), jpg(30, 40));
  write(join(ds, 'labels/val/v1.txt'), '2 0.5 0.5 0.2 0.2\n0 0.5 0.5 1.5 0.2\n0 0.4 0.4 0.2 0.2\n');
  write(join(ds, 'lists/val.txt'), '../images/val/v1.jpg\n./missing.jpg\n');
  write(
    join(ds, 'cfg/data.yaml'),
    'path: ..\ntrain: images/train\nval: lists/val.txt\nnames:\n  0: cat\n  1: dog\n',
  );
  write(join(ds, 'plain.yaml'), 'train: images/train\nval: ../images/val\nnc: 2\nnames: [cat, dog]\n');
  write(join(ds, 'escape.yaml'), 'train: ../../outside\nval: images/val\nnames: [a]\n');
  write(join(ds, 'mismatch.yaml'), 'train: images/train\nval: images/val\nnc: 3\nnames: [a, b]\n');
  write(join(ds, 'nonames.yaml'), 'train: images/train\nval: images/val\n');
  write(join(outside, 'data.yaml'), 'train: .\nval: .\nnames: [a]\n');
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('YOLO dataset reader', () => {
  it('resolves `path` against the yaml folder and reads names as a map', async () => {
    const c = await loadDataConfig(join(ds, 'cfg/data.yaml'), { dataRoot: root });
    expect(c.base).toBe(ds);
    expect(c.train).toEqual([join(ds, 'images/train')]);
    expect(c.val).toEqual([join(ds, 'lists/val.txt')]);
    expect(c.names).toEqual(['cat', 'dog']);
    expect(c.nc).toBe(2);
  });

  it('retries a missing ../x as x, as Ultralytics does', async () => {
    const c = await loadDataConfig(join(ds, 'plain.yaml'), { dataRoot: root });
    expect(c.val).toEqual([join(ds, 'images/val')]);
  });

  it('reports and skips corrupt images, bad rows, missing labels and escaping links', async () => {
    const d = await readYoloDataset(join(ds, 'cfg/data.yaml'), { dataRoot: root });
    const t = d.train.summary;
    expect(d.train.samples.map((s) => s.image.slice(ds.length))).toEqual([
      '/images/train/a_good.png',
      '/images/train/c_background.png',
      '/images/train/d_empty.png',
      '/images/train/sub/g_nested.jpg',
    ]);
    expect(t).toMatchObject({
      images: 4,
      labels: 3,
      corruptImages: 2,
      badRows: 1,
      missingLabels: 1,
      backgrounds: 2,
      unsupported: 1,
    });
    const text = t.messages.join('\n');
    expect(text).toMatch(/b_corrupt\.png: corrupt image skipped/);
    expect(text).toMatch(/e_tiny\.png: corrupt image skipped: image size 5x5/);
    expect(text).toMatch(/a_good\.txt: line 3: expected 5 columns/);
    expect(text).toMatch(/c_background\.png: no label file/);
    expect(text).toMatch(/h_link\.png: skipped: .*outside DATA_ROOT/);
    expect(text).toMatch(/i_linkdir: skipped: .*outside DATA_ROOT/);
    expect(text).toMatch(/f_photo\.bmp: unsupported image format/);
    const good = d.train.samples[0]!;
    expect([good.width, good.height]).toEqual([16, 12]);
    expect(good.boxes).toEqual([
      { cls: 0, cx: 0.5, cy: 0.5, w: 0.2, h: 0.2 },
      { cls: 1, cx: 0.2, cy: 0.2, w: 0.1, h: 0.1 },
    ]);
    const v = d.val.summary;
    expect(d.val.samples).toHaveLength(1);
    expect(d.val.samples[0]).toMatchObject({ width: 30, height: 40 });
    expect(v).toMatchObject({ images: 1, labels: 1, badRows: 2 });
    expect(v.messages.join('\n')).toMatch(/missing\.jpg' does not exist/);
  });

  it('header verification reads sizes without decoding', async () => {
    const r = await readYoloSplit([join(ds, 'images/train')], 2, { dataRoot: root, verify: 'header' });
    // The truncated PNG still has no readable header; the 5x5 one is still too small.
    expect(r.summary.corruptImages).toBe(2);
    expect(r.samples.find((s) => s.image.endsWith('g_nested.jpg'))).toMatchObject({ width: 20, height: 10 });
  });

  it('rejects a split or a yaml outside DATA_ROOT with a clear error', async () => {
    await expect(loadDataConfig(join(ds, 'escape.yaml'), { dataRoot: root })).rejects.toMatchObject({
      code: 'DATASET.OUTSIDE_ROOT',
      message: expect.stringMatching(/train '\.\.\/\.\.\/outside' is outside DATA_ROOT/),
    });
    await expect(loadDataConfig(join(tmp, 'outside/data.yaml'), { dataRoot: root })).rejects.toBeInstanceOf(
      DomainError,
    );
    expect(() => new DataRoot(root).confine('ds/../../outside/evil.png', 'image')).toThrow(
      /outside DATA_ROOT/,
    );
    expect(() => new DataRoot(root).confine(join(ds, 'images/train/h_link.png'), 'image')).toThrow(
      /through a symlink/,
    );
  });

  it('defaults DATA_ROOT to the working directory (processes pass their DATA_ROOT setting)', async () => {
    expect(new DataRoot().root).toBe(process.cwd());
    await expect(loadDataConfig(join(ds, 'plain.yaml'))).rejects.toMatchObject({
      code: 'DATASET.OUTSIDE_ROOT',
    });
  });

  it('names the field of an invalid data.yaml', async () => {
    await expect(loadDataConfig(join(ds, 'mismatch.yaml'), { dataRoot: root })).rejects.toMatchObject({
      field: 'names',
      message: expect.stringMatching(/nc is 3 but names has 2/),
    });
    await expect(loadDataConfig(join(ds, 'nonames.yaml'), { dataRoot: root })).rejects.toMatchObject({
      field: 'names',
    });
  });
});
