import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Detection, GroundTruth } from './boxes';
import {
  COCO_IOU_THRESHOLDS,
  COCO_RECALL_THRESHOLDS,
  MapEvaluator,
  averagePrecision101,
  computeMap,
} from './map';

const gt = (x1: number, y1: number, x2: number, y2: number, cls = 0): GroundTruth => ({
  x1,
  y1,
  x2,
  y2,
  cls,
});
const det = (x1: number, y1: number, x2: number, y2: number, score: number, cls = 0): Detection => ({
  x1,
  y1,
  x2,
  y2,
  score,
  cls,
});

describe('COCO thresholds', () => {
  it('match pycocotools: 10 IoU thresholds 0.5..0.95 and 101 recall points', () => {
    expect(COCO_IOU_THRESHOLDS).toHaveLength(10);
    expect(COCO_IOU_THRESHOLDS[0]).toBe(0.5);
    expect(COCO_IOU_THRESHOLDS[9]).toBe(0.95);
    // numpy's linspace value (i * step + start), not the decimal 0.9.
    expect(COCO_IOU_THRESHOLDS[8]).toBe(0.8999999999999999);
    expect(COCO_RECALL_THRESHOLDS).toHaveLength(101);
    expect(COCO_RECALL_THRESHOLDS[100]).toBe(1);
  });
});

describe('averagePrecision101 (pycocotools accumulate)', () => {
  it('integrates the precision envelope at 101 recall points', () => {
    // 4 GT; ranked TP, FP, TP, TP: recall .25 .25 .5 .75, precision 1 .5 .67 .75 -> envelope 1 .75 .75 .75.
    // Recall points 0..0.25 (26) at 1, 0.26..0.75 (50) at 0.75, 0.76..1 (25) at 0.
    const { ap, recall } = averagePrecision101([1, 0, 1, 1], 4);
    expect(ap).toBeCloseTo((26 + 50 * 0.75) / 101, 12);
    expect(recall).toBe(0.75);
  });

  it('a false positive ranked above the only true positive halves AP', () => {
    expect(averagePrecision101([0, 1], 1).ap).toBeCloseTo(0.5, 12);
  });

  it('is 0 without detections and 1 for a perfect ranking', () => {
    expect(averagePrecision101([], 3).ap).toBe(0);
    expect(averagePrecision101([1, 1, 1], 3).ap).toBeCloseTo(1, 12);
  });
});

