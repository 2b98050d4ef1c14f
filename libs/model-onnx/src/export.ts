import {
  DETECT_ROW,
  fusedOps,
  type ActivationOp,
  type BatchNormOp,
  type ConvOp,
  type DetectOp,
  type IrOp,
  type ModelIR,
  type Precision,
  type Quantization,
  type WeightMap,
} from '@detsearch/genome';
import { foldBatchNorm } from './fold';
import { OnnxGraphBuilder } from './graph-builder';
import { toFloat16, type ElemType } from './proto';
import {
  minWeightScalesForBias,
  quantizeBiasInt32,
  quantizeWeightsInt8,
  uint8QParams,
  type ActivationRange,
  type ActivationRanges,
} from './quantize';

export const ONNX_OPSET = 17;
export const PRODUCER = { name: 'detsearch', version: '0.1.0' };

export type Int8Scheme = 'static' | 'dynamic';
export type Int8Granularity = 'per-tensor' | 'per-channel';

export interface ExportOptions {
  precision: Precision;
  /** int8 settings (the genome's); defaults: static, per-channel, minmax. */
  quantization?: Quantization;
  /** int8 static: NCHW [1,3,H,W] images in 0..1 to calibrate activation ranges on. */
  calibrationImages?: Float32Array[];
  /** int8 static: ranges already calibrated (skips running the fp32 model). */
  activationRanges?: ActivationRanges;
  /** int8: table rows kept in float; default the first conv (0) and Detect (24). */
  keepFloatLayers?: number[];
  opset?: 17;
  /** fp32 only: emit BatchNormalization nodes instead of folding (to test the folding). */
  foldBatchNorm?: boolean;
  /** Extra graph outputs (ONNX tensor names), for calibration. */
  extraOutputs?: string[];
}

/** Names of the graph's outputs, P3 (stride 8) first. */
export function outputNames(ir: ModelIR): string[] {
  return ir.outputs.map((_, i) => `output${i}`);
}

export const DEFAULT_KEEP_FLOAT_LAYERS = [0, DETECT_ROW];

interface ConvPlan {
  op: ConvOp | DetectOp;
  bn?: BatchNormOp;
  weight: Float32Array;
  bias: Float32Array;
  /** false only for an unfolded conv without bias (its `bias` is zeros). */
  hasBias: boolean;
  groups: number;
  kernel: number;
  stride: number;
  padding: number;
}

/**
 * Maps IR tensor names to ONNX tensor names. BatchNorm is folded into its conv, so a BN's output
 * is its conv's output; everything else keeps its IR name (Ultralytics module paths).
 */
export function onnxTensorName(ir: ModelIR, irName: string): string {
  const op = ir.ops.find((o) => o.name === irName);
  if (op?.kind === 'batchnorm') return op.inputs[0]!;
  return irName;
}

/**
 * Quantized convs that run fused with a ReLU (conv + BN + ReLU as `fusedOps` groups them): the int8
 * static export gives their output no Q/DQ of its own, so the graph reads DQ -> Conv -> Relu -> Q.
 * onnxruntime drops a Relu before a Q whose zero point is the range minimum (the ReLU's calibrated
 * range starts at 0) and fuses the rest into one QLinearConv. With a Q/DQ pair before the ReLU too,
 * a DequantizeLinear + QuantizeLinear round trip stayed behind every conv (seen in the optimized
 * graph), and the output was quantized twice.
 */
export function reluFusedConvs(ir: ModelIR, keep: ReadonlySet<number>): Set<string> {
  return new Set(
    fusedOps(ir)
      .filter((r) => r.kind === 'conv' && r.activation === 'relu' && !keep.has(r.layer))
      .map((r) => r.opName),
  );
}

/**
 * Tensors whose ranges int8 static needs: in every quantized row, each conv's input and (BN-folded)
 * output (unless fused with a ReLU) and each activation, Add and Concat output. MaxPool and Resize reuse their input's range;
 * a sigmoid's is [0, 1]. Names are those of the fp32 export.
 */
