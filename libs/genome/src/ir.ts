import type { Activation, Genome } from './genome';

/** Logical tensor shape without batch: channels x height x width (NCHW order). */
export interface TensorShape {
  channels: number;
  height: number;
  width: number;
}

interface OpBase {
  /** Unique name; also the name of the op's output tensor. Mirrors Ultralytics module paths. */
  name: string;
  inputs: string[];
  /** Row of the YOLOv5 table this op belongs to. */
  layer: number;
}

export interface ConvOp extends OpBase {
  kind: 'conv';
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  padding: number;
  groups: number;
  bias: boolean;
}

export interface BatchNormOp extends OpBase {
  kind: 'batchnorm';
  channels: number;
  /** Ultralytics' BatchNorm2d(eps=0.001, momentum=0.03). */
  eps: number;
  momentum: number;
}

export interface ActivationOp extends OpBase {
  kind: 'activation';
  fn: Activation;
}

export interface AddOp extends OpBase {
  kind: 'add';
}

export interface ConcatOp extends OpBase {
  kind: 'concat';
}

export interface MaxPoolOp extends OpBase {
  kind: 'maxpool';
  kernel: number;
  stride: number;
  padding: number;
}

export interface ResizeOp extends OpBase {
  kind: 'resize';
  scale: number;
  mode: 'nearest';
}

/** The Detect head's 1x1 convolution (with bias) for one pyramid level; its output is a model output. */
export interface DetectOp extends OpBase {
  kind: 'detect';
  inChannels: number;
  outChannels: number;
  level: number;
  stride: number;
  anchors: [number, number][];
  numClasses: number;
}

export type IrOp = ConvOp | BatchNormOp | ActivationOp | AddOp | ConcatOp | MaxPoolOp | ResizeOp | DetectOp;
export type IrOpKind = IrOp['kind'];

/**
 * The architecture as a graph of primitive ops in topological order, with every tensor's shape.
 * Both model builders (tfjs, ONNX) and the cost model walk this, never the genome.
 */
export interface ModelIR {
  genome: Genome;
  input: { name: 'images'; shape: TensorShape };
  ops: IrOp[];
  tensors: Record<string, TensorShape>;
  /** Detect outputs, P3 (stride 8) first. */
  outputs: string[];
  /** Output tensor of each table row. */
  rowOutputs: string[];
  /** Per row: the block as built (scaled channels and repeats), for summaries and exports. */
  rows: BuiltRow[];
}

export interface BuiltRow {
  index: number;
  from: number[];
  block: string;
  repeats: number;
  inChannels: number;
  outChannels: number;
  separable: boolean;
  /** Arguments as Ultralytics prints them in the model summary. */
  args: (number | string | boolean | null)[];
}

/** True for a convolution whose weights have learnable parameters (conv and detect). */
export function isConvLike(op: IrOp): op is ConvOp | DetectOp {
  return op.kind === 'conv' || op.kind === 'detect';
}
