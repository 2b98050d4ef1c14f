import type { ConvOp, IrOp, ModelIR } from '@detsearch/genome';

/**
 * How a sub-network's tensors sit inside the supernet's: for every sub-network tensor, the indices
 * of its channels among the same-named supernet tensor's channels. Derived from the two IRs alone
 * (not from multipliers), so any genome dimension that changes channel counts or C3 depth works:
 *  - a dense conv keeps the first `out` channels of its supernet filter bank (importance order);
 *  - a depthwise conv, BatchNorm, activation, pooling and resize keep their input's channels;
 *  - a residual add keeps its inputs' (identical) channels;
 *  - a concat places each input's channels at that input's offset in the supernet concat;
 *  - Detect outputs keep every channel (anchors x (classes + 5) do not change).
 * Elastic depth needs nothing: a C3 of k bottlenecks uses the supernet's first k by name.
 */
export type ChannelMap = Map<string, Int32Array>;

export function isDepthwise(op: ConvOp): boolean {
  return op.groups > 1 && op.groups === op.inChannels && op.groups === op.outChannels;
}

const range = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

/** Channel indices of every sub-network tensor inside the supernet's tensor of the same name. */
export function channelMap(sub: ModelIR, sup: ModelIR): ChannelMap {
  const supOps = new Map(sup.ops.map((o) => [o.name, o]));
  const map: ChannelMap = new Map([['images', range(sub.input.shape.channels)]]);
  const input = (op: IrOp, i = 0) => {
    const m = map.get(op.inputs[i]!);
    if (!m) throw new Error(`supernet: ${op.name} reads ${op.inputs[i]}, which has no channel map`);
    return m;
  };
  for (const op of sub.ops) {
    const supOp = supOps.get(op.name);
    if (!supOp || supOp.kind !== op.kind)
      throw new Error(
        `supernet: ${op.name} (${op.kind}) is not in the supernet; the genome is outside its space`,
      );
    let out: Int32Array;
    switch (op.kind) {
      case 'conv': {
        const s = supOp as ConvOp;
        if (isDepthwise(op)) {
          if (!isDepthwise(s)) throw new Error(`supernet: ${op.name} is depthwise here, not in the supernet`);
          out = input(op);
        } else {
          if (op.groups !== 1) throw new Error(`supernet: grouped conv ${op.name} is not supported`);
          if (op.outChannels > s.outChannels || op.inChannels > s.inChannels)
            throw new Error(`supernet: ${op.name} is wider than the supernet's`);
          out = range(op.outChannels);
        }
        break;
      }
      case 'detect':
        out = range(op.outChannels);
        break;
      case 'add': {
        const a = input(op, 0);
        const b = input(op, 1);
        if (a.length !== b.length || a.some((v, i) => v !== b[i]))
          throw new Error(`supernet: ${op.name} adds tensors with different channel maps`);
        out = a;
        break;
      }
      case 'concat': {
        const offsets: number[] = [];
        let at = 0;
        for (const t of supOp.inputs) {
          offsets.push(at);
          at += sup.tensors[t]!.channels;
        }
        const parts = op.inputs.map((_, i) => input(op, i).map((c) => c + offsets[i]!));
        out = new Int32Array(parts.reduce((n, p) => n + p.length, 0));
        let k = 0;
        for (const p of parts) {
          out.set(p, k);
          k += p.length;
        }
        break;
      }
      default:
        out = input(op);
    }
    if (out.length !== sub.tensors[op.name]!.channels)
      throw new Error(
        `supernet: ${op.name} maps ${out.length} channels, the IR has ${sub.tensors[op.name]!.channels}`,
      );
    map.set(op.name, out);
  }
  return map;
}

/**
 * One sub-network tensor as a gather from a supernet tensor of shape [O, I, ...rest] (or [O]):
 * rows `axis0` and, for 4-D weights, columns `axis1` (null: all), each element a block of `inner`.
 */
export interface SliceSpec {
  name: string;
  shape: number[];
  superShape: number[];
  axis0: Int32Array | null;
  axis1: Int32Array | null;
}