export function calibrationTensors(ir: ModelIR, keepFloatLayers = DEFAULT_KEEP_FLOAT_LAYERS): string[] {
  const keep = new Set(keepFloatLayers);
  const reluFused = reluFusedConvs(ir, keep);
  const names = new Set<string>();
  for (const op of ir.ops) {
    if (keep.has(op.layer)) continue;
    if (op.kind === 'conv' || op.kind === 'detect') {
      names.add(onnxTensorName(ir, op.inputs[0]!));
      // A Detect conv writes the graph output itself in the fp32 export; a conv fused with its ReLU
      // is quantized only after the ReLU.
      if (op.kind === 'detect') names.add(`output${op.level}`);
      else if (!reluFused.has(op.name)) names.add(op.name);
    } else if (op.kind === 'activation' || op.kind === 'add' || op.kind === 'concat') {
      names.add(op.name);
    }
  }
  return [...names];
}

/**
 * Calibrated ranges with every Concat's inputs and output on one shared range (the union of the
 * group's ranges; groups chain where a tensor feeds several concats). With equal scales and zero
 * points onnxruntime's QLinearConcat copies bytes; with different ones it requantizes every element
 * through a lookup table. MaxPool and Resize outputs take their input's range, so a concat input
 * behind them shares through to its source. Widening a range costs precision in the tensor's other
 * consumers; the int8 parity tests bound the effect.
 */
export function shareConcatRanges(
  ir: ModelIR,
  ranges: ActivationRanges,
  keepFloatLayers: Iterable<number> = DEFAULT_KEEP_FLOAT_LAYERS,
): ActivationRanges {
  const keep = new Set(keepFloatLayers);
  const byName = new Map(ir.ops.map((o) => [o.name, o]));
  const parent = new Map<string, string>();
  const root = (t: string): string => {
    let r = t;
    while (parent.has(r)) r = parent.get(r)!;
    return r;
  };
  const source = (irName: string): string => {
    const op = byName.get(irName);
    if (op && (op.kind === 'maxpool' || op.kind === 'resize') && !keep.has(op.layer))
      return source(op.inputs[0]!);
    return onnxTensorName(ir, irName);
  };
  for (const op of ir.ops) {
    if (op.kind !== 'concat' || keep.has(op.layer) || !ranges.has(op.name)) continue;
    for (const input of op.inputs) {
      const t = source(input);
      if (!ranges.has(t)) continue; // a float producer: the concat quantizes it with its own range
      const [a, b] = [root(t), root(op.name)];
      if (a !== b) parent.set(a, b);
    }
  }
  const union = new Map<string, ActivationRange>();
  for (const [t, r] of ranges) {
    const k = root(t);
    const u = union.get(k);
    union.set(k, u ? { min: Math.min(u.min, r.min), max: Math.max(u.max, r.max) } : { ...r });
  }
  return new Map([...ranges.keys()].map((t) => [t, union.get(root(t))!]));
}

function need(weights: WeightMap, name: string): Float32Array {
  const w = weights.get(name);
  if (!w) throw new Error(`export: weight ${name} missing`);
  return w;
}

function convPlans(ir: ModelIR, weights: WeightMap, fold: boolean): Map<string, ConvPlan> {
  const bnOf = new Map<string, BatchNormOp>();
  for (const op of ir.ops) if (op.kind === 'batchnorm') bnOf.set(op.inputs[0]!, op);
  const plans = new Map<string, ConvPlan>();
  for (const op of ir.ops) {
    if (op.kind !== 'conv' && op.kind !== 'detect') continue;
    const weight = need(weights, `${op.name}.weight`);
    const bias =
      op.kind === 'detect' || op.bias ? need(weights, `${op.name}.bias`) : new Float32Array(op.outChannels);
    const geometry =
      op.kind === 'conv'
        ? { groups: op.groups, kernel: op.kernel, stride: op.stride, padding: op.padding }
        : { groups: 1, kernel: 1, stride: 1, padding: 0 };
    const bn = bnOf.get(op.name);
    if (bn && fold) {
      const p = (s: string) => need(weights, `${bn.name}.${s}`);
      const folded = foldBatchNorm(weight, bias, {
        gamma: p('weight'),
        beta: p('bias'),
        mean: p('running_mean'),
        variance: p('running_var'),
        eps: bn.eps,
      });
      plans.set(op.name, { op, bn, ...folded, hasBias: true, ...geometry });
    } else {
      plans.set(op.name, { op, bn, weight, bias, hasBias: op.kind === 'detect' || op.bias, ...geometry });
    }
  }
  return plans;
}

