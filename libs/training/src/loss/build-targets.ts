/**
 * Ultralytics YOLOv5 `ComputeLoss.build_targets`, in plain JS on CPU arrays: it depends only on the
 * ground truth and the output grid shapes, so doing it here and gathering with one tf op per level
 * is much cheaper on wasm than the tensor-op original. The assignment order (anchor-major, then the
 * five offset groups) matches the original, so "last write wins" on duplicate cells matches too.
 */

/** Ground-truth rows `[imageIndex, class, cx, cy, w, h]`, box normalized to 0..1. */
export type TargetRows = Float32Array | ArrayLike<number> | readonly (readonly number[])[];

export interface LevelShape {
  /** Grid rows and columns of the level's output. */
  ny: number;
  nx: number;
}

/** Targets assigned to one pyramid level, one entry per (target, anchor, cell) match. */
export interface LevelTargets {
  count: number;
  b: Int32Array;
  a: Int32Array;
  gj: Int32Array;
  gi: Int32Array;
  cls: Int32Array;
  /** Box targets in grid units relative to the cell: [n * 4] (x - gi, y - gj, w, h). */
  tbox: Float32Array;
  /** Matched anchor (w, h) in grid units: [n * 2]. */
  anchors: Float32Array;
}

export interface BuildTargetsOptions {
  /** Ratio threshold of target to anchor size (hyp anchor_t, 4.0). */
  anchorT?: number;
  /** Neighbour-cell offset (0.5: the two nearest neighbouring cells also predict). */
  offset?: number;
}

/** Normalizes any accepted target layout to a flat Float32Array of 6-wide rows. */
export function flattenTargets(targets: TargetRows): Float32Array {
  if (targets instanceof Float32Array) return targets;
  const arr = targets as ArrayLike<unknown>;
  if (arr.length > 0 && Array.isArray(arr[0])) {
    const rows = targets as readonly (readonly number[])[];
    const out = new Float32Array(rows.length * 6);
    rows.forEach((r, i) => {
      if (r.length !== 6) throw new Error(`targets: row ${i} has ${r.length} values, expected 6`);
      out.set(r, i * 6);
    });
    return out;
  }
  const flat = Float32Array.from(targets as ArrayLike<number>);
  if (flat.length % 6 !== 0) throw new Error(`targets: ${flat.length} values is not a multiple of 6`);
  return flat;
}

/**
 * @param anchorsGrid per level, the anchors (w, h) in grid units (pixels / stride).
 */
export function buildTargets(
  targets: TargetRows,
  shapes: readonly LevelShape[],
  anchorsGrid: readonly (readonly (readonly [number, number])[])[],
  options: BuildTargetsOptions = {},
): LevelTargets[] {
  const anchorT = options.anchorT ?? 4.0;
  const g = options.offset ?? 0.5;
  const rows = flattenTargets(targets);
  const nt = rows.length / 6;
  const offsets: [number, number][] = [
    [0, 0],
    [g, 0],
    [0, g],
    [-g, 0],
    [0, -g],
  ];
  return shapes.map(({ ny, nx }, level) => {
    const anchors = anchorsGrid[level]!;
    // Matches that pass the anchor ratio test, anchor-major like targets.repeat(na, 1, 1).
    const kept: { t: number; a: number; gx: number; gy: number; gw: number; gh: number }[] = [];
    for (let a = 0; a < anchors.length; a++) {
      const [aw, ah] = anchors[a]!;
      for (let t = 0; t < nt; t++) {
        const gw = rows[t * 6 + 4]! * nx;
        const gh = rows[t * 6 + 5]! * ny;
        const rw = gw / aw;
        const rh = gh / ah;
        if (Math.max(rw, 1 / rw, rh, 1 / rh) < anchorT)
          kept.push({ t, a, gx: rows[t * 6 + 2]! * nx, gy: rows[t * 6 + 3]! * ny, gw, gh });
      }
    }
    const selected: { k: (typeof kept)[number]; o: number }[] = [];
    for (let o = 0; o < offsets.length; o++) {
      for (const k of kept) {
        const gxi = nx - k.gx;
        const gyi = ny - k.gy;
        const take =
          o === 0 ||
          (o === 1 && k.gx % 1 < g && k.gx > 1) ||
          (o === 2 && k.gy % 1 < g && k.gy > 1) ||
          (o === 3 && gxi % 1 < g && gxi > 1) ||
          (o === 4 && gyi % 1 < g && gyi > 1);
        if (take) selected.push({ k, o });
      }
    }
    const n = selected.length;
    const out: LevelTargets = {
      count: n,
      b: new Int32Array(n),
      a: new Int32Array(n),
      gj: new Int32Array(n),
      gi: new Int32Array(n),
      cls: new Int32Array(n),
      tbox: new Float32Array(n * 4),
      anchors: new Float32Array(n * 2),
    };
    selected.forEach(({ k, o }, i) => {
      const [ox, oy] = offsets[o]!;
      // .long() truncates; values are non-negative here, so it is floor. Ultralytics clamps gij in
      // place (gi, gj are views of it), so the box target is relative to the clamped cell too.
      const gi = Math.min(Math.max(Math.trunc(k.gx - ox), 0), nx - 1);
      const gj = Math.min(Math.max(Math.trunc(k.gy - oy), 0), ny - 1);
      out.b[i] = rows[k.t * 6]!;
      out.cls[i] = rows[k.t * 6 + 1]!;
      out.a[i] = k.a;
      out.gi[i] = gi;
      out.gj[i] = gj;
      out.tbox.set([k.gx - gi, k.gy - gj, k.gw, k.gh], i * 4);
      out.anchors.set(anchors[k.a]!, i * 2);
    });
    return out;
  });
}
