import { type Detection, type GroundTruth, boxIou } from './boxes';

/** numpy.linspace(start, stop, num) as numpy computes it (i * step + start, exact last value). */
function linspace(start: number, stop: number, num: number): number[] {
  const step = (stop - start) / (num - 1);
  return Array.from({ length: num }, (_, i) => (i === num - 1 ? stop : i * step + start));
}

/** pycocotools' iouThrs: 0.50:0.05:0.95, bit for bit. */
export const COCO_IOU_THRESHOLDS: readonly number[] = linspace(
  0.5,
  0.95,
  Math.round((0.95 - 0.5) / 0.05) + 1,
);
/** pycocotools' recThrs: 101 recall points 0:0.01:1, bit for bit. */
export const COCO_RECALL_THRESHOLDS: readonly number[] = linspace(0, 1, Math.round((1 - 0) / 0.01) + 1);

export interface ClassAp {
  class: number;
  name?: string;
  /** AP at IoU 0.5; null when the class has no ground truth (excluded from the means, as pycocotools). */
  ap50: number | null;
  /** AP averaged over IoU 0.50:0.05:0.95; null without ground truth. */
  ap50_95: number | null;
  /** AP per IoU threshold (COCO_IOU_THRESHOLDS order); empty without ground truth. */
  apPerIou: number[];
  /** Recall at the last detection, IoU 0.5. */
  recall50: number | null;
  numGt: number;
  numDetections: number;
}

export interface MapResult {
  map50: number;
  map50_95: number;
  /** Classes with ground truth or detections, by class id. */
  perClass: ClassAp[];
  images: number;
  /** Classes the means average over (those with ground truth); 0 means both maps are 0 by convention. */
  classesWithGt: number;
}

export interface MapOptions {
  /** Class names for the report, by class id. */
  names?: readonly string[];
  /** Highest-scoring detections kept per image (default 300, as Ultralytics' NMS). */
  maxDetections?: number;
}

interface ClassAccumulator {
  numGt: number;
  scores: number[];
  /** Per IoU threshold, 1 for a true positive, aligned with scores. */
  tp: number[][];
}

/** pycocotools' accumulate for one class and threshold: 101-point AP with the precision envelope. */
export function averagePrecision101(
  tpSorted: ArrayLike<number>,
  numGt: number,
): { ap: number; recall: number } {
  const nd = tpSorted.length;
  const rc = new Float64Array(nd);
  const pr = new Float64Array(nd);
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < nd; i++) {
    if (tpSorted[i]) tp++;
    else fp++;
    rc[i] = tp / numGt;
    pr[i] = tp / (fp + tp + Number.EPSILON); // np.spacing(1)
  }
  for (let i = nd - 1; i > 0; i--) if (pr[i]! > pr[i - 1]!) pr[i - 1] = pr[i]!;
  let sum = 0;
  let pi = 0;
  for (const r of COCO_RECALL_THRESHOLDS) {
    // np.searchsorted(rc, r, side='left'): first index with rc >= r.
    while (pi < nd && rc[pi]! < r) pi++;
    if (pi >= nd) break;
    sum += pr[pi]!;
  }
  return { ap: sum / COCO_RECALL_THRESHOLDS.length, recall: nd ? rc[nd - 1]! : 0 };
}

/**
 * COCO-style detection mAP, following pycocotools' evaluateImg and accumulate for bounding boxes
 * (no crowd regions, one area range): per image and class, detections in score order take the
 * unmatched ground truth of highest IoU >= t; AP is the 101-point interpolated precision envelope;
 * classes without ground truth are left out of the means. Feed it image by image with `add`.
 */
export class MapEvaluator {
  private readonly classes = new Map<number, ClassAccumulator>();
  private numImages = 0;
  private readonly maxDet: number;

  constructor(private readonly opts: MapOptions = {}) {
    this.maxDet = opts.maxDetections ?? 300;
  }

