import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ACTIVATIONS,
  buildIR,
  initWeights,
  parseGenome,
  type ModelIR,
  type WeightMap,
} from '@detsearch/genome';
import { syntheticCalibrationImages } from './calibrate';
import { checkModel } from './check';
import { outputError } from './compare';
import { buildOnnxModel, calibrationTensors, type ExportOptions } from './export';
import { exportOnnx } from './export-onnx';
import { onnx } from './proto';
import { OnnxModel } from './runtime';

const SIZE = 64;
const NC = 3;
const CHANNELS = 3 * (NC + 5);

function tiny(extra: object = {}): { ir: ModelIR; weights: WeightMap } {
  const ir = buildIR(
    parseGenome({ depthMultiple: 0.33, widthMultiple: 0.25, imageSize: SIZE, numClasses: NC, ...extra }),
  );
  const weights = initWeights(ir, { seed: 7, randomizeBatchNorm: true });
  // Default init shrinks the signal layer by layer until outputs are the Detect biases; a gain keeps
  // the spatial signal alive so precision errors are measured on something.
  for (const [name, w] of weights)
    if (name.endsWith('.conv.weight')) for (let i = 0; i < w.length; i++) w[i]! *= 2;
  return { ir, weights };
}

const decode = (bytes: Uint8Array) => onnx.ModelProto.decode(bytes);
const opTypes = (bytes: Uint8Array) => new Set(decode(bytes).graph!.node!.map((n) => n.opType));
const image = syntheticCalibrationImages(SIZE, 1, 'probe')[0]!;
const calibration = syntheticCalibrationImages(SIZE, 3, 'cal');

async function run(bytes: Uint8Array, optimization: 'disabled' | 'all' = 'all'): Promise<Float32Array[]> {
  const model = await OnnxModel.load(bytes, { threads: 1, optimization });
  try {
    return await model.run(image);
  } finally {
    await model.dispose();
  }
}

describe('exportOnnx fp32', () => {
  const { ir, weights } = tiny({ separable: [1, 2, 18] });
  let bytes: Uint8Array;
  beforeAll(() => {
    bytes = buildOnnxModel(ir, weights, { precision: 'fp32' });
  });

  it('declares opset 17, the NCHW input and the three raw Detect outputs', () => {
    const m = decode(bytes);
    expect(m.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 17]]);
    const g = m.graph!;
    const dims = (v: onnx.IValueInfoProto) => v.type!.tensorType!.shape!.dim!.map((d) => Number(d.dimValue));
    expect(g.input!.map((i) => [i.name, dims(i)])).toEqual([['images', [1, 3, SIZE, SIZE]]]);
    expect(g.output!.map((o) => [o.name, o.type!.tensorType!.elemType, dims(o)])).toEqual([
      ['output0', 1, [1, CHANNELS, 8, 8]],
      ['output1', 1, [1, CHANNELS, 4, 4]],
      ['output2', 1, [1, CHANNELS, 2, 2]],
    ]);
  });

  it('is structurally valid with value_info for every intermediate tensor', () => {
    const report = checkModel(bytes);
    expect(report.errors).toEqual([]);
    // Every node output was re-inferred and matched its declared shape.
    const outputs = decode(bytes).graph!.node!.reduce((n, node) => n + node.output!.length, 0);
    expect(report.shapesVerified).toBe(outputs);
  });

  it('folds BatchNorm: the same outputs as the graph with BatchNormalization nodes', async () => {
    const unfolded = buildOnnxModel(ir, weights, { precision: 'fp32', foldBatchNorm: false });
    expect(opTypes(unfolded).has('BatchNormalization')).toBe(true);
    expect(opTypes(bytes).has('BatchNormalization')).toBe(false);
    expect(checkModel(unfolded).errors).toEqual([]);
    // Unoptimized, so onnxruntime does not fold the BatchNorm itself.
    const err = outputError(await run(unfolded, 'disabled'), await run(bytes, 'disabled'), CHANNELS);
    expect(err.maxRelative).toBeLessThan(1e-5);
    expect(err.centredRelative).toBeLessThan(1e-4);
  });

  it('writes each activation as its ONNX ops', () => {
    const expected = {
      silu: ['Sigmoid', 'Mul'],
      relu: ['Relu'],
      hardswish: ['HardSwish'],
      leakyrelu: ['LeakyRelu'],
    };
    for (const activation of ACTIVATIONS) {
      const t = tiny({ activation });
      const b = buildOnnxModel(t.ir, t.weights, { precision: 'fp32' });
      expect(checkModel(b).errors).toEqual([]);
      const types = opTypes(b);
      for (const op of expected[activation]) expect(types.has(op), `${activation}: ${op}`).toBe(true);
      if (activation === 'leakyrelu') {
        const node = decode(b).graph!.node!.find((n) => n.opType === 'LeakyRelu')!;
        expect(node.attribute![0]!.f).toBeCloseTo(0.1, 6);
      }
    }
  });

  it('rejects missing weights and other opsets', () => {
    const w = new Map(weights);
    w.delete('model.2.cv1.conv.weight');
    expect(() => buildOnnxModel(ir, w, { precision: 'fp32' })).toThrow(/model.2.cv1.conv.weight missing/);
    expect(() => buildOnnxModel(ir, weights, { precision: 'fp32', opset: 13 as 17 })).toThrow(/opset 17/);
  });
});

