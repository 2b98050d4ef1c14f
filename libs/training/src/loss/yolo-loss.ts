import * as tf from '@tensorflow/tfjs-core';
import { YOLOV5_ANCHORS, YOLOV5_STRIDES } from '@detsearch/genome';
import { buildTargets, type LevelTargets, type TargetRows } from './build-targets';
import { bceWithLogits, ciou, detach, gatherRows, softplus } from './ops';

/** The loss part of Ultralytics' data/hyps/hyp.scratch-low.yaml. */
export interface LossHyp {
  box: number;
  cls: number;
  obj: number;
  clsPw: number;
  objPw: number;
  anchorT: number;
  labelSmoothing: number;
  /** IoU ratio of the objectness target (1.0: the target is the detached IoU). */
  gr: number;
  /** Objectness weight per level, P3 first. */
  balance: number[];
}

export const SCRATCH_LOW_LOSS: Readonly<LossHyp> = Object.freeze({
  box: 0.05,
  cls: 0.5,
  obj: 1.0,
  clsPw: 1.0,
  objPw: 1.0,
  anchorT: 4.0,
  labelSmoothing: 0,
  gr: 1.0,
  balance: [4.0, 1.0, 0.4],
});

/**
 * Gains as train.py rescales them: box by 3/nl, cls by nc/80 * 3/nl, obj by (img/640)^2 * 3/nl, so
 * the same hyp file suits any class count and image size.
 */
export function scaledLossHyp(
  numClasses: number,
  imageSize: number,
  numLevels = 3,
  base: Readonly<LossHyp> = SCRATCH_LOW_LOSS,
): LossHyp {
  const l = 3 / numLevels;
  return {
    ...base,
    balance: [...base.balance],
    box: base.box * l,
    cls: base.cls * (numClasses / 80) * l,
    obj: base.obj * (imageSize / 640) ** 2 * l,
  };
}

export interface YoloLossOptions {
  numClasses: number;
  /** Loss hyperparameters, already scaled (see scaledLossHyp). */
  hyp: LossHyp;
  /** Anchors in pixels per level; default the YOLOv5 anchors. */
  anchors?: readonly (readonly (readonly [number, number])[])[];
  strides?: readonly number[];
}

export interface YoloLoss {
  /** (box + obj + cls) * batch size: what is differentiated, as in Ultralytics. */
  total: tf.Scalar;
  box: tf.Scalar;
  obj: tf.Scalar;
  cls: tf.Scalar;
}

/** Smooth-BCE targets (positive, negative) for label smoothing eps. */
function smoothBce(eps: number): [number, number] {
  return [1 - 0.5 * eps, 0.5 * eps];
}

/**
 * Keeps the last assignment per cell: torch's `tobj[b, a, gj, gi] = iou` with duplicates lets the
 * last write win. Returns the positions (into the level's flattened cells) and which match wrote each.
 */
function lastWriteWins(flat: Int32Array): { cells: Int32Array; from: Int32Array } {
  const last = new Map<number, number>();
  for (let i = 0; i < flat.length; i++) last.set(flat[i]!, i);
  const cells = new Int32Array(last.size);
  const from = new Int32Array(last.size);
  let k = 0;
  for (const [cell, i] of last) {
    cells[k] = cell;
    from[k++] = i;
  }
  return { cells, from };
}

/**
 * The YOLOv5 loss (Ultralytics `ComputeLoss`) on raw Detect outputs.
 *
 * @param outputs per level NHWC [B, ny, nx, na * (nc + 5)], channel a*(nc+5)+j, P3 first.
 * @param targets rows [imageIndex, class, cx, cy, w, h], normalized.
 */