/**
 * IR + weights -> ONNX model bytes (opset 17): input `images` float32 [1,3,H,W], outputs the raw
 * Detect convolutions `output0..2` float32 [1, 3*(nc+5), H/s, W/s]. int8 static needs
 * `activationRanges` here; `exportOnnx` (async) calibrates them first.
 */
export function buildOnnxModel(ir: ModelIR, weights: WeightMap, options: ExportOptions): Uint8Array {
  if ((options.opset ?? ONNX_OPSET) !== ONNX_OPSET)
    throw new Error(`export: only opset ${ONNX_OPSET} is supported`);
  const precision = options.precision;
  const q = options.quantization;
  const scheme: Int8Scheme = q?.scheme ?? 'static';
  const perChannel = (q?.granularity ?? 'per-channel') === 'per-channel';
  const fold = options.foldBatchNorm ?? true;
  if (!fold && precision !== 'fp32') throw new Error('export: unfolded BatchNorm is only for fp32');
  const keep = new Set(options.keepFloatLayers ?? DEFAULT_KEEP_FLOAT_LAYERS);
  // A copy: fixed ranges (sigmoid outputs) are added while the graph is written.
  const ranges =
    options.activationRanges && scheme === 'static'
      ? shareConcatRanges(ir, options.activationRanges, keep)
      : options.activationRanges && new Map(options.activationRanges);
  if (precision === 'int8' && scheme === 'static' && !ranges)
    throw new Error('export: int8 static needs activation ranges (calibrate first, or use exportOnnx)');

  const T: ElemType = precision === 'fp16' ? 'float16' : 'float32';
  const g = new OnnxGraphBuilder(
    `detsearch_${ir.genome.depthMultiple}_${ir.genome.widthMultiple}`,
    ONNX_OPSET,
  );
  const plans = convPlans(ir, weights, fold);
  const shapeOf = (irName: string) => {
    const s = ir.tensors[irName];
    if (!s) throw new Error(`export: no shape for ${irName}`);
    return [1, s.channels, s.height, s.width];
  };
  const floatData = (data: Float32Array) => (T === 'float16' ? toFloat16(data) : data);

  // IR tensor -> ONNX tensor holding its value (in the compute type T).
  const value = new Map<string, string>();
  const inShape = shapeOf('images');
  g.input('images', 'float32', inShape);
  value.set(
    'images',
    T === 'float16'
      ? g.node('Cast', ['images'], [{ name: 'images_fp16', type: T, dims: inShape }], { to: 10 })
      : 'images',
  );
  const src = (irName: string) => {
    const v = value.get(irName);
    if (!v) throw new Error(`export: ${irName} used before it is computed`);
    return v;
  };

  // int8 helpers, memoized per tensor so a tensor feeding several convs is quantized once.
  const qdq = new Map<string, { dq: string; scale: number }>();
  const quantizeActivation = (tensor: string, rangeKey = tensor): { dq: string; scale: number } => {
    const hit = qdq.get(tensor);
    if (hit) return hit;
    const range = ranges!.get(rangeKey);
    if (!range) throw new Error(`export: no calibrated range for ${rangeKey}`);
    const { scale, zeroPoint } = uint8QParams(range);
    const dims = g.info(tensor).dims;
    const s = g.scalarFloat(`${tensor}_scale`, scale);
    const z = g.initializer(`${tensor}_zero_point`, 'uint8', [], Uint8Array.of(zeroPoint));
    const qn = g.node(
      'QuantizeLinear',
      [tensor, s, z],
      [{ name: `${tensor}_quantized`, type: 'uint8', dims }],
    );
    const dq = g.node(
      'DequantizeLinear',
      [qn, s, z],
      [{ name: `${tensor}_dequantized`, type: 'float32', dims }],
    );
    const entry = { dq, scale: Math.fround(scale) };
    qdq.set(tensor, entry);
    qdq.set(dq, entry); // an already dequantized tensor is its own Q/DQ
    dequantized.add(dq);
    rangeOf.set(tensor, range);
    return entry;
  };
  const rangeOf = new Map<string, ActivationRange>();
  const dequantized = new Set<string>();
  const quantizeFixed = (tensor: string, range: ActivationRange) => {
    ranges!.set(tensor, range);
    return quantizeActivation(tensor).dq;
  };
  const dynamicQ = new Map<string, { q: string; scale: string; zp: string }>();
  const quantizeDynamic = (tensor: string) => {
    const hit = dynamicQ.get(tensor);
    if (hit) return hit;
    const dims = g.info(tensor).dims;
    const entry = { q: `${tensor}_u8`, scale: `${tensor}_u8_scale`, zp: `${tensor}_u8_zero_point` };
    g.node(
      'DynamicQuantizeLinear',
      [tensor],
      [
        { name: entry.q, type: 'uint8', dims },
        { name: entry.scale, type: 'float32', dims: [] },
        { name: entry.zp, type: 'uint8', dims: [] },
      ],
    );
    dynamicQ.set(tensor, entry);
    return entry;
  };

  /**
   * A quantized stride-2 conv on few channels (the stem: 3 -> c, 6x6, stride 2) as SpaceToDepth(2)
   * then the same conv at stride 1 on 4x the channels with half the kernel (3x3): the same function
   * exactly, but onnxruntime's QLinearConv is slow on 3 input channels at stride 2 (measured: the
   * int8 stem took longer than the float one), and fast on the rewritten form.
   */
  const spaceToDepthStem = (plan: ConvPlan, input: string) => {
    const { op } = plan;
    if (op.kind !== 'conv' || plan.groups !== 1 || op.inChannels > 4) return undefined;
    if (plan.stride !== 2 || plan.kernel % 2 || plan.padding % 2) return undefined;
    const [n, c, h, w] = g.info(input).dims as [number, number, number, number];
    if (h % 2 || w % 2) return undefined;
    const k = plan.kernel / 2;
    const cin = 4 * c;
    // W'[o, (i*2 + j)*c + ch, a, b] = W[o, ch, 2a + i, 2b + j] (SpaceToDepth's channel order).
    const weight = new Float32Array(op.outChannels * cin * k * k);
    for (let o = 0; o < op.outChannels; o++)
      for (let ch = 0; ch < c; ch++)
        for (let ky = 0; ky < plan.kernel; ky++)
          for (let kx = 0; kx < plan.kernel; kx++) {
            const ci = ((ky % 2) * 2 + (kx % 2)) * c + ch;
            const to = ((o * cin + ci) * k + (ky >> 1)) * k + (kx >> 1);
            weight[to] = plan.weight[((o * c + ch) * plan.kernel + ky) * plan.kernel + kx]!;
          }
    const moved = g.node(
      'SpaceToDepth',
      [input],
      [{ name: `${op.name}.space_to_depth`, type: 'float32', dims: [n, cin, h / 2, w / 2] }],
      { blocksize: 2 },
    );
    // Rearranged values keep the input's range.
    ranges!.set(moved, ranges!.get(input) ?? { min: 0, max: 1 });
    const p = plan.padding / 2;
    return {
      plan: { ...plan, weight, kernel: k, stride: 1, padding: p },
      input: moved,
      rangeKey: moved,
      wDims: [op.outChannels, cin, k, k],
      attrs: { kernel_shape: [k, k], strides: [1, 1], pads: [p, p, p, p] },
    };
  };

  const emitConv = (
    plan: ConvPlan,
    input: string,
    out: string,
    outDims: number[],
    rangeKey = out,
    quantizeOutput = true,
  ) => {
    const { op } = plan;
    const wDims = [op.outChannels, op.inChannels / plan.groups, plan.kernel, plan.kernel];
    const attrs: Record<string, number | number[]> = {
      kernel_shape: [plan.kernel, plan.kernel],
      strides: [plan.stride, plan.stride],
      pads: [plan.padding, plan.padding, plan.padding, plan.padding],
      dilations: [1, 1],
      group: plan.groups,
    };
    const quantized = precision === 'int8' && !keep.has(op.layer);
    if (!quantized) {
      const w = g.initializer(`${op.name}.weight`, T, wDims, floatData(plan.weight));
      // Unfolded, a bias-free conv stays bias-free (as in the PyTorch graph).
      const b = plan.hasBias
        ? [g.initializer(`${op.name}.bias`, T, [op.outChannels], floatData(plan.bias))]
        : [];
      return g.node('Conv', [input, w, ...b], [{ name: out, type: T, dims: outDims }], attrs);
    }
    const sDims = perChannel ? [op.outChannels] : [];
    if (scheme === 'static') {
      const s2d = spaceToDepthStem(plan, input);
      if (s2d) {
        plan = s2d.plan;
        input = s2d.input;
        wDims.splice(0, 4, ...s2d.wDims);
        Object.assign(attrs, s2d.attrs);
      }
      const x = quantizeActivation(input, s2d?.rangeKey);
      const minScales = minWeightScalesForBias(plan.bias, x.scale);
      const qw = quantizeWeightsInt8(plan.weight, op.outChannels, perChannel, minScales);
      const w = g.initializer(`${op.name}.weight_quantized`, 'int8', wDims, qw.data);
      const ws = g.initializer(`${op.name}.weight_scale`, 'float32', sDims, qw.scales);
      const wz = g.initializer(
        `${op.name}.weight_zero_point`,
        'int8',
        sDims,
        new Int8Array(qw.scales.length),
      );
      const axis: Record<string, number> = perChannel ? { axis: 0 } : {};
      const wdq = g.node(
        'DequantizeLinear',
        [w, ws, wz],
        [{ name: `${op.name}.weight_dequantized`, type: 'float32', dims: wDims }],
        axis,
      );
      const qb = quantizeBiasInt32(plan.bias, x.scale, qw.scales);
      const b = g.initializer(`${op.name}.bias_quantized`, 'int32', [op.outChannels], qb.data);
      const bs = g.initializer(`${op.name}.bias_scale`, 'float32', sDims, qb.scales);
      const bz = g.initializer(
        `${op.name}.bias_zero_point`,
        'int32',
        sDims,
        new Int32Array(qb.scales.length),
      );
      const bdq = g.node(
        'DequantizeLinear',
        [b, bs, bz],
        [{ name: `${op.name}.bias_dequantized`, type: 'float32', dims: [op.outChannels] }],
        axis,
      );
      const conv = g.node('Conv', [x.dq, wdq, bdq], [{ name: out, type: 'float32', dims: outDims }], attrs);
      // The Q/DQ pair on the output lets onnxruntime fuse DQ -> Conv -> Q into one QLinearConv.
      return quantizeOutput ? quantizeActivation(out, rangeKey).dq : conv;
    }
    // Dynamic: activations quantized at run time (DynamicQuantizeLinear, uint8), ConvInteger with
    // int8 weights, then the int32 accumulator is rescaled by x_scale * w_scale[c] and the bias added.
    const qw = quantizeWeightsInt8(plan.weight, op.outChannels, perChannel);
    const x = quantizeDynamic(input);
    const w = g.initializer(`${op.name}.weight_quantized`, 'int8', wDims, qw.data);
    const wz = g.initializer(`${op.name}.weight_zero_point`, 'int8', [], Int8Array.of(0));
    const acc = g.node(
      'ConvInteger',
      [x.q, w, x.zp, wz],
      [{ name: `${out}_int32`, type: 'int32', dims: outDims }],
      {
        kernel_shape: attrs.kernel_shape,
        strides: attrs.strides,
        pads: attrs.pads,
        dilations: attrs.dilations,
        group: attrs.group,
      },
    );
    const accF = g.node('Cast', [acc], [{ name: `${out}_int32_float`, type: 'float32', dims: outDims }], {
      to: 1,
    });
    const cDims = perChannel ? [1, op.outChannels, 1, 1] : [];
    const ws = g.initializer(`${op.name}.weight_scale`, 'float32', cDims, qw.scales);
    const scale = g.node('Mul', [x.scale, ws], [{ name: `${out}_scale`, type: 'float32', dims: cDims }]);
    const scaled = g.node(
      'Mul',
      [accF, scale],
      [{ name: `${out}_rescaled`, type: 'float32', dims: outDims }],
    );
    const b = g.initializer(`${op.name}.bias`, 'float32', [1, op.outChannels, 1, 1], plan.bias);
    return g.node('Add', [scaled, b], [{ name: out, type: 'float32', dims: outDims }]);
  };

  const outNames = outputNames(ir);

  // int8 static: every tensor of a quantized row gets a Q/DQ pair, so onnxruntime can run each
  // DQ -> op -> Q group as one integer kernel (QLinearConv/Mul/Sigmoid/Add/Concat, uint8 MaxPool).
  const staticRegion = (op: IrOp) => precision === 'int8' && scheme === 'static' && !keep.has(op.layer);
  const finish = (op: IrOp, v: string): string => (staticRegion(op) ? quantizeActivation(v).dq : v);
  const finishLikeInput = (op: IrOp, v: string): string => {
    const range = rangeOf.get(onnxTensorName(ir, op.inputs[0]!));
    return staticRegion(op) && range ? quantizeFixed(v, range) : v;
  };

  const reluFused =
    precision === 'int8' && scheme === 'static' && fold ? reluFusedConvs(ir, keep) : new Set<string>();

  function emitOp(op: IrOp): void {
    const dims = shapeOf(op.name);
    switch (op.kind) {
      case 'conv': {
        const quantizeOutput = !reluFused.has(op.name);
        value.set(
          op.name,
          emitConv(plans.get(op.name)!, src(op.inputs[0]!), op.name, dims, op.name, quantizeOutput),
        );
        return;
      }
      case 'batchnorm': {
        if (fold) {
          value.set(op.name, src(op.inputs[0]!));
          return;
        }
        const p = (s: string) =>
          g.initializer(`${op.name}.${s}`, T, [op.channels], floatData(need(weights, `${op.name}.${s}`)));
        const ins = [src(op.inputs[0]!), p('weight'), p('bias'), p('running_mean'), p('running_var')];
        value.set(
          op.name,
          g.node('BatchNormalization', ins, [{ name: op.name, type: T, dims }], {
            epsilon: { float: op.eps },
          }),
        );
        return;
      }
      case 'activation':
        value.set(op.name, finish(op, emitActivation(op, src(op.inputs[0]!), dims)));
        return;
      case 'add':
        value.set(op.name, finish(op, g.node('Add', op.inputs.map(src), [{ name: op.name, type: T, dims }])));
        return;
      case 'concat': {
        const cat = g.node('Concat', op.inputs.map(src), [{ name: op.name, type: T, dims }], { axis: 1 });
        value.set(op.name, finish(op, cat));
        return;
      }
      case 'maxpool': {
        const pool = g.node('MaxPool', [src(op.inputs[0]!)], [{ name: op.name, type: T, dims }], {
          kernel_shape: [op.kernel, op.kernel],
          strides: [op.stride, op.stride],
          pads: [op.padding, op.padding, op.padding, op.padding],
        });
        value.set(op.name, finishLikeInput(op, pool));
        return;
      }
      case 'resize': {
        const scales = g.initializer(
          `${op.name}.scales`,
          'float32',
          [4],
          Float32Array.of(1, 1, op.scale, op.scale),
        );
        // asymmetric + floor is PyTorch's (and tfjs') nearest upsampling.
        const up = g.node('Resize', [src(op.inputs[0]!), '', scales], [{ name: op.name, type: T, dims }], {
          mode: 'nearest',
          coordinate_transformation_mode: 'asymmetric',
          nearest_mode: 'floor',
        });
        value.set(op.name, finishLikeInput(op, up));
        return;
      }
      case 'detect': {
        const out = outNames[op.level]!;
        const plan = plans.get(op.name)!;
        const quantized = precision === 'int8' && !keep.has(op.layer);
        if (T === 'float32' && !(quantized && scheme === 'static')) {
          value.set(op.name, emitConv(plan, src(op.inputs[0]!), out, dims));
        } else {
          const raw = emitConv(plan, src(op.inputs[0]!), op.name, dims, out);
          value.set(op.name, g.node('Cast', [raw], [{ name: out, type: 'float32', dims }], { to: 1 }));
        }
        return;
      }
    }
  }

  function emitActivation(op: ActivationOp, x: string, dims: number[]): string {
    const out = [{ name: op.name, type: T, dims }];
    switch (op.fn) {
      case 'silu': {
        const s = g.node('Sigmoid', [x], [{ name: `${op.name}.sigmoid`, type: T, dims }]);
        // Sigmoid's range is known to be [0, 1]: with a Q/DQ pair after it onnxruntime runs
        // QLinearSigmoid (and QLinearMul when the product is quantized too) instead of float ops.
        const sq = dequantized.has(x) ? quantizeFixed(s, { min: 0, max: 1 }) : s;
        return g.node('Mul', [x, sq], out);
      }
      case 'relu':
        return g.node('Relu', [x], out);
      case 'hardswish':
        return dequantized.has(x) ? quantizedHardSwish(op, x, dims) : g.node('HardSwish', [x], out);
      case 'leakyrelu':
        return g.node('LeakyRelu', [x], out, { alpha: { float: 0.1 } });
    }
  }

  /**
   * hardswish(x) = x * relu6(x + 3) / 6 with integer kernels only: onnxruntime has no quantized
   * HardSigmoid, so DQ -> HardSigmoid -> Mul -> Q would stay a float island. Quantizing x + 3 on
   * [0, 6] saturates exactly like relu6 (no Clip node), and dequantizing that uint8 with a sixth of
   * its scale divides by 6 for free, so the graph fuses into QLinearAdd -> QLinearMul.
   */
  function quantizedHardSwish(op: ActivationOp, x: string, dims: number[]): string {
    const three = g.initializer(`${op.name}.three_quantized`, 'uint8', [], Uint8Array.of(255));
    const threeScale = g.scalarFloat(`${op.name}.three_scale`, 3 / 255);
    const zero = g.initializer(`${op.name}.zero_point`, 'uint8', [], Uint8Array.of(0));
    const threeDq = g.node(
      'DequantizeLinear',
      [three, threeScale, zero],
      [{ name: `${op.name}.three`, type: 'float32', dims: [] }],
    );
    const shifted = g.node('Add', [x, threeDq], [{ name: `${op.name}.shifted`, type: 'float32', dims }]);
    const relu6Scale = g.scalarFloat(`${op.name}.relu6_scale`, 6 / 255);
    const gateScale = g.scalarFloat(`${op.name}.gate_scale`, 1 / 255);
    const relu6 = g.node(
      'QuantizeLinear',
      [shifted, relu6Scale, zero],
      [{ name: `${op.name}.relu6_quantized`, type: 'uint8', dims }],
    );
    const gate = g.node(
      'DequantizeLinear',
      [relu6, gateScale, zero],
      [{ name: `${op.name}.hardsigmoid`, type: 'float32', dims }],
    );
    return g.node('Mul', [x, gate], [{ name: op.name, type: 'float32', dims }]);
  }

  for (const op of ir.ops) emitOp(op);
  for (const name of outNames) g.output(name);
  for (const extra of options.extraOutputs ?? []) g.output(extra);
  const qMeta: Record<string, string> =
    precision === 'int8'
      ? {
          scheme,
          granularity: perChannel ? 'per-channel' : 'per-tensor',
          keepFloatLayers: [...keep].join(','),
        }
      : {};
  return g.encode(PRODUCER, {
    genome: JSON.stringify(ir.genome),
    precision,
    strides: ir.ops
      .filter((o): o is DetectOp => o.kind === 'detect')
      .map((o) => o.stride)
      .join(','),
    ...qMeta,
  });
}