describe('computeMap: hand-worked cases', () => {
  it('perfect predictions score 1.0', () => {
    const images = [
      { groundTruth: [gt(0, 0, 10, 10), gt(20, 20, 40, 50, 1)], detections: [] as Detection[] },
      { groundTruth: [gt(5, 5, 30, 30, 2)], detections: [] as Detection[] },
    ];
    for (const im of images)
      im.detections = im.groundTruth.map((g) => det(g.x1, g.y1, g.x2, g.y2, 0.9, g.cls));
    const r = computeMap(images);
    expect(r.map50).toBeCloseTo(1, 12);
    expect(r.map50_95).toBeCloseTo(1, 12);
    expect(r.classesWithGt).toBe(3);
    expect(r.images).toBe(2);
  });

  it('one detection at IoU 0.72 matches thresholds 0.50..0.70: AP50 = 1, AP50:95 = 0.5', () => {
    const r = computeMap([{ groundTruth: [gt(0, 0, 100, 100)], detections: [det(0, 0, 100, 72, 0.8)] }]);
    expect(r.map50).toBeCloseTo(1, 12);
    expect(r.map50_95).toBeCloseTo(0.5, 12);
    expect(r.perClass[0]!.apPerIou.map((x) => Math.round(x))).toEqual([1, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
  });

  it('IoU exactly at a threshold matches (>=), as pycocotools', () => {
    const r = computeMap([{ groundTruth: [gt(0, 0, 10, 10)], detections: [det(0, 0, 10, 5, 0.5)] }]);
    expect(r.map50).toBeCloseTo(1, 12);
    expect(r.map50_95).toBeCloseTo(0.1, 12);
  });

  it('IoU below 0.5 is a false positive', () => {
    const r = computeMap([{ groundTruth: [gt(0, 0, 10, 10)], detections: [det(0, 0, 10, 4.9, 0.9)] }]);
    expect(r.map50).toBe(0);
  });

  it('duplicates are false positives', () => {
    // Image A: two detections of one object (TP .9, duplicate FP .8); image B: TP .7.
    // Ranked TP FP TP over 2 GT: envelope 1 (recall <= .5, 51 points), 2/3 (50 points).
    const r = computeMap([
      { groundTruth: [gt(0, 0, 10, 10)], detections: [det(0, 0, 10, 10, 0.9), det(0, 0, 10, 10, 0.8)] },
      { groundTruth: [gt(0, 0, 10, 10)], detections: [det(0, 0, 10, 10, 0.7)] },
    ]);
    expect(r.map50).toBeCloseTo((51 + (50 * 2) / 3) / 101, 12);
    expect(r.perClass[0]!.numDetections).toBe(3);
  });

  it('a duplicate ranked below every true positive costs nothing (precision envelope)', () => {
    const r = computeMap([
      { groundTruth: [gt(0, 0, 10, 10)], detections: [det(0, 0, 10, 10, 0.9), det(1, 0, 10, 10, 0.1)] },
    ]);
    expect(r.map50).toBeCloseTo(1, 12);
  });

  it('a class with ground truth but no detections counts 0; a class without ground truth is excluded', () => {
    const r = computeMap([
      {
        groundTruth: [gt(0, 0, 10, 10, 0), gt(20, 20, 30, 30, 1)],
        detections: [det(0, 0, 10, 10, 0.9, 0), det(50, 50, 60, 60, 0.9, 2)],
      },
    ]);
    expect(r.map50).toBeCloseTo(0.5, 12);
    expect(r.classesWithGt).toBe(2);
    const c2 = r.perClass.find((c) => c.class === 2)!;
    expect(c2.ap50).toBeNull();
    expect(c2.numDetections).toBe(1);
    expect(r.perClass.find((c) => c.class === 1)!.ap50).toBe(0);
  });

  it('the wrong class is not a match', () => {
    const r = computeMap([{ groundTruth: [gt(0, 0, 10, 10, 0)], detections: [det(0, 0, 10, 10, 0.9, 1)] }]);
    expect(r.map50).toBe(0);
  });

  it('empty images: no effect without detections; their detections are false positives', () => {
    const base = { groundTruth: [gt(0, 0, 10, 10)], detections: [det(0, 0, 10, 10, 0.9)] };
    const empty = { groundTruth: [], detections: [] };
    expect(computeMap([base, empty, empty]).map50).toBeCloseTo(1, 12);
    const noisy = { groundTruth: [], detections: [det(0, 0, 10, 10, 0.95)] };
    expect(computeMap([base, noisy]).map50).toBeCloseTo(0.5, 12);
    // A false positive scored below the true positive does not lower AP.
    const quiet = { groundTruth: [], detections: [det(0, 0, 10, 10, 0.5)] };
    expect(computeMap([base, quiet]).map50).toBeCloseTo(1, 12);
    expect(computeMap([empty]).map50).toBe(0);
    expect(computeMap([empty]).classesWithGt).toBe(0);
  });

  it('score order decides, not input order', () => {
    const images = [
      {
        groundTruth: [gt(0, 0, 10, 10), gt(20, 0, 30, 10)],
        // Listed FP first but scored lower: TP TP FP -> AP 1.
        detections: [det(50, 50, 60, 60, 0.1), det(0, 0, 10, 10, 0.8), det(20, 0, 30, 10, 0.7)],
      },
    ];
    expect(computeMap(images).map50).toBeCloseTo(1, 12);
    // FP TP TP: precision 0 .5 .67, envelope 2/3 everywhere.
    images[0]!.detections[0]!.score = 0.99;
    expect(computeMap(images).map50).toBeCloseTo(2 / 3, 12);
  });

  it('a detection takes the unmatched ground truth of highest IoU', () => {
    // Two overlapping objects; the higher-scored detection fits the second best, leaving the first.
    const r = computeMap([
      {
        groundTruth: [gt(0, 0, 10, 10), gt(2, 0, 12, 10)],
        detections: [det(2, 0, 12, 10, 0.9), det(0, 0, 10, 10, 0.8)],
      },
    ]);
    expect(r.map50_95).toBeCloseTo(1, 12);
  });

  it('keeps only the 300 highest-scoring detections per image', () => {
    const fps = Array.from({ length: 300 }, (_, i) => det(100 + i, 100, 101 + i, 101, 0.9));
    const tp = det(0, 0, 10, 10, 0.1);
    const r = computeMap([{ groundTruth: [gt(0, 0, 10, 10)], detections: [...fps, tp] }]);
    expect(r.map50).toBe(0);
    const r2 = computeMap([{ groundTruth: [gt(0, 0, 10, 10)], detections: [...fps, tp] }], {
      maxDetections: 301,
    });
    expect(r2.map50).toBeGreaterThan(0);
  });

  it('accumulates image by image like a single call, names classes', () => {
    const ev = new MapEvaluator({ names: ['a', 'b'] });
    ev.add([det(0, 0, 10, 10, 0.9)], [gt(0, 0, 10, 10)]);
    ev.add([det(0, 0, 10, 10, 0.3, 1)], [gt(0, 0, 10, 8, 1)]);
    const r = ev.result();
    expect(r.perClass.map((c) => c.name)).toEqual(['a', 'b']);
    expect(r.map50).toBeCloseTo(1, 12);
    // IoU 0.8: thresholds 0.50..0.80 (7 of 10) for class 1.
    expect(r.perClass[1]!.ap50_95).toBeCloseTo(0.7, 12);
    expect(r.map50_95).toBeCloseTo((1 + 0.7) / 2, 12);
  });
});

describe('computeMap against pycocotools', () => {
  // test/training/fixtures/make_coco_reference.py: 40 images, 4 classes (one never labelled, one
  // rarely detected), jittered and duplicate detections, false positives, score ties across images.
  const fixture = JSON.parse(
    readFileSync(join(__dirname, '../../../../test/training/fixtures/coco-reference.json'), 'utf8'),
  ) as {
    images: { gt: number[][]; dt: number[][] }[];
    expected: {
      map50: number;
      map50_95: number;
      perClass: Record<string, { ap50: number; ap50_95: number }>;
    };
  };

  it('agrees with COCOeval to 1e-9 overall and per class', () => {
    const r = computeMap(
      fixture.images.map((im) => ({
        groundTruth: im.gt.map(([x, y, w, h, c]) => gt(x!, y!, x! + w!, y! + h!, c)),
        detections: im.dt.map(([x, y, w, h, s, c]) => det(x!, y!, x! + w!, y! + h!, s!, c)),
      })),
    );
    expect(r.map50).toBeCloseTo(fixture.expected.map50, 9);
    expect(r.map50_95).toBeCloseTo(fixture.expected.map50_95, 9);
    const scored = r.perClass.filter((c) => c.ap50 !== null);
    expect(scored.map((c) => String(c.class))).toEqual(Object.keys(fixture.expected.perClass));
    for (const c of scored) {
      expect(c.ap50).toBeCloseTo(fixture.expected.perClass[c.class]!.ap50, 9);
      expect(c.ap50_95).toBeCloseTo(fixture.expected.perClass[c.class]!.ap50_95, 9);
    }
    // Class 3 has detections but no ground truth: reported, excluded from the means.
    expect(r.perClass.find((c) => c.class === 3)?.ap50).toBeNull();
  });
});
