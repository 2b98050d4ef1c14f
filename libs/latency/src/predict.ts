import { DomainError } from '@detsearch/common';
import {
  buildIR,
  fusedOpBytes,
  fusedOps,
  parseGenome,
  QUANTIZABLE_ROWS,
  type FusedOpRecord,
  type ModelIR,
  type Precision,
} from '@detsearch/genome';
import {
  OP_CLASSES,
  assertPrecisionSupported,
  effectiveParameters,
  type HardwareProfile,
  type OpClass,
  type OpEfficiency,
  type OpOverhead,
} from './profile';

export type Bound = 'compute' | 'memory' | 'mixed';

export function opClassOf(r: FusedOpRecord): OpClass {
  switch (r.kind) {
    case 'conv':
      return r.depthwise ? 'depthwise' : r.kernel === 1 ? 'pointwise' : 'conv';
    case 'detect':
      return 'pointwise';
    case 'add':
      return 'elementwise';
    case 'maxpool':
    case 'resize':
    case 'concat':
      return 'pooling';
  }
}

/**
 * Table rows an int8 export keeps in float: the stem conv (raw pixels) and Detect (raw outputs).
 * Mirrors model-onnx's DEFAULT_KEEP_FLOAT_LAYERS; callers exporting otherwise pass their own.
 */
export const INT8_FLOAT_LAYERS: readonly number[] = [0, 24];

/**
 * Rows an int8 genome runs in fp32: the stem and Detect, the genome's mixed-precision rows, and for
 * `autoFloatLayers = k` (chosen from trained weights at export) the k quantizable rows that would
 * cost the most in fp32 on this profile, so a prediction before training bounds the float cost from
 * above. A trial predicts with the rows its export actually kept.
 */
export function int8FloatLayers(ir: ModelIR, profile: HardwareProfile): number[] {
  const q = ir.genome.quantization;
  const rows = new Set([...INT8_FLOAT_LAYERS, ...(q.floatLayers ?? [])]);
  if (q.autoFloatLayers) {
    const extra = new Map<number, number>();
    const ms = (floatLayers: number[]) =>
      predictLatency(ir, profile, { precision: 'int8', floatLayers }).predictedMs;
    for (const layer of QUANTIZABLE_ROWS) if (!rows.has(layer)) extra.set(layer, ms([...rows, layer]));
    const costliest = [...extra].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    for (const [l] of costliest.slice(0, q.autoFloatLayers)) rows.add(l);
  }
  return [...rows].sort((a, b) => a - b);
}

/** Rounds n up to a whole number of tiles. */
function padToTile(n: number, tile: number): number {
  return Math.ceil(n / tile) * tile;
}

/**
 * FLOPs a dense conv costs on a runtime whose implicit-GEMM kernels cover output channels (the GEMM's
 * N) in whole tiles: N rounded up to the tile. The reduction (input channels x kernel area) runs in
 * chunks of 8-16 and wastes little, so it is not padded; depthwise convs run other kernels.
 */
export function tiledConvFlops(r: FusedOpRecord, tile: number | undefined): number {
  if (!tile || tile <= 1 || (r.kind !== 'conv' && r.kind !== 'detect') || r.depthwise || r.macs === 0)
    return r.flops;
  return r.flops * (padToTile(r.outChannels, tile) / r.outChannels);
}

/** One operator's unscaled roofline: the time at 100% efficiency, before overhead. */
export interface OpRoofline {
  name: string;
  kind: FusedOpRecord['kind'] | 'activation';
  opClass: OpClass;
  layer: number;
  /** FLOPs as the runtime executes them: a dense conv's output channels padded to `channelTile`. */
  flops: number;
  bytes: number;
  computeMs: number;
  memoryMs: number;
  bound: 'compute' | 'memory';
}

/**
 * Per-operator rooflines of a model on a profile at a precision: max(FLOPs / peak, bytes / bandwidth).
 * Activations the runtime does not fuse into the conv become extra elementwise passes.
 */
