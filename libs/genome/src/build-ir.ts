import { rowMultiples, type Activation, type Genome } from './genome';
import type { BuiltRow, IrOp, ModelIR, TensorShape } from './ir';
import {
  DETECT_ROW,
  YOLOV5_ANCHORS,
  YOLOV5_STRIDES,
  YOLOV5_TABLE,
  scaleChannels,
  scaleRepeats,
} from './yolov5-table';

const BN_EPS = 1e-3;
const BN_MOMENTUM = 0.03;

/** Accumulates ops and shapes while the table is walked. */
class IrWriter {
  readonly ops: IrOp[] = [];
  readonly tensors: Record<string, TensorShape> = {};

  constructor(
    readonly activation: Activation,
    input: TensorShape,
  ) {
    this.tensors.images = input;
  }

  shape(name: string): TensorShape {
    const s = this.tensors[name];
    if (!s) throw new Error(`IR: unknown tensor ${name}`);
    return s;
  }

  private push(op: IrOp, shape: TensorShape): string {
    if (this.tensors[op.name] && op.name !== 'images') throw new Error(`IR: duplicate tensor ${op.name}`);
    this.ops.push(op);
    this.tensors[op.name] = shape;
    return op.name;
  }

  /** Ultralytics Conv: conv2d (no bias) + BatchNorm2d + activation. */
  conv(
    prefix: string,
    layer: number,
    input: string,
    outChannels: number,
    kernel: number,
    stride: number,
    padding = Math.floor(kernel / 2),
    groups = 1,
  ): string {
    const s = this.shape(input);
    const out: TensorShape = {
      channels: outChannels,
      height: Math.floor((s.height + 2 * padding - kernel) / stride) + 1,
      width: Math.floor((s.width + 2 * padding - kernel) / stride) + 1,
    };
    const conv = this.push(
      {
        kind: 'conv',
        name: `${prefix}.conv`,
        inputs: [input],
        layer,
        inChannels: s.channels,
        outChannels,
        kernel,
        stride,
        padding,
        groups,
        bias: false,
      },
      out,
    );
    const bn = this.push(
      {
        kind: 'batchnorm',
        name: `${prefix}.bn`,
        inputs: [conv],
        layer,
        channels: outChannels,
        eps: BN_EPS,
        momentum: BN_MOMENTUM,
      },
      out,
    );
    return this.push(
      { kind: 'activation', name: `${prefix}.act`, inputs: [bn], layer, fn: this.activation },
      out,
    );
  }

  /** A kxk Conv, or when `separable` its depthwise kxk + pointwise 1x1 substitute. */
  convMaybeSeparable(
    prefix: string,
    layer: number,
    input: string,
    outChannels: number,
    kernel: number,
    stride: number,
    separable: boolean,
  ): string {
    if (!separable) return this.conv(prefix, layer, input, outChannels, kernel, stride);
    const c1 = this.shape(input).channels;
    const dw = this.conv(`${prefix}.dw`, layer, input, c1, kernel, stride, Math.floor(kernel / 2), c1);
    return this.conv(`${prefix}.pw`, layer, dw, outChannels, 1, 1, 0);
  }

  add(name: string, layer: number, a: string, b: string): string {
    return this.push({ kind: 'add', name, inputs: [a, b], layer }, this.shape(a));
  }

  concat(name: string, layer: number, inputs: string[]): string {
    const shapes = inputs.map((i) => this.shape(i));
    const first = shapes[0]!;
    for (const s of shapes) {
      if (s.height !== first.height || s.width !== first.width)
        throw new Error(`IR: concat ${name} spatial mismatch`);
    }
    const channels = shapes.reduce((sum, s) => sum + s.channels, 0);
    return this.push({ kind: 'concat', name, inputs, layer }, { ...first, channels });
  }

  maxpool(name: string, layer: number, input: string, kernel: number): string {
    const padding = Math.floor(kernel / 2);
    return this.push(
      { kind: 'maxpool', name, inputs: [input], layer, kernel, stride: 1, padding },
      this.shape(input),
    );
  }

  resize(name: string, layer: number, input: string, scale: number): string {
    const s = this.shape(input);
    return this.push(
      { kind: 'resize', name, inputs: [input], layer, scale, mode: 'nearest' },
      { channels: s.channels, height: s.height * scale, width: s.width * scale },
    );
  }
}

/**
 * Builds the IR of a (validated) genome by walking the YOLOv5 table exactly as Ultralytics'
 * parse_model scales it. Use `parseGenome` first: this trusts its input.
 */