export function yoloLoss(outputs: tf.Tensor4D[], targets: TargetRows, options: YoloLossOptions): YoloLoss {
  const { numClasses: nc, hyp } = options;
  const anchorsPx = options.anchors ?? YOLOV5_ANCHORS;
  const strides = options.strides ?? YOLOV5_STRIDES;
  const no = nc + 5;
  const na = anchorsPx[0]!.length;
  if (outputs.length !== anchorsPx.length)
    throw new Error(`loss: ${outputs.length} outputs, expected ${anchorsPx.length}`);
  const anchorsGrid = anchorsPx.map((level, i) =>
    level.map(([w, h]) => [w / strides[i]!, h / strides[i]!] as [number, number]),
  );
  const shapes = outputs.map((o) => {
    if (o.shape[3] !== na * no)
      throw new Error(`loss: output has ${o.shape[3]} channels, expected ${na * no}`);
    return { ny: o.shape[1], nx: o.shape[2] };
  });
  const levels = buildTargets(targets, shapes, anchorsGrid, { anchorT: hyp.anchorT });
  const batch = outputs[0]!.shape[0];
  const [cp, cn] = smoothBce(hyp.labelSmoothing);

  return tf.tidy(() => {
    let lbox: tf.Scalar = tf.scalar(0);
    let lobj: tf.Scalar = tf.scalar(0);
    let lcls: tf.Scalar = tf.scalar(0);
    outputs.forEach((out, i) => {
      const { ny, nx } = shapes[i]!;
      const cells = batch * ny * nx * na;
      const flat = tf.reshape(out, [cells, no]) as tf.Tensor2D;
      const objLogits = tf.reshape(tf.slice(flat, [0, 4], [cells, 1]), [cells]);
      // Objectness BCE over all cells with sparse targets t: sum softplus(x) over everything plus,
      // at the positive cells only, t * (p * softplus(-x) - softplus(x)).
      let objSum = tf.sum(softplus(objLogits));
      const lt: LevelTargets = levels[i]!;
      const n = lt.count;
      if (n > 0) {
        const rowIndex = new Int32Array(n);
        for (let k = 0; k < n; k++)
          rowIndex[k] = ((lt.b[k]! * ny + lt.gj[k]!) * nx + lt.gi[k]!) * na + lt.a[k]!;
        const ps = gatherRows(flat, rowIndex);
        const sig = tf.sigmoid(tf.slice(ps, [0, 0], [n, 4]));
        const pxy = tf.sub(tf.mul(tf.slice(sig, [0, 0], [n, 2]), 2), 0.5);
        const anchors = tf.tensor2d(lt.anchors, [n, 2]);
        const pwh = tf.mul(tf.square(tf.mul(tf.slice(sig, [0, 2], [n, 2]), 2)), anchors);
        const pbox = tf.concat([pxy, pwh], 1) as tf.Tensor2D;
        const iou = ciou(pbox, tf.tensor2d(lt.tbox, [n, 4]));
        lbox = tf.add(lbox, tf.mean(tf.sub(1, iou))) as tf.Scalar;

        const { cells: pos, from } = lastWriteWins(rowIndex);
        let tobj = tf.relu(detach(iou));
        if (hyp.gr < 1) tobj = tf.add(1 - hyp.gr, tf.mul(hyp.gr, tobj));
        const tPos = tf.reshape(gatherRows(tf.reshape(tobj, [n, 1]) as tf.Tensor2D, from), [pos.length]);
        const xPos = tf.reshape(gatherRows(tf.reshape(objLogits, [cells, 1]) as tf.Tensor2D, pos), [
          pos.length,
        ]);
        const posTerm = tf.mul(tPos, tf.sub(tf.mul(hyp.objPw, softplus(tf.neg(xPos))), softplus(xPos)));
        objSum = tf.add(objSum, tf.sum(posTerm));

        if (nc > 1) {
          const t = new Float32Array(n * nc).fill(cn);
          for (let k = 0; k < n; k++) t[k * nc + lt.cls[k]!] = cp;
          const pcls = tf.slice(ps, [0, 5], [n, nc]);
          lcls = tf.add(lcls, tf.mean(bceWithLogits(pcls, tf.tensor2d(t, [n, nc]), hyp.clsPw))) as tf.Scalar;
        }
      }
      lobj = tf.add(lobj, tf.mul(tf.div(objSum, cells), hyp.balance[i] ?? 1)) as tf.Scalar;
    });
    const box = tf.mul(lbox, hyp.box) as tf.Scalar;
    const obj = tf.mul(lobj, hyp.obj) as tf.Scalar;
    const cls = tf.mul(lcls, hyp.cls) as tf.Scalar;
    const total = tf.mul(tf.add(tf.add(box, obj), cls), batch) as tf.Scalar;
    return { total, box, obj, cls };
  });
}
