import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { ACTIVATIONS, buildIR, initWeights, parseGenome } from '@detsearch/genome';
import { syntheticCalibrationImages } from './calibrate';
import { outputError } from './compare';
import { exportOnnx } from './export-onnx';
import { onnx } from './proto';
import { OnnxModel } from './runtime';

// What onnxruntime's CPU provider actually runs, read back from the optimized model it writes: the
// int8 static export must fuse into integer kernels end to end (QLinearConv, QLinearSigmoid,
// QLinearMul, QLinearAdd, QLinearConcat, QLinearLeakyRelu, uint8 MaxPool and Resize), with float
// only in the rows the export keeps float (the first conv and Detect by default).

const SIZE = 64;
const dir = mkdtempSync(join(tmpdir(), 'detsearch-int8-graph-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Float kernels: none may run between the first QuantizeLinear and the DequantizeLinears before Detect. */
const FLOAT_COMPUTE = new Set([
  'Conv',
  'FusedConv',
  'Mul',
  'Add',
  'Sigmoid',
  'HardSigmoid',
  'HardSwish',
  'Relu',
  'LeakyRelu',
  'QuickGelu',
  'Concat',
  'MaxPool',
]);

async function optimizedGraph(bytes: Uint8Array, name: string): Promise<onnx.IGraphProto> {
  const path = join(dir, `${name}.opt.onnx`);
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    optimizedModelFilePath: path,
  });
  await session.release();
  return onnx.ModelProto.decode(readFileSync(path)).graph!;
}

/**
 * Float compute nodes inside the integer region: nodes reachable from a QuantizeLinear without
 * passing a DequantizeLinear. A Resize counts as float when its input comes from a float node.
 */
function floatIslands(graph: onnx.IGraphProto): string[] {
  const nodes = graph.node!;
  const consumers = new Map<string, onnx.INodeProto[]>();
  for (const n of nodes) for (const i of n.input!) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const inInt = new Set<onnx.INodeProto>();
  const stack = nodes.filter((n) => n.opType === 'QuantizeLinear');
  while (stack.length) {
    const n = stack.pop()!;
    if (inInt.has(n)) continue;
    inInt.add(n);
    if (n.opType === 'DequantizeLinear') continue;
    for (const o of n.output!) for (const c of consumers.get(o) ?? []) stack.push(c);
  }
  return [...inInt].filter((n) => FLOAT_COMPUTE.has(n.opType!)).map((n) => `${n.opType} ${n.name}`);
}

const count = (g: onnx.IGraphProto, op: string) => g.node!.filter((n) => n.opType === op).length;

/** Scalar initializer values by name (scales and zero points). */
function scalars(graph: onnx.IGraphProto): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of graph.initializer!) {
    const dims = t.dims ?? [];
    if (dims.length > 1 || (dims.length === 1 && Number(dims[0]) !== 1)) continue;
    if (t.floatData?.length) out.set(t.name!, t.floatData[0]!);
    else if (t.rawData?.length) {
      const raw = Buffer.from(t.rawData);
      if (t.dataType === onnx.TensorProto.DataType.FLOAT) out.set(t.name!, raw.readFloatLE(0));
      else if (t.dataType === onnx.TensorProto.DataType.UINT8) out.set(t.name!, raw.readUInt8(0));
    } else if (t.int32Data?.length) out.set(t.name!, t.int32Data[0]!);
  }
  return out;
}

/** QLinearConcat inputs whose scale or zero point differs from the output's (requantized, not copied). */
function requantizedConcatInputs(graph: onnx.IGraphProto): string[] {
  const values = scalars(graph);
  const v = (name: string) => values.get(name) ?? NaN;
  const out: string[] = [];
  for (const n of graph.node!.filter((x) => x.opType === 'QLinearConcat')) {
    const [yScale, yZero, ...rest] = n.input!;
    for (let i = 0; i < rest.length; i += 3)
      if (v(rest[i + 1]!) !== v(yScale!) || v(rest[i + 2]!) !== v(yZero!))
        out.push(`${n.name} <- ${rest[i]}`);
  }
  return out;
}

