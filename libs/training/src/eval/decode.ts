import { DomainError } from '@detsearch/common';
import { YOLOV5_ANCHORS, YOLOV5_STRIDES } from '@detsearch/genome';
import type { Detection } from './boxes';

/**
 * Memory layout of one Detect level: `nchw` [B, na*(nc+5), h, w] (ONNX / PyTorch conv output),
 * `nhwc` [B, h, w, na*(nc+5)] (tfjs). Channels are anchor-major in both: c = a*(nc+5) + k.
 */
export type HeadLayout = 'nchw' | 'nhwc';

export interface HeadOutput {
  data: ArrayLike<number>;
  shape: readonly number[];
}

export interface DecodeOptions {
  numClasses: number;
  layout: HeadLayout;
  /** Anchors per level in pixels; default YOLOv5's. */
  anchors?: readonly (readonly (readonly [number, number])[])[];
  /** Strides per level; default 8, 16, 32. */
  strides?: readonly number[];
  /** Keep candidates with obj > t and obj*cls > t (Ultralytics' val: 0.001). */
  confThreshold?: number;
  /** One candidate per class above the threshold (Ultralytics' val), else the best class only. */
  multiLabel?: boolean;
  /** The outputs are raw logits (default); false when a sigmoid was already applied. */
  applySigmoid?: boolean;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * Decodes raw YOLOv5 Detect outputs into candidate boxes per image (Ultralytics v6 formulas):
 * xy = (2*sigmoid - 0.5 + grid) * stride, wh = (2*sigmoid)^2 * anchor, score = obj * cls.
 * Boxes are pixel corners of the network input.
 */
export function decodeYoloOutputs(levels: readonly HeadOutput[], opts: DecodeOptions): Detection[][] {
  const nc = opts.numClasses;
  const no = nc + 5;
  const anchors = opts.anchors ?? YOLOV5_ANCHORS;
  const strides = opts.strides ?? YOLOV5_STRIDES;
  const conf = opts.confThreshold ?? 0.001;
  const multiLabel = (opts.multiLabel ?? true) && nc > 1;
  const act = opts.applySigmoid === false ? (x: number) => x : sigmoid;
  let batch = -1;
  let out: Detection[][] = [];
  levels.forEach((level, l) => {
    if (level.shape.length !== 4)
      throw new DomainError(
        'EVAL.BAD_OUTPUT',
        `level ${l}: expected a 4-D output, got [${level.shape.join(', ')}]`,
      );
    const [B, d1, d2, d3] = level.shape as [number, number, number, number];
    const [C, H, W] = opts.layout === 'nchw' ? [d1, d2, d3] : [d3, d1, d2];
    const levelAnchors = anchors[l];
    const stride = strides[l];
    if (!levelAnchors || stride === undefined)
      throw new DomainError('EVAL.BAD_OUTPUT', `level ${l}: no anchors/stride for this level`);
    const na = levelAnchors.length;
    if (C !== na * no)
      throw new DomainError(
        'EVAL.BAD_OUTPUT',
        `level ${l}: ${C} channels, expected ${na}*(${nc}+5) = ${na * no} for layout ${opts.layout}`,
      );
    if (level.data.length !== B * C * H * W)
      throw new DomainError(
        'EVAL.BAD_OUTPUT',
        `level ${l}: ${level.data.length} values for shape [${level.shape.join(', ')}]`,
      );
    if (batch < 0) {
      batch = B;
      out = Array.from({ length: B }, () => []);
    } else if (B !== batch)
      throw new DomainError('EVAL.BAD_OUTPUT', `level ${l}: batch ${B}, expected ${batch}`);
    // Element strides of (batch, channel, y, x) for either layout.
    const [sB, sC, sY, sX] = opts.layout === 'nchw' ? [C * H * W, H * W, W, 1] : [H * W * C, 1, W * C, C];
    const d = level.data;
    for (let b = 0; b < B; b++) {
      const dets = out[b]!;
      for (let a = 0; a < na; a++) {
        const [aw, ah] = levelAnchors[a]!;
        for (let y = 0; y < H; y++) {
          for (let x = 0; x < W; x++) {
            const base = b * sB + a * no * sC + y * sY + x * sX;
            const obj = act(d[base + 4 * sC]!);
            if (!(obj > conf)) continue;
            const cx = (2 * act(d[base]!) - 0.5 + x) * stride;
            const cy = (2 * act(d[base + sC]!) - 0.5 + y) * stride;
            const bw = (2 * act(d[base + 2 * sC]!)) ** 2 * aw;
            const bh = (2 * act(d[base + 3 * sC]!)) ** 2 * ah;
            const box = { x1: cx - bw / 2, y1: cy - bh / 2, x2: cx + bw / 2, y2: cy + bh / 2 };
            if (multiLabel) {
              for (let k = 0; k < nc; k++) {
                const score = obj * act(d[base + (5 + k) * sC]!);
                if (score > conf) dets.push({ ...box, score, cls: k });
              }
            } else {
              let best = 0;
              let bestK = 0;
              for (let k = 0; k < nc; k++) {
                const p = act(d[base + (5 + k) * sC]!);
                if (p > best) [best, bestK] = [p, k];
              }
              const score = obj * best;
              if (score > conf) dets.push({ ...box, score, cls: bestK });
            }
          }
        }
      }
    }
  });
  return out;
}
