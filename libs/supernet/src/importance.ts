import { buildIR, parameterSpecs, parseGenome, type ModelIR, type WeightMap } from '@detsearch/genome';
import { isDepthwise } from './channels';
import type { SupernetWeights } from './types';

/** A run of channels of one channel group (all tensors whose channels must be permuted together). */
interface Segment {
  group: string;
  length: number;
}

/** Groups that are never permuted: the input image and the Detect outputs. */
const FIXED = '#fixed';

/**
 * The supernet's IRs that together hold every tensor and every producer-consumer pair of the space:
 * dense, all separable rows at once, and each separable row alone (a dense layer reading a separable
 * one and the converse).
 */
export function supernetVariants(supernet: Pick<SupernetWeights, 'largest' | 'separableRows'>): ModelIR[] {
  const sets = [[], supernet.separableRows, ...supernet.separableRows.map((r) => [r])];
  const seen = new Set<string>();
  const out: ModelIR[] = [];
  for (const s of sets) {
    const key = s.join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(buildIR(parseGenome({ ...supernet.largest, separable: s })));
  }
  return out;
}

class UnionFind {
  private readonly parent = new Map<string, string>();
  find(a: string): string {
    let p = this.parent.get(a) ?? a;
    if (p !== a) {
      p = this.find(p);
      this.parent.set(a, p);
    }
    return p;
  }
  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra === rb) return;
    // The fixed group absorbs: anything tied to the image or the outputs stays in place.
    if (rb === FIXED) this.parent.set(ra, rb);
    else this.parent.set(rb, ra);
  }
}

/** Channel layout of each permutable axis of every parameter (axis 0 and, for 4-D weights, axis 1). */
interface ParamAxes {
  axis0?: Segment[];
  axis1?: Segment[];
}

function analyse(irs: ModelIR[]): { axes: Map<string, ParamAxes>; uf: UnionFind } {
  const uf = new UnionFind();
  const axes = new Map<string, ParamAxes>();
  const tie = (a: Segment[], b: Segment[], what: string) => {
    if (a.length !== b.length || a.some((s, i) => s.length !== b[i]!.length))
      throw new Error(`supernet: ${what} has different channel layouts across variants`);
    a.forEach((s, i) => uf.union(s.group, b[i]!.group));
  };
  const record = (name: string, axis: keyof ParamAxes, layout: Segment[]) => {
    const entry = axes.get(name) ?? {};
    const prev = entry[axis];
    if (prev) tie(prev, layout, name);
    else entry[axis] = layout;
    axes.set(name, entry);
  };
  for (const ir of irs) {
    const layout = new Map<string, Segment[]>([['images', [{ group: FIXED, length: 3 }]]]);
    for (const op of ir.ops) {
      const inp = layout.get(op.inputs[0]!)!;
      let out: Segment[];
      switch (op.kind) {
        case 'conv':
          if (isDepthwise(op)) {
            out = inp;
            record(`${op.name}.weight`, 'axis0', inp);
          } else {
            out = [{ group: op.name, length: op.outChannels }];
            record(`${op.name}.weight`, 'axis0', out);
            record(`${op.name}.weight`, 'axis1', inp);
            if (op.bias) record(`${op.name}.bias`, 'axis0', out);
          }
          break;
        case 'detect':
          out = [{ group: FIXED, length: op.outChannels }];
          record(`${op.name}.weight`, 'axis1', inp);
          break;
        case 'batchnorm':
          out = inp;
          for (const p of ['weight', 'bias', 'running_mean', 'running_var'])
            record(`${op.name}.${p}`, 'axis0', inp);
          break;
        case 'add': {
          out = inp;
          tie(inp, layout.get(op.inputs[1]!)!, op.name);
          break;
        }
        case 'concat':
          out = op.inputs.flatMap((t) => layout.get(t)!);
          break;
        default:
          out = inp;
      }
      layout.set(op.name, out);
    }
  }
  return { axes, uf };
}

/**
 * Reorders every channel group of the supernet so that channel 0 is the most important (largest
 * summed |BatchNorm gamma| over the group's BatchNorms): structured channel pruning, so that the
 * prefix a narrower sub-network takes holds the channels that matter most. Producers and consumers
 * (through concats, residual adds, depthwise convs, SPPF and the Detect head) are permuted together,
 * so the largest network computes exactly the same function. `extra` maps (optimizer moments) whose
 * tensors have the weights' shapes are permuted the same way.
 */
export function reorderByImportance(supernet: SupernetWeights, extra: WeightMap[] = []): void {
  const { axes, uf } = analyse(supernetVariants(supernet));
  const score = new Map<string, Float64Array>();
  for (const [name, a] of axes) {
    if (!name.endsWith('.bn.weight') || !a.axis0 || a.axis0.length !== 1) continue;
    const g = uf.find(a.axis0[0]!.group);
    if (g === FIXED) continue;
    const gamma = supernet.weights.get(name)!;
    const s = score.get(g) ?? new Float64Array(gamma.length);
    for (let i = 0; i < gamma.length; i++) s[i]! += Math.abs(gamma[i]!);
    score.set(g, s);
  }
  const perms = new Map<string, Int32Array>();
  for (const [g, s] of score) {
    const order = Int32Array.from({ length: s.length }, (_, i) => i).sort((a, b) => s[b]! - s[a]! || a - b);
    if (order.some((v, i) => v !== i)) perms.set(g, order);
  }
  if (perms.size === 0) return;
  const indexFor = (layout: Segment[] | undefined): Int32Array | null => {
    if (!layout) return null;
    let any = false;
    const total = layout.reduce((n, s) => n + s.length, 0);
    const idx = new Int32Array(total);
    let at = 0;
    for (const s of layout) {
      const p = perms.get(uf.find(s.group));
      if (p) {
        if (p.length !== s.length) throw new Error(`supernet: group ${s.group} length mismatch`);
        any = true;
      }
      for (let i = 0; i < s.length; i++) idx[at + i] = at + (p ? p[i]! : i);
      at += s.length;
    }
    return any ? idx : null;
  };
  for (const [name, a] of axes) {
    const i0 = indexFor(a.axis0);
    const i1 = indexFor(a.axis1);
    if (!i0 && !i1) continue;
    const shape = supernet.shapes.get(name)!;
    for (const map of [supernet.weights, ...extra]) {
      const src = map.get(name);
      if (src) map.set(name, permute(src, shape, i0, i1));
    }
  }
}

/** out[a, b, ...] = src[i0[a], i1[b], ...] */
function permute(
  src: Float32Array,
  shape: number[],
  i0: Int32Array | null,
  i1: Int32Array | null,
): Float32Array {
  const [o, i = 1] = shape;
  const inner = shape.slice(2).reduce((x, y) => x * y, 1);
  const out = new Float32Array(src.length);
  for (let a = 0; a < o!; a++) {
    const sa = i0 ? i0[a]! : a;
    for (let b = 0; b < i; b++) {
      const sb = i1 ? i1[b]! : b;
      out.set(src.subarray((sa * i + sb) * inner, (sa * i + sb + 1) * inner), (a * i + b) * inner);
    }
  }
  return out;
}

/** Every tensor of the supernet with its shape, over all variants. */
export function supernetParameterShapes(irs: ModelIR[]): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  for (const ir of irs)
    for (const s of parameterSpecs(ir)) if (!shapes.has(s.name)) shapes.set(s.name, s.shape);
  return shapes;
}