/** The slices that build every parameter of `sub` from the supernet's (canonical names). */
export function slicePlan(sub: ModelIR, sup: ModelIR): SliceSpec[] {
  const cmap = channelMap(sub, sup);
  const supOps = new Map(sup.ops.map((o) => [o.name, o]));
  const specs: SliceSpec[] = [];
  for (const op of sub.ops) {
    const s = supOps.get(op.name)!;
    if (op.kind === 'conv' && s.kind === 'conv') {
      const dw = isDepthwise(op);
      specs.push({
        name: `${op.name}.weight`,
        shape: [op.outChannels, op.inChannels / op.groups, op.kernel, op.kernel],
        superShape: [s.outChannels, s.inChannels / s.groups, s.kernel, s.kernel],
        axis0: dw ? cmap.get(op.inputs[0]!)! : cmap.get(op.name)!,
        axis1: dw ? null : cmap.get(op.inputs[0]!)!,
      });
      if (op.bias)
        specs.push({
          name: `${op.name}.bias`,
          shape: [op.outChannels],
          superShape: [s.outChannels],
          axis0: cmap.get(op.name)!,
          axis1: null,
        });
    } else if (op.kind === 'detect' && s.kind === 'detect') {
      specs.push({
        name: `${op.name}.weight`,
        shape: [op.outChannels, op.inChannels, 1, 1],
        superShape: [s.outChannels, s.inChannels, 1, 1],
        axis0: null,
        axis1: cmap.get(op.inputs[0]!)!,
      });
      specs.push({
        name: `${op.name}.bias`,
        shape: [op.outChannels],
        superShape: [s.outChannels],
        axis0: null,
        axis1: null,
      });
    } else if (op.kind === 'batchnorm' && s.kind === 'batchnorm') {
      for (const p of ['weight', 'bias', 'running_mean', 'running_var'])
        specs.push({
          name: `${op.name}.${p}`,
          shape: [op.channels],
          superShape: [s.channels],
          axis0: cmap.get(op.inputs[0]!)!,
          axis1: null,
        });
    }
  }
  return specs;
}

/** Copies the slice out of a supernet tensor. */
export function gather(spec: SliceSpec, src: Float32Array): Float32Array {
  const size = spec.shape.reduce((a, b) => a * b, 1);
  if (src.length !== spec.superShape.reduce((a, b) => a * b, 1))
    throw new Error(`supernet: ${spec.name} has ${src.length} values, expected [${spec.superShape}]`);
  const out = new Float32Array(size);
  forEachBlock(spec, (from, to, len) => out.set(src.subarray(from, from + len), to));
  return out;
}

/** Adds a sub-network tensor (e.g. a gradient) into its place in a supernet-sized buffer. */
export function scatterAdd(spec: SliceSpec, sub: Float32Array, dst: Float32Array, scale = 1): void {
  forEachBlock(spec, (from, to, len) => {
    for (let i = 0; i < len; i++) dst[from + i]! += scale * sub[to + i]!;
  });
}

/** Writes a sub-network tensor into its place in a supernet tensor. */
export function scatterSet(spec: SliceSpec, sub: Float32Array, dst: Float32Array): void {
  forEachBlock(spec, (from, to, len) => dst.set(sub.subarray(to, to + len), from));
}

/** Calls fn(superOffset, subOffset, length) for every contiguous block of the slice. */
function forEachBlock(spec: SliceSpec, fn: (from: number, to: number, len: number) => void): void {
  const [o, i = 1] = spec.shape;
  const [, si = 1] = spec.superShape;
  const inner = spec.shape.slice(2).reduce((a, b) => a * b, 1);
  let to = 0;
  for (let a = 0; a < o!; a++) {
    const sa = spec.axis0 ? spec.axis0[a]! : a;
    if (spec.axis1 === null) {
      // Whole rows are contiguous.
      fn(sa * si * inner, to, i * inner);
      to += i * inner;
    } else {
      for (let b = 0; b < i; b++) {
        fn((sa * si + spec.axis1[b]!) * inner, to, inner);
        to += inner;
      }
    }
  }
}
