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

/**
 * Candidate boxes of one image in columns (pixel corners, score, class): decoding at a 0.001
 * threshold can yield millions of candidates for an untrained 80-class model, too many for objects.
 */
export class CandidateBuffer {
  count = 0;
  x1 = new Float32Array(1024);
  y1 = new Float32Array(1024);
  x2 = new Float32Array(1024);
  y2 = new Float32Array(1024);
  score = new Float32Array(1024);
  cls = new Int32Array(1024);

  push(x1: number, y1: number, x2: number, y2: number, score: number, cls: number): void {
    if (this.count === this.score.length) this.grow();
    const i = this.count++;
    this.x1[i] = x1;
    this.y1[i] = y1;
    this.x2[i] = x2;
    this.y2[i] = y2;
    this.score[i] = score;
    this.cls[i] = cls;
  }

  private grow(): void {
    const n = this.score.length * 2;
    const f = (a: Float32Array) => {
      const b = new Float32Array(n);
      b.set(a);
      return b;
    };
    [this.x1, this.y1, this.x2, this.y2, this.score] = [
      f(this.x1),
      f(this.y1),
      f(this.x2),
      f(this.y2),
      f(this.score),
    ];
    const c = new Int32Array(n);
    c.set(this.cls);
    this.cls = c;
  }

  detection(i: number): Detection {
    return {
      x1: this.x1[i]!,
      y1: this.y1[i]!,
      x2: this.x2[i]!,
      y2: this.y2[i]!,
      score: this.score[i]!,
      cls: this.cls[i]!,
    };
  }

  /**
   * Indices of the `k` highest scores, best first, ties in decode order (a stable sort's prefix),
   * found by selection so that millions of candidates are never fully sorted.
   */
  topIndices(k: number): Uint32Array {
    const n = this.count;
    let chosen: Uint32Array;
    if (n <= k) chosen = Uint32Array.from({ length: n }, (_, i) => i);
    else {
      const kth = kthLargest(this.score.slice(0, n), k);
      chosen = new Uint32Array(k);
      let m = 0;
      for (let i = 0; i < n && m < k; i++) if (this.score[i]! > kth) chosen[m++] = i;
      for (let i = 0; i < n && m < k; i++) if (this.score[i] === kth) chosen[m++] = i;
    }
    const s = this.score;
    return chosen.sort((a, b) => s[b]! - s[a]! || a - b);
  }
}

/** The k-th largest value (1-based) by quickselect; reorders `v`. */
function kthLargest(v: Float32Array, k: number): number {
  let lo = 0;
  let hi = v.length - 1;
  const target = k - 1;
  while (lo < hi) {
    const pivot = v[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (v[i]! > pivot) i++;
      while (v[j]! < pivot) j--;
      if (i <= j) {
        const t = v[i]!;
        v[i] = v[j]!;
        v[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return v[target]!;
  }
  return v[target]!;
}

/**
 * Decodes raw YOLOv5 Detect outputs into candidate boxes per image (Ultralytics v6 formulas):
 * xy = (2*sigmoid - 0.5 + grid) * stride, wh = (2*sigmoid)^2 * anchor, score = obj * cls,
 * kept when obj > t and score > t. Boxes are pixel corners of the network input.
 */
export function decodeYoloCandidates(levels: readonly HeadOutput[], opts: DecodeOptions): CandidateBuffer[] {
  const nc = opts.numClasses;
  const no = nc + 5;
  const anchors = opts.anchors ?? YOLOV5_ANCHORS;
  const strides = opts.strides ?? YOLOV5_STRIDES;
  const conf = opts.confThreshold ?? 0.001;
  const multiLabel = (opts.multiLabel ?? true) && nc > 1;
  const raw = opts.applySigmoid !== false;
  const act = (x: number) => (raw ? 1 / (1 + Math.exp(-x)) : x);
  let batch = -1;
  let out: CandidateBuffer[] = [];
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
      out = Array.from({ length: B }, () => new CandidateBuffer());
    } else if (B !== batch)
      throw new DomainError('EVAL.BAD_OUTPUT', `level ${l}: batch ${B}, expected ${batch}`);
    // Element strides of (batch, channel, y, x) for either layout.
    const [sB, sC, sY, sX] = opts.layout === 'nchw' ? [C * H * W, H * W, W, 1] : [H * W * C, 1, W * C, C];
    const d = level.data;
    for (let b = 0; b < B; b++) {
      const buf = out[b]!;
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
            const [x1, y1, x2, y2] = [cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2];
            if (multiLabel) {
              for (let k = 0; k < nc; k++) {
                const score = obj * act(d[base + (5 + k) * sC]!);
                if (score > conf) buf.push(x1, y1, x2, y2, score, k);
              }
            } else {
              let best = 0;
              let bestK = 0;
              for (let k = 0; k < nc; k++) {
                const p = act(d[base + (5 + k) * sC]!);
                if (p > best) [best, bestK] = [p, k];
              }
              const score = obj * best;
              if (score > conf) buf.push(x1, y1, x2, y2, score, bestK);
            }
          }
        }
      }
    }
  });
  return out;
}

/** decodeYoloCandidates as Detection objects (fine for trained models; see CandidateBuffer). */
export function decodeYoloOutputs(levels: readonly HeadOutput[], opts: DecodeOptions): Detection[][] {
  return decodeYoloCandidates(levels, opts).map((c) =>
    Array.from({ length: c.count }, (_, i) => c.detection(i)),
  );
}
