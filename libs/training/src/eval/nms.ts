import { type Detection, boxIou } from './boxes';
import { type CandidateBuffer, type DecodeOptions, type HeadOutput, decodeYoloCandidates } from './decode';

export interface NmsOptions {
  /** Suppress a box whose IoU with a kept box of its class exceeds this (Ultralytics' val: 0.6). */
  iouThreshold?: number;
  /** Detections kept per image (Ultralytics: 300). */
  maxDetections?: number;
  /** Candidates considered, highest scores first (Ultralytics' max_nms: 30000). */
  maxCandidates?: number;
  /** Suppress across classes too. */
  classAgnostic?: boolean;
}

/** Greedy suppression over candidates already in score order. */
function greedy(
  ordered: Iterable<Detection>,
  iouThr: number,
  maxDet: number,
  agnostic: boolean,
): Detection[] {
  const keptByClass = new Map<number, Detection[]>();
  const kept: Detection[] = [];
  for (const d of ordered) {
    if (kept.length >= maxDet) break;
    const key = agnostic ? -1 : d.cls;
    let group = keptByClass.get(key);
    if (!group) keptByClass.set(key, (group = []));
    if (group.some((k) => boxIou(k, d) > iouThr)) continue;
    group.push(d);
    kept.push(d);
  }
  return kept;
}

/**
 * Greedy non-maximum suppression as torchvision's batched_nms: class-aware unless asked, highest
 * score first (ties keep input order), result sorted by score and cut to maxDetections.
 */
export function nonMaxSuppression(
  candidates: readonly Detection[] | CandidateBuffer,
  opts: NmsOptions = {},
): Detection[] {
  const iouThr = opts.iouThreshold ?? 0.6;
  const maxDet = opts.maxDetections ?? 300;
  const maxCand = opts.maxCandidates ?? 30_000;
  const agnostic = opts.classAgnostic ?? false;
  if (!Array.isArray(candidates)) {
    const buf = candidates as CandidateBuffer;
    const order = buf.topIndices(maxCand);
    return greedy(
      (function* () {
        for (const i of order) yield buf.detection(i);
      })(),
      iouThr,
      maxDet,
      agnostic,
    );
  }
  const ordered = (candidates as readonly Detection[])
    .map((d, i) => ({ d, i }))
    .sort((p, q) => q.d.score - p.d.score || p.i - q.i)
    .slice(0, maxCand)
    .map((p) => p.d);
  return greedy(ordered, iouThr, maxDet, agnostic);
}

/** Decode, confidence filter and NMS of raw Detect outputs: final detections per image. */
export function postprocessYolo(
  levels: readonly HeadOutput[],
  opts: DecodeOptions & NmsOptions,
): Detection[][] {
  return decodeYoloCandidates(levels, opts).map((c) => nonMaxSuppression(c, opts));
}
