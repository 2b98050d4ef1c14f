import type { Activation, Precision } from './genome';
import { isConvLike, type IrOp, type ModelIR, type TensorShape } from './ir';

export const BYTES_PER_ELEMENT: Record<Precision, number> = { fp32: 4, fp16: 2, int8: 1 };

function elements(s: TensorShape): number {
  return s.channels * s.height * s.width;
}

/** Trainable parameters of one IR op, counted as PyTorch does (BatchNorm gamma and beta included). */
export function opParams(op: IrOp): number {
  if (isConvLike(op)) {
    const groups = op.kind === 'conv' ? op.groups : 1;
    const kernel = op.kind === 'conv' ? op.kernel : 1;
    const bias = op.kind === 'detect' || op.bias ? op.outChannels : 0;
    return op.outChannels * (op.inChannels / groups) * kernel * kernel + bias;
  }
  if (op.kind === 'batchnorm') return 2 * op.channels;
  return 0;
}

/** Multiply-accumulates of one op: convolutions only (bias, BN and activations are not counted). */
export function opMacs(op: IrOp, ir: ModelIR): number {
  if (!isConvLike(op)) return 0;
  const out = ir.tensors[op.name]!;
  const groups = op.kind === 'conv' ? op.groups : 1;
  const kernel = op.kind === 'conv' ? op.kernel : 1;
  return elements(out) * (op.inChannels / groups) * kernel * kernel;
}

/**
 * One operator as a runtime executes it after fusion: conv + BatchNorm + activation become one
 * conv record (BN folded into weights and bias, activation fused), as onnxruntime, TensorRT and
 * TFLite do. These are the records a latency predictor works on.
 */
export interface FusedOpRecord {
  /** The tensor the fused operator writes: the activation's (or BN's) output for a fused conv. */
  name: string;
  /** The IR op the record starts at: the conv itself for a fused conv + BN + activation. */
  opName: string;
  kind: 'conv' | 'detect' | 'add' | 'concat' | 'maxpool' | 'resize';
  layer: number;
  macs: number;
  /** 2 x MACs for convolutions; one op per output element for the others. */
  flops: number;
  inputElements: number;
  outputElements: number;
  /** Weight elements after BN folding (bias included). */
  weightElements: number;
  outputShape: TensorShape;
  inputShapes: TensorShape[];
  kernel: number;
  stride: number;
  groups: number;
  inChannels: number;
  outChannels: number;
  /** groups == inChannels > 1: memory-bound on every device. */
  depthwise: boolean;
  /** 1x1 dense convolution: a GEMM with low arithmetic intensity at small channel counts. */
  pointwise: boolean;
  activation?: Activation;
}