export function opRooflines(
  ir: ModelIR,
  profile: HardwareProfile,
  precision: Precision,
  floatLayers?: readonly number[],
): OpRoofline[] {
  assertPrecisionSupported(profile, precision);
  const dram = profile.memoryBandwidthGBs * 1e9;
  const cache = profile.cache;
  // int8 exports keep some rows in float; a device without fp32 runs them quantized too.
  const keepFloat = new Set(
    precision === 'int8' && profile.precisions.includes('fp32')
      ? (floatLayers ?? int8FloatLayers(ir, profile))
      : [],
  );
  const roofline = (
    p: Precision,
    name: string,
    kind: OpRoofline['kind'],
    opClass: OpClass,
    layer: number,
    flops: number,
    bytes: number,
  ): OpRoofline => {
    const computeMs = (flops / (profile.peakGops[p]! * 1e9)) * 1e3;
    const bandwidth = cache && bytes <= cache.bytes ? cache.bandwidthGBs * 1e9 : dram;
    const memoryMs = (bytes / bandwidth) * 1e3;
    return {
      name,
      kind,
      opClass,
      layer,
      flops,
      bytes,
      computeMs,
      memoryMs,
      bound: computeMs >= memoryMs ? 'compute' : 'memory',
    };
  };
  const out: OpRoofline[] = [];
  // A mixed-precision row sits between int8 rows: a DequantizeLinear before it and a QuantizeLinear
  // after it, each an elementwise pass over an fp32 and a uint8 tensor (the stem's and Detect's
  // boundaries are part of every int8 model the profiles were calibrated on).
  const boundaryRows = new Set([...keepFloat].filter((l) => !INT8_FLOAT_LAYERS.includes(l)));
  const lastOfRow = new Map<number, FusedOpRecord>();
  for (const r of fusedOps(ir)) if (boundaryRows.has(r.layer)) lastOfRow.set(r.layer, r);
  for (const [layer, r] of lastOfRow) {
    const elements = r.inputElements + r.outputElements;
    out.push(
      roofline('fp32', `model.${layer}/qdq`, 'activation', 'elementwise', layer, elements, 5 * elements),
    );
  }
  for (const r of fusedOps(ir)) {
    // Fusions the runtime does beyond conv+BN+act: no kernel, no launch, no extra pass.
    if (r.kind === 'concat' && profile.fusion?.concat === 'in-place') continue;
    if (r.kind === 'add' && profile.fusion?.residualAdd === 'fused') continue;
    const p = keepFloat.has(r.layer) ? 'fp32' : precision;
    const { read, written } = fusedOpBytes(r, p);
    out.push(
      roofline(
        p,
        r.name,
        r.kind,
        opClassOf(r),
        r.layer,
        tiledConvFlops(r, profile.channelTile),
        read + written,
      ),
    );
    const cost = r.activation ? effectiveParameters(profile, p).activationPasses[r.activation] : undefined;
    if (cost === undefined) continue;
    // A plain count: each pass reads and writes the conv output at the op's precision.
    const { ops, bytesPerElement } =
      typeof cost === 'number' ? { ops: cost, bytesPerElement: (2 * written) / r.outputElements } : cost;
    for (let i = 0; i < ops; i++) {
      const bytes = (r.outputElements * bytesPerElement) / ops;
      out.push(
        roofline(p, `${r.name}/act${i}`, 'activation', 'elementwise', r.layer, r.outputElements, bytes),
      );
    }
  }
  return out;
}

/**
 * What the prediction is linear in: per class the summed rooflines, and the operator count.
 * predicted = sum_c rooflineMs[c] / efficiency[c] + ops * perOp + perInference.
 * Calibration fits efficiency and overhead against these without rebuilding the model.
 */
export interface LatencyFeatures {
  precision: Precision;
  rooflineMs: Record<OpClass, number>;
  ops: number;
}