export function buildIR(genome: Genome): ModelIR {
  const { numClasses: nc, imageSize } = genome;
  const separable = new Set(genome.separable);
  const w = new IrWriter(genome.activation, { channels: 3, height: imageSize, width: imageSize });
  const rowOutputs: string[] = [];
  const rowChannels: number[] = [];
  const rows: BuiltRow[] = [];
  const na = YOLOV5_ANCHORS[0]!.length;
  const outputs: string[] = [];

  YOLOV5_TABLE.forEach((row, i) => {
    const prefix = `model.${i}`;
    const fromTensors = row.from.map((f) =>
      f === -1 ? (i === 0 ? 'images' : rowOutputs[i - 1]!) : rowOutputs[f]!,
    );
    const c1 = row.from[0] === -1 ? (i === 0 ? 3 : rowChannels[i - 1]!) : rowChannels[row.from[0]!]!;
    const mult = rowMultiples(genome, i);
    const n = scaleRepeats(row.repeats, mult.depth);
    const sep = separable.has(i);
    let out: string;
    let c2: number;
    let args: BuiltRow['args'];
    switch (row.block) {
      case 'Conv': {
        c2 = scaleChannels(row.channels!, mult.width);
        const k = row.kernel!;
        const s = row.stride!;
        out =
          row.padding !== undefined && !sep
            ? w.conv(prefix, i, fromTensors[0]!, c2, k, s, row.padding)
            : w.convMaybeSeparable(prefix, i, fromTensors[0]!, c2, k, s, sep);
        args = row.padding !== undefined ? [c1, c2, k, s, row.padding] : [c1, c2, k, s];
        break;
      }
      case 'C3': {
        c2 = scaleChannels(row.channels!, mult.width);
        const hidden = Math.floor(c2 * 0.5);
        const x = fromTensors[0]!;
        let m = w.conv(`${prefix}.cv1`, i, x, hidden, 1, 1);
        const cv2 = w.conv(`${prefix}.cv2`, i, x, hidden, 1, 1);
        for (let b = 0; b < n; b++) {
          // Bottleneck(c_, c_, shortcut, e=1.0): cv1 1x1, cv2 3x3, residual when shortcut (c1 == c2 here)
          const bp = `${prefix}.m.${b}`;
          const h = w.conv(`${bp}.cv1`, i, m, hidden, 1, 1);
          const y = w.convMaybeSeparable(`${bp}.cv2`, i, h, hidden, 3, 1, sep);
          m = row.shortcut ? w.add(`${bp}.add`, i, m, y) : y;
        }
        const cat = w.concat(`${prefix}.cat`, i, [m, cv2]);
        out = w.conv(`${prefix}.cv3`, i, cat, c2, 1, 1);
        args = row.shortcut ? [c1, c2, n] : [c1, c2, n, false];
        break;
      }
      case 'SPPF': {
        c2 = scaleChannels(row.channels!, mult.width);
        const k = row.poolKernel!;
        const x = w.conv(`${prefix}.cv1`, i, fromTensors[0]!, Math.floor(c1 / 2), 1, 1);
        const y1 = w.maxpool(`${prefix}.m.0`, i, x, k);
        const y2 = w.maxpool(`${prefix}.m.1`, i, y1, k);
        const y3 = w.maxpool(`${prefix}.m.2`, i, y2, k);
        const cat = w.concat(`${prefix}.cat`, i, [x, y1, y2, y3]);
        out = w.conv(`${prefix}.cv2`, i, cat, c2, 1, 1);
        args = [c1, c2, k];
        break;
      }
      case 'Upsample': {
        c2 = c1;
        out = w.resize(`${prefix}`, i, fromTensors[0]!, 2);
        args = [null, 2, 'nearest'];
        break;
      }
      case 'Concat': {
        c2 = row.from.reduce((sum, f) => sum + (f === -1 ? rowChannels[i - 1]! : rowChannels[f]!), 0);
        out = w.concat(prefix, i, fromTensors);
        args = [1];
        break;
      }
      case 'Detect': {
        const no = nc + 5;
        c2 = na * no;
        fromTensors.forEach((t, level) => {
          const s = w.shape(t);
          const name = `${prefix}.m.${level}`;
          w.ops.push({
            kind: 'detect',
            name,
            inputs: [t],
            layer: i,
            inChannels: s.channels,
            outChannels: na * no,
            level,
            stride: YOLOV5_STRIDES[level]!,
            anchors: YOLOV5_ANCHORS[level]!.map(([aw, ah]) => [aw, ah] as [number, number]),
            numClasses: nc,
          });
          w.tensors[name] = { channels: na * no, height: s.height, width: s.width };
          outputs.push(name);
        });
        out = outputs[outputs.length - 1]!;
        args = [nc, YOLOV5_ANCHORS.length, row.from.map((f) => rowChannels[f]!).join(',')];
        break;
      }
    }
    rowOutputs.push(out);
    rowChannels.push(c2);
    rows.push({
      index: i,
      from: row.from,
      block: row.block,
      repeats: n,
      inChannels: c1,
      outChannels: c2,
      separable: sep,
      args,
    });
  });
  if (rows.length !== DETECT_ROW + 1) throw new Error('IR: table must end in Detect');

  return {
    genome,
    input: { name: 'images', shape: w.tensors.images! },
    ops: w.ops,
    tensors: w.tensors,
    outputs,
    rowOutputs,
    rows,
  };
}