  private acc(cls: number): ClassAccumulator {
    let a = this.classes.get(cls);
    if (!a) {
      a = { numGt: 0, scores: [], tp: COCO_IOU_THRESHOLDS.map(() => []) };
      this.classes.set(cls, a);
    }
    return a;
  }

  /** Adds one image: its detections (any order) and its ground truth, in the same units. */
  add(detections: readonly Detection[], groundTruth: readonly GroundTruth[]): void {
    this.numImages++;
    // Stable score order, as numpy's mergesort in pycocotools; then the per-image cap.
    const dets = detections
      .map((d, i) => ({ d, i }))
      .sort((p, q) => q.d.score - p.d.score || p.i - q.i)
      .slice(0, this.maxDet)
      .map((p) => p.d);
    const byClass = new Map<number, { dt: Detection[]; gt: GroundTruth[] }>();
    const group = (c: number) => {
      let g = byClass.get(c);
      if (!g) byClass.set(c, (g = { dt: [], gt: [] }));
      return g;
    };
    for (const d of dets) group(d.cls).dt.push(d);
    for (const g of groundTruth) group(g.cls).gt.push(g);
    for (const [cls, { dt, gt }] of byClass) {
      const a = this.acc(cls);
      a.numGt += gt.length;
      const ious = dt.map((d) => gt.map((g) => boxIou(d, g)));
      COCO_IOU_THRESHOLDS.forEach((t, ti) => {
        const matched = new Uint8Array(gt.length);
        for (let di = 0; di < dt.length; di++) {
          let iou = Math.min(t, 1 - 1e-10);
          let m = -1;
          for (let gi = 0; gi < gt.length; gi++) {
            if (matched[gi]) continue;
            if (ious[di]![gi]! < iou) continue;
            iou = ious[di]![gi]!;
            m = gi;
          }
          if (m >= 0) matched[m] = 1;
          a.tp[ti]!.push(m >= 0 ? 1 : 0);
        }
      });
      for (const d of dt) a.scores.push(d.score);
    }
  }

  result(): MapResult {
    const perClass: ClassAp[] = [];
    for (const cls of [...this.classes.keys()].sort((x, y) => x - y)) {
      const a = this.classes.get(cls)!;
      const entry: ClassAp = {
        class: cls,
        ...(this.opts.names?.[cls] !== undefined ? { name: this.opts.names[cls] } : {}),
        ap50: null,
        ap50_95: null,
        apPerIou: [],
        recall50: null,
        numGt: a.numGt,
        numDetections: a.scores.length,
      };
      if (a.numGt > 0) {
        // Stable descending sort over all images (image order breaks ties, as pycocotools).
        const order = a.scores.map((s, i) => ({ s, i })).sort((p, q) => q.s - p.s || p.i - q.i);
        const aps = a.tp.map((tps) =>
          averagePrecision101(
            order.map((o) => tps[o.i]!),
            a.numGt,
          ),
        );
        entry.apPerIou = aps.map((x) => x.ap);
        entry.ap50 = aps[0]!.ap;
        entry.ap50_95 = entry.apPerIou.reduce((s, x) => s + x, 0) / entry.apPerIou.length;
        entry.recall50 = aps[0]!.recall;
      }
      perClass.push(entry);
    }
    const scored = perClass.filter((c) => c.ap50 !== null);
    const mean = (f: (c: ClassAp) => number) =>
      scored.length ? scored.reduce((s, c) => s + f(c), 0) / scored.length : 0;
    return {
      map50: mean((c) => c.ap50!),
      map50_95: mean((c) => c.ap50_95!),
      perClass,
      images: this.numImages,
      classesWithGt: scored.length,
    };
  }
}

export interface EvalImage {
  detections: readonly Detection[];
  groundTruth: readonly GroundTruth[];
}

/** mAP of a whole set of images at once (see MapEvaluator). */
export function computeMap(images: readonly EvalImage[], opts: MapOptions = {}): MapResult {
  const ev = new MapEvaluator(opts);
  for (const im of images) ev.add(im.detections, im.groundTruth);
  return ev.result();
}