export function latencyFeatures(rooflines: OpRoofline[], precision: Precision): LatencyFeatures {
  const rooflineMs = Object.fromEntries(OP_CLASSES.map((c) => [c, 0])) as Record<OpClass, number>;
  for (const r of rooflines) rooflineMs[r.opClass] += Math.max(r.computeMs, r.memoryMs);
  return { precision, rooflineMs, ops: rooflines.length };
}

export function predictFromFeatures(
  f: LatencyFeatures,
  efficiency: OpEfficiency,
  overheadUs: OpOverhead,
): number {
  let ms = (f.ops * overheadUs.perOpUs + overheadUs.perInferenceUs) / 1e3;
  for (const c of OP_CLASSES) ms += f.rooflineMs[c] / efficiency[c];
  return ms;
}

export interface OpPrediction extends OpRoofline {
  /** Roofline time scaled by the class efficiency, plus the per-op overhead. */
  ms: number;
}

export interface LatencyPrediction {
  profile: string;
  precision: Precision;
  predictedMs: number;
  /** Which roof limits most of the roofline time: compute or memory (>= 70%), else mixed. */
  bound: Bound;
  computeBoundMs: number;
  memoryBoundMs: number;
  overheadMs: number;
  ops: number;
  perOp?: OpPrediction[];
}

export interface PredictOptions {
  /** Overrides the genome's precision (for a model IR built from a genome, that genome's). */
  precision?: Precision;
  perOp?: boolean;
  /** int8 only: rows run in fp32 (default INT8_FLOAT_LAYERS). */
  floatLayers?: readonly number[];
}

function isModelIR(x: unknown): x is ModelIR {
  return typeof x === 'object' && x !== null && 'ops' in x && 'tensors' in x && 'genome' in x;
}

/**
 * Predicted batch-1 latency of a model on a hardware profile: a per-operator roofline over the
 * fused operators (conv+BN+act as runtimes run them), each scaled by its class efficiency, plus
 * per-operator and per-inference overhead. Accepts a model IR, a genome or raw genome JSON.
 */
export function predictLatency(
  model: ModelIR | unknown,
  profile: HardwareProfile,
  options: PredictOptions = {},
): LatencyPrediction {
  const ir = isModelIR(model) ? model : buildIR(parseGenome(model));
  const precision = options.precision ?? ir.genome.quantization.precision;
  const rooflines = opRooflines(ir, profile, precision, options.floatLayers);
  const { efficiency, overheadUs } = effectiveParameters(profile, precision);
  let computeBoundMs = 0;
  let memoryBoundMs = 0;
  const perOp: OpPrediction[] = [];
  for (const r of rooflines) {
    const scaled = Math.max(r.computeMs, r.memoryMs) / efficiency[r.opClass];
    if (r.bound === 'compute') computeBoundMs += scaled;
    else memoryBoundMs += scaled;
    if (options.perOp) perOp.push({ ...r, ms: scaled + overheadUs.perOpUs / 1e3 });
  }
  const overheadMs = (rooflines.length * overheadUs.perOpUs + overheadUs.perInferenceUs) / 1e3;
  const predictedMs = computeBoundMs + memoryBoundMs + overheadMs;
  if (!Number.isFinite(predictedMs))
    throw new DomainError(
      'LATENCY.INVALID_PREDICTION',
      `profile '${profile.name}': prediction is not finite`,
    );
  const roof = computeBoundMs + memoryBoundMs;
  const bound: Bound =
    computeBoundMs >= 0.7 * roof ? 'compute' : memoryBoundMs >= 0.7 * roof ? 'memory' : 'mixed';
  return {
    profile: profile.name,
    precision,
    predictedMs,
    bound,
    computeBoundMs,
    memoryBoundMs,
    overheadMs,
    ops: rooflines.length,
    ...(options.perOp ? { perOp } : {}),
  };
}