function tinyGenome(activation: string) {
  return parseGenome({
    depthMultiple: 0.33,
    widthMultiple: 0.25,
    imageSize: SIZE,
    numClasses: 3,
    separable: [1, 18],
    activation,
    quantization: { precision: 'int8' },
  });
}

async function fp32Error(
  ir: ReturnType<typeof buildIR>,
  weights: ReturnType<typeof initWeights>,
  bytes: Uint8Array,
  image: Float32Array,
) {
  const fp32 = await exportOnnx(ir, weights, { precision: 'fp32' });
  const run = async (b: Uint8Array) => {
    const m = await OnnxModel.load(b, { threads: 1 });
    try {
      return await m.run(image);
    } finally {
      await m.dispose();
    }
  };
  const [ref, q] = await Promise.all([run(fp32), run(bytes)]);
  return outputError(ref, q, 3 * (3 + 5));
}

describe('int8 static export as onnxruntime optimizes it', () => {
  for (const activation of ACTIVATIONS) {
    it(`${activation}: integer kernels from the first quantized conv to Detect, no float island`, async () => {
      const genome = tinyGenome(activation);
      const ir = buildIR(genome);
      const weights = initWeights(ir, { seed: 3, randomizeBatchNorm: true });
      const calibrationImages = syntheticCalibrationImages(SIZE, 3, 'graph');
      const bytes = await exportOnnx(ir, weights, {
        precision: 'int8',
        quantization: genome.quantization,
        calibrationImages,
      });
      const graph = await optimizedGraph(bytes, activation);
      expect(floatIslands(graph)).toEqual([]);
      // One quantize after the float first conv, one dequantize per Detect level.
      expect(count(graph, 'QuantizeLinear')).toBe(1);
      expect(count(graph, 'DequantizeLinear')).toBe(3);
      expect(count(graph, 'QLinearConv')).toBeGreaterThan(20);
      expect(count(graph, 'QLinearConcat')).toBeGreaterThan(5);
      // Concat inputs share the output's scale and zero point: the kernel copies bytes.
      expect(requantizedConcatInputs(graph)).toEqual([]);

      // And it still computes the fp32 model's function, within int8 rounding.
      const err = await fp32Error(ir, weights, bytes, calibrationImages[0]!);
      expect(err.maxRelative).toBeLessThan(0.05);
      expect(err.centredRelative).toBeLessThan(0.5);
    });
  }
});

describe('int8 static export with the stem quantized too', () => {
  it('runs the stem as SpaceToDepth + an integer 3x3 conv, fed by the only QuantizeLinear', async () => {
    const genome = tinyGenome('relu');
    const ir = buildIR(genome);
    const weights = initWeights(ir, { seed: 3, randomizeBatchNorm: true });
    const calibrationImages = syntheticCalibrationImages(SIZE, 3, 'graph');
    const bytes = await exportOnnx(ir, weights, {
      precision: 'int8',
      quantization: genome.quantization,
      calibrationImages,
      keepFloatLayers: [24],
    });
    const graph = await optimizedGraph(bytes, 'stem');
    expect(floatIslands(graph)).toEqual([]);
    expect(graph.node!.filter((n) => /^(Fused)?Conv$/.test(n.opType!)).map((n) => n.name)).toHaveLength(3);
    const first = graph.node!.findIndex((n) => n.opType === 'QLinearConv');
    expect(graph.node!.slice(0, first).map((n) => n.opType)).toEqual([
      'SpaceToDepth',
      'QuantizeLinear',
      'Transpose',
    ]);
    expect(count(graph, 'QuantizeLinear')).toBe(1);

    const err = await fp32Error(ir, weights, bytes, calibrationImages[0]!);
    expect(err.maxRelative).toBeLessThan(0.05);
    expect(err.centredRelative).toBeLessThan(0.5);
  });
});
