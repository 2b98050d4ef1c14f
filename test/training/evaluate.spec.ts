import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PredictionRecord, evaluateLabelsDir, parsePredictions } from '@detsearch/training';

const root = resolve(__dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'detsearch-evaluate-'));
const labels = join(dir, 'labels');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(() => {
  mkdirSync(labels);
  writeFileSync(join(labels, 'a.txt'), '0 0.5 0.5 0.2 0.2\n1 0.25 0.25 0.1 0.1\n');
  writeFileSync(join(labels, 'b.txt'), '0 0.5 0.5 0.5 0.5\n');
  writeFileSync(join(labels, 'c.txt'), ''); // an image without objects
  writeFileSync(join(labels, '.DS_Store'), 'x');
});

const perfect: PredictionRecord[] = [
  { image: 'a', class: 0, score: 0.9, box: [0.5, 0.5, 0.2, 0.2] },
  { image: 'a', class: 1, score: 0.8, box: [0.25, 0.25, 0.1, 0.1] },
  { image: 'b', class: 0, score: 0.7, box: [0.5, 0.5, 0.5, 0.5] },
];

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['-r', '@swc-node/register', join(root, 'apps/cli/src/main.ts'), ...args],
      { cwd: root, timeout: 120_000 },
      (err, stdout, stderr) =>
        done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('evaluateLabelsDir', () => {
  it('scores perfect predictions 1.0; every label file is an image, empty ones included', async () => {
    const r = await evaluateLabelsDir(perfect, labels, { imageSize: 160 });
    expect(r.map50).toBeCloseTo(1, 12);
    expect(r.map50_95).toBeCloseTo(1, 12);
    expect(r.images).toBe(3);
    expect(r.perClass.map((c) => [c.class, c.numGt, c.numDetections])).toEqual([
      [0, 2, 2],
      [1, 1, 1],
    ]);
  });

  it('counts detections on the empty image as false positives and ignores unknown images', async () => {
    const extra: PredictionRecord[] = [
      ...perfect,
      { image: 'c', class: 1, score: 0.95, box: [0.5, 0.5, 0.3, 0.3] },
      { image: 'zzz', class: 0, score: 0.99, box: [0.5, 0.5, 0.2, 0.2] },
    ];
    const r = await evaluateLabelsDir(extra, labels);
    // Class 1: FP (0.95) ranked above its TP: AP 0.5; class 0 stays 1.
    expect(r.perClass[1]!.ap50).toBeCloseTo(0.5, 12);
    expect(r.map50).toBeCloseTo(0.75, 12);
    expect(r.unmatchedPredictions).toBe(1);
    expect(r.warnings.join('\n')).toMatch(/'zzz'/);
  });

  it('accepts image names with an extension or a folder, as label names', async () => {
    const named = perfect.map((p, i) => ({
      ...p,
      image: i % 2 ? `images/val/${p.image}.png` : `${p.image}.jpg`,
    }));
    const r = await evaluateLabelsDir(named, labels, { imageSize: 160 });
    expect(r.map50).toBeCloseTo(1, 12);
    expect(r.unmatchedPredictions).toBe(0);
  });

  it('refuses to score when no prediction names a labelled image, instead of reporting mAP 0', async () => {
    const wrong = perfect.map((p) => ({ ...p, image: `other-${p.image}` }));
    await expect(evaluateLabelsDir(wrong, labels)).rejects.toMatchObject({
      code: 'EVAL.NO_MATCHING_IMAGES',
      message: expect.stringMatching(/none of the 3 predictions names an image/),
    });
  });

  it('a box at IoU 0.72 scores AP50 1 and AP50:95 0.5 (square image: normalized = pixel IoU)', async () => {
    const shifted: PredictionRecord[] = [
      { image: 'b', class: 0, score: 0.5, box: [0.5, 0.5 - 0.07, 0.5, 0.36] }, // 0.5 x 0.36 inside 0.5 x 0.5
    ];
    const only = join(dir, 'only-b');
    mkdirSync(only, { recursive: true });
    writeFileSync(join(only, 'b.txt'), '0 0.5 0.5 0.5 0.5\n');
    const r = await evaluateLabelsDir(shifted, only, { imageSize: 640 });
    expect(r.map50).toBeCloseTo(1, 12);
    expect(r.map50_95).toBeCloseTo(0.5, 12);
  });

  it('validates predictions and names the offending entry', () => {
    expect(parsePredictions(perfect)).toHaveLength(3);
    expect(() => parsePredictions({})).toThrow(/expected a JSON array/);
    expect(() => parsePredictions([perfect[0], { ...perfect[1], box: [0.1, 0.2, 0.3] }])).toThrow(
      /predictions\[1\]\.box/,
    );
    expect(() => parsePredictions([{ ...perfect[0], class: 1.5 }])).toThrow(/predictions\[0\]\.class/);
    expect(() => parsePredictions([{ ...perfect[0], extra: 1 }])).toThrow(/predictions\[0\]/);
  });
});

describe('detsearch dataset synth / evaluate', () => {
  it('writes a dataset, scores predictions as JSON, and rejects bad input with exit 2', async () => {
    const preds = join(dir, 'preds.json');
    writeFileSync(preds, JSON.stringify(perfect));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify([{ image: 'a', class: 0, score: 0.9, box: [0.5, 0.5] }]));
    // Each call is a fresh node + swc process (seconds on a busy machine): keep them few, in parallel.
    const [synth, good, invalid] = await Promise.all([
      cli([
        'dataset',
        'synth',
        '--out',
        join(dir, 'synth'),
        '--images',
        '5',
        '--size',
        '64',
        '--seed',
        '3',
        '--json',
      ]),
      cli(['evaluate', '--predictions', preds, '--labels', labels, '--img', '160', '--json']),
      cli(['evaluate', '--predictions', bad, '--labels', labels, '--json']),
    ]);
    expect(synth.code).toBe(0);
    const s = JSON.parse(synth.stdout);
    expect(s).toMatchObject({ path: join(dir, 'synth'), train: 4, val: 1, classes: expect.any(Array) });
    expect(readFileSync(join(dir, 'synth/data.yaml'), 'utf8')).toMatch(/^nc: 6$/m);

    expect(good.code).toBe(0);
    const g = JSON.parse(good.stdout);
    expect(g).toMatchObject({ map50: 1, map50_95: 1, images: 3 });
    expect(g.perClass).toEqual([
      { class: 0, ap50: 1, ap50_95: 1, numGt: 2, numDetections: 2 },
      { class: 1, ap50: 1, ap50_95: 1, numGt: 1, numDetections: 1 },
    ]);

    expect(invalid.code).toBe(2);
    expect(invalid.stdout).toBe('');
    expect(invalid.stderr.trim().split('\n')).toHaveLength(1);
    expect(invalid.stderr).toMatch(/predictions\[0\]\.box/);
  });
});