describe('exportOnnx lower precisions', () => {
  const { ir, weights } = tiny({ separable: [3, 4, 21] });
  let reference: Float32Array[];
  beforeAll(async () => {
    reference = await run(buildOnnxModel(ir, weights, { precision: 'fp32' }));
  });

  const initializerTypes = (bytes: Uint8Array, suffix: string) =>
    decode(bytes)
      .graph!.initializer!.filter((t) => t.name!.endsWith(suffix))
      .map((t) => t.dataType);

  it('fp16: float16 weights, float32 input/output through Casts, outputs close to fp32', async () => {
    const bytes = await exportOnnx(ir, weights, { precision: 'fp16' });
    expect(checkModel(bytes).errors).toEqual([]);
    expect(new Set(initializerTypes(bytes, '.weight'))).toEqual(new Set([onnx.TensorProto.DataType.FLOAT16]));
    expect(decode(bytes).graph!.node!.filter((n) => n.opType === 'Cast')).toHaveLength(4);
    const err = outputError(reference, await run(bytes), CHANNELS);
    // Half precision near the Detect biases (|x| ~ 7) resolves ~0.004: small against max|a|, a few
    // percent of this untrained model's weak spatial signal.
    expect(err.maxRelative).toBeLessThan(1e-3);
    expect(err.centredRelative).toBeLessThan(0.1);
  });

  for (const granularity of ['per-tensor', 'per-channel'] as const) {
    it(`int8 static ${granularity}: QDQ with int8 weights, int32 bias, uint8 activations; first and Detect rows float`, async () => {
      const options: ExportOptions = {
        precision: 'int8',
        quantization: { precision: 'int8', scheme: 'static', granularity, calibration: 'minmax' },
        calibrationImages: calibration,
      };
      const bytes = await exportOnnx(ir, weights, options);
      expect(checkModel(bytes).errors).toEqual([]);
      const g = decode(bytes).graph!;
      const init = (name: string) => g.initializer!.find((t) => t.name === name)!;
      expect(init('model.1.conv.weight_quantized').dataType).toBe(onnx.TensorProto.DataType.INT8);
      expect(init('model.1.conv.bias_quantized').dataType).toBe(onnx.TensorProto.DataType.INT32);
      expect(init('model.1.conv.weight_scale').dims!.map(Number)).toEqual(
        granularity === 'per-channel' ? [32] : [],
      );
      expect(init('model.0.conv.weight').dataType).toBe(onnx.TensorProto.DataType.FLOAT);
      expect(init('model.24.m.0.weight').dataType).toBe(onnx.TensorProto.DataType.FLOAT);
      const q = g.node!.find((n) => n.opType === 'QuantizeLinear')!;
      expect(init(q.input![2]!).dataType).toBe(onnx.TensorProto.DataType.UINT8);
      const wdq = g.node!.find((n) => n.output![0] === 'model.1.conv.weight_dequantized')!;
      expect(wdq.attribute!.map((a) => [a.name, Number(a.i)])).toEqual(
        granularity === 'per-channel' ? [['axis', 0]] : [],
      );
      const err = outputError(reference, await run(bytes), CHANNELS);
      expect(err.centredRelative).toBeLessThan(0.5);
      expect(err.maxRelative).toBeLessThan(0.05);
    });
  }

  it('int8 static ReLU: Conv -> Relu -> Q, so onnxruntime runs each conv as one QLinearConv', async () => {
    const relu = tiny({ activation: 'relu' });
    const opts: ExportOptions = {
      precision: 'int8',
      quantization: {
        precision: 'int8',
        scheme: 'static',
        granularity: 'per-channel',
        calibration: 'minmax',
      },
      calibrationImages: calibration,
    };
    const bytes = await exportOnnx(relu.ir, relu.weights, opts);
    const nodes = decode(bytes).graph!.node!;
    const producer = new Map(nodes.flatMap((n) => n.output!.map((o) => [o, n.opType] as const)));
    const reluInputs = nodes.filter((n) => n.opType === 'Relu').map((n) => producer.get(n.input![0]!));
    expect(reluInputs.length).toBeGreaterThan(0);
    expect(new Set(reluInputs)).toEqual(new Set(['Conv']));
    // What onnxruntime makes of it: no DequantizeLinear/QuantizeLinear round trip left between convs.
    const dir = mkdtempSync(join(tmpdir(), 'relu-int8-'));
    try {
      const optimized = join(dir, 'optimized.onnx');
      await ort.InferenceSession.create(bytes, { optimizedModelFilePath: optimized, intraOpNumThreads: 1 });
      const count = (op: string) =>
        decode(readFileSync(optimized)).graph!.node!.filter((n) => n.opType === op).length;
      expect(count('Relu')).toBe(0);
      expect(count('QLinearConv')).toBeGreaterThan(10);
      expect(count('DequantizeLinear')).toBeLessThan(5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const fp32 = await run(buildOnnxModel(relu.ir, relu.weights, { precision: 'fp32' }));
    expect(outputError(fp32, await run(bytes), CHANNELS).maxRelative).toBeLessThan(0.05);
  });

  it('int8 static: percentile calibration and custom float rows', async () => {
    const bytes = await exportOnnx(ir, weights, {
      precision: 'int8',
      quantization: {
        precision: 'int8',
        scheme: 'static',
        granularity: 'per-channel',
        calibration: 'percentile',
      },
      calibrationImages: calibration,
      keepFloatLayers: [0, 1, 24],
    });
    expect(checkModel(bytes).errors).toEqual([]);
    const names = decode(bytes).graph!.initializer!.map((t) => t.name);
    expect(names).toContain('model.1.conv.weight');
    expect(names).toContain('model.2.cv1.conv.weight_quantized');
    const err = outputError(reference, await run(bytes), CHANNELS);
    expect(err.maxRelative).toBeLessThan(0.05);
  });

  it('int8 static with every row quantized, on default init (tiny activations), keeps the Detect bias', async () => {
    // Default init fades activations to ~1e-9 by the head: without widening the weight scale the
    // Detect biases (~ -7) would overflow int32 at scale x_scale * w_scale.
    const ir0 = buildIR(
      parseGenome({ depthMultiple: 0.33, widthMultiple: 0.25, imageSize: SIZE, numClasses: NC }),
    );
    const w0 = initWeights(ir0, { seed: 1 });
    const ref = await run(buildOnnxModel(ir0, w0, { precision: 'fp32' }));
    const bytes = await exportOnnx(ir0, w0, {
      precision: 'int8',
      quantization: { precision: 'int8', scheme: 'static', granularity: 'per-channel' },
      calibrationImages: calibration,
      keepFloatLayers: [],
    });
    expect(checkModel(bytes).errors).toEqual([]);
    expect(decode(bytes).graph!.initializer!.map((t) => t.name)).toContain('model.24.m.0.weight_quantized');
    expect(outputError(ref, await run(bytes), CHANNELS).maxRelative).toBeLessThan(0.05);
  });

  it('int8 static needs calibration images or ranges', async () => {
    await expect(exportOnnx(ir, weights, { precision: 'int8' })).rejects.toThrow(/calibrationImages/);
    expect(() => buildOnnxModel(ir, weights, { precision: 'int8' })).toThrow(/activation ranges/);
    expect(calibrationTensors(ir)).toContain('model.1.conv');
    expect(calibrationTensors(ir)).not.toContain('model.0.conv');
  });

  for (const granularity of ['per-tensor', 'per-channel'] as const) {
    it(`int8 dynamic ${granularity}: DynamicQuantizeLinear + ConvInteger with int8 weights`, async () => {
      const bytes = await exportOnnx(ir, weights, {
        precision: 'int8',
        quantization: { precision: 'int8', scheme: 'dynamic', granularity },
      });
      expect(checkModel(bytes).errors).toEqual([]);
      const types = opTypes(bytes);
      expect(types.has('DynamicQuantizeLinear') && types.has('ConvInteger')).toBe(true);
      expect(new Set(initializerTypes(bytes, '.weight_quantized'))).toEqual(
        new Set([onnx.TensorProto.DataType.INT8]),
      );
      const err = outputError(reference, await run(bytes), CHANNELS);
      expect(err.centredRelative).toBeLessThan(0.2);
    });
  }
});