export function fusedOps(ir: ModelIR): FusedOpRecord[] {
  const consumers = new Map<string, IrOp[]>();
  for (const op of ir.ops) for (const i of op.inputs) consumers.set(i, [...(consumers.get(i) ?? []), op]);
  const absorbed = new Set<string>();
  const records: FusedOpRecord[] = [];
  for (const op of ir.ops) {
    if (absorbed.has(op.name)) continue;
    if (op.kind === 'batchnorm' || op.kind === 'activation') {
      throw new Error(`IR: ${op.kind} ${op.name} not preceded by a conv`);
    }
    const inputShapes = op.inputs.map((i) => ir.tensors[i]!);
    const inputElements = inputShapes.reduce((s, t) => s + elements(t), 0);
    if (isConvLike(op)) {
      let last = op.name;
      let activation: Activation | undefined;
      const next = consumers.get(last);
      if (next?.length === 1 && next[0]!.kind === 'batchnorm') {
        absorbed.add(next[0]!.name);
        last = next[0]!.name;
        const after = consumers.get(last);
        if (after?.length === 1 && after[0]!.kind === 'activation') {
          absorbed.add(after[0]!.name);
          activation = after[0]!.fn;
          last = after[0]!.name;
        }
      }
      const groups = op.kind === 'conv' ? op.groups : 1;
      const kernel = op.kind === 'conv' ? op.kernel : 1;
      const macs = opMacs(op, ir);
      const outputShape = ir.tensors[op.name]!;
      records.push({
        name: last,
        opName: op.name,
        kind: op.kind,
        layer: op.layer,
        macs,
        flops: 2 * macs,
        inputElements,
        outputElements: elements(outputShape),
        weightElements: op.outChannels * (op.inChannels / groups) * kernel * kernel + op.outChannels,
        outputShape,
        inputShapes,
        kernel,
        stride: op.kind === 'conv' ? op.stride : 1,
        groups,
        inChannels: op.inChannels,
        outChannels: op.outChannels,
        depthwise: groups > 1 && groups === op.inChannels,
        pointwise: kernel === 1 && groups === 1,
        activation,
      });
      continue;
    }
    const outputShape = ir.tensors[op.name]!;
    const out = elements(outputShape);
    const kernel = op.kind === 'maxpool' ? op.kernel : 1;
    records.push({
      name: op.name,
      opName: op.name,
      kind: op.kind,
      layer: op.layer,
      macs: 0,
      flops: op.kind === 'maxpool' ? out * kernel * kernel : op.kind === 'add' ? out : 0,
      inputElements,
      outputElements: out,
      weightElements: 0,
      outputShape,
      inputShapes,
      kernel,
      stride: 1,
      groups: 1,
      inChannels: inputShapes.reduce((s, t) => s + t.channels, 0),
      outChannels: outputShape.channels,
      depthwise: false,
      pointwise: false,
    });
  }
  return records;
}

/** Bytes an op moves at a precision: activations and weights at that precision (int8 bias as int32). */
export function fusedOpBytes(r: FusedOpRecord, precision: Precision): { read: number; written: number } {
  const b = BYTES_PER_ELEMENT[precision];
  const biasBytes = precision === 'int8' ? 4 : b;
  const weights =
    r.weightElements > 0 ? (r.weightElements - r.outChannels) * b + r.outChannels * biasBytes : 0;
  return { read: r.inputElements * b + weights, written: r.outputElements * b };
}

export interface ModelCost {
  /** Trainable parameters, unfused, as Ultralytics' model summary counts them. */
  params: number;
  macs: number;
  /** 2 x MACs of all convolutions, in 1e9. */
  gflops: number;
  /** Rows of the YOLOv5 table (25). */
  layers: number;
  /** Primitive IR ops, and operators after conv+BN+act fusion. */
  irOps: number;
  fusedOps: number;
  /** Deployed weight bytes (BN folded) per precision. */
  weightBytes: Record<Precision, number>;
  /** Sum of every fused operator's output, per precision: the activation traffic of one inference. */
  activationBytes: Record<Precision, number>;
}

export function modelCost(ir: ModelIR): ModelCost {
  let params = 0;
  let macs = 0;
  for (const op of ir.ops) {
    params += opParams(op);
    macs += opMacs(op, ir);
  }
  const fused = fusedOps(ir);
  const perPrecision = (f: (p: Precision) => number) =>
    ({ fp32: f('fp32'), fp16: f('fp16'), int8: f('int8') }) as Record<Precision, number>;
  const weightBytes = perPrecision((p) =>
    fused.reduce(
      (s, r) => s + (r.weightElements ? fusedOpBytes(r, p).read - r.inputElements * BYTES_PER_ELEMENT[p] : 0),
      0,
    ),
  );
  const activationBytes = perPrecision((p) =>
    fused.reduce((s, r) => s + r.outputElements * BYTES_PER_ELEMENT[p], 0),
  );
  return {
    params,
    macs,
    gflops: (2 * macs) / 1e9,
    layers: ir.rows.length,
    irOps: ir.ops.length,
    fusedOps: fused.length,
    weightBytes,
    activationBytes,
  };
}
