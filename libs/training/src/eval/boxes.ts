/** A scored detection in pixel corner form. */
export interface Detection {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
  cls: number;
}

/** A ground-truth box in pixel corner form. */
export interface GroundTruth {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  cls: number;
}

type Box = { x1: number; y1: number; x2: number; y2: number };

/** Intersection over union without the +1 pixel convention (pycocotools and torchvision). */
export function boxIou(a: Box, b: Box): number {
  const iw = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const ih = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return union > 0 ? inter / union : 0;
}

/** Normalized centre boxes (YOLO labels or predictions) to pixel corners of a width x height image. */
export function fromNormalizedCxCyWh(
  cx: number,
  cy: number,
  w: number,
  h: number,
  width: number,
  height: number,
): Box {
  return {
    x1: (cx - w / 2) * width,
    y1: (cy - h / 2) * height,
    x2: (cx + w / 2) * width,
    y2: (cy + h / 2) * height,
  };
}

/**
 * Batch targets (rows [imageIndex, cls, cx, cy, w, h] normalized to the square image) to
 * ground truth per image in pixels: what the batch loader yields, what the evaluator takes.
 */
export function targetsToGroundTruth(
  targets: ArrayLike<number>,
  batchSize: number,
  imageSize: number,
): GroundTruth[][] {
  const out: GroundTruth[][] = Array.from({ length: batchSize }, () => []);
  for (let r = 0; r + 5 < targets.length; r += 6) {
    const b = targets[r]!;
    out[b]!.push({
      cls: targets[r + 1]!,
      ...fromNormalizedCxCyWh(
        targets[r + 2]!,
        targets[r + 3]!,
        targets[r + 4]!,
        targets[r + 5]!,
        imageSize,
        imageSize,
      ),
    });
  }
  return out;
}
