import { describe, expect, it } from 'vitest';
import { buildIR, initWeights, parseGenome, QUANTIZABLE_ROWS } from '@detsearch/genome';
import { syntheticCalibrationImages } from './calibrate';
import { outputError } from './compare';
import { exportOnnxWithReport } from './export-onnx';
import { onnx } from './proto';
import { OnnxModel } from './runtime';

const SIZE = 64;
const NC = 2;

function model(quantization: object) {
  const genome = parseGenome({
    depthMultiple: 0.33,
    widthMultiple: 0.25,
    imageSize: SIZE,
    numClasses: NC,
    quantization: { precision: 'int8', ...quantization },
  });
  const ir = buildIR(genome);
  const weights = initWeights(ir, { seed: 11, randomizeBatchNorm: true });
  for (const [name, w] of weights)
    if (name.endsWith('.conv.weight')) for (let i = 0; i < w.length; i++) w[i]! *= 2;
  return { genome, ir, weights };
}

const images = syntheticCalibrationImages(SIZE, 3, 'mixed');
const initializerTypes = (bytes: Uint8Array) =>
  new Map(onnx.ModelProto.decode(bytes).graph!.initializer!.map((t) => [t.name!, t.dataType!]));
const metadata = (bytes: Uint8Array) =>
  new Map(onnx.ModelProto.decode(bytes).metadataProps!.map((p) => [p.key!, p.value!]));

async function outputs(bytes: Uint8Array): Promise<Float32Array[]> {
  const m = await OnnxModel.load(bytes, { threads: 1 });
  try {
    return await m.run(images[0]!);
  } finally {
    await m.dispose();
  }
}

describe('int8 mixed precision', () => {
  it("keeps the genome's floatLayers in fp32 and the rest int8", async () => {
    const { genome, ir, weights } = model({ floatLayers: [9, 5] });
    expect(genome.quantization.floatLayers).toEqual([5, 9]);
    const r = await exportOnnxWithReport(ir, weights, {
      precision: 'int8',
      quantization: genome.quantization,
      calibrationImages: images,
    });
    expect(r.floatLayers).toEqual([0, 5, 9, 24]);
    const types = initializerTypes(r.bytes);
    expect(types.get('model.5.conv.weight')).toBe(onnx.TensorProto.DataType.FLOAT);
    expect(types.get('model.9.cv1.conv.weight')).toBe(onnx.TensorProto.DataType.FLOAT);
    expect(types.get('model.7.conv.weight_quantized')).toBe(onnx.TensorProto.DataType.INT8);
    expect(
      metadata(r.bytes)
        .get('keepFloatLayers')!
        .split(',')
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual([0, 5, 9, 24]);
  });

  it('automatic mode ranks every quantizable row and keeps the k most sensitive in fp32', async () => {
    const { genome, ir, weights } = model({ autoFloatLayers: 2, calibration: 'entropy' });
    const r = await exportOnnxWithReport(ir, weights, {
      precision: 'int8',
      quantization: genome.quantization,
      calibrationImages: images,
    });
    expect(r.sensitivity!.map((s) => s.layer).sort((a, b) => a - b)).toEqual([...QUANTIZABLE_ROWS]);
    const noise = r.sensitivity!.map((s) => s.noise);
    expect(noise).toEqual([...noise].sort((a, b) => b - a));
    expect(noise[0]!).toBeGreaterThan(0);
    const top2 = r.sensitivity!.slice(0, 2).map((s) => s.layer);
    expect(r.floatLayers).toEqual([0, ...top2, 24].sort((a, b) => a - b));

    // Keeping the most sensitive rows float brings the outputs closer to fp32 than all-int8 does.
    const fp32 = await exportOnnxWithReport(ir, weights, { precision: 'fp32' });
    const plain = await exportOnnxWithReport(ir, weights, {
      precision: 'int8',
      quantization: { ...genome.quantization, autoFloatLayers: undefined },
      calibrationImages: images,
    });
    const ref = await outputs(fp32.bytes);
    const channels = 3 * (NC + 5);
    const errMixed = outputError(ref, await outputs(r.bytes), channels).centredRelative;
    const errPlain = outputError(ref, await outputs(plain.bytes), channels).centredRelative;
    expect(errMixed).toBeLessThan(errPlain);
  });

  it('rejects rows that hold no convolution and mixed precision outside int8', () => {
    expect(() =>
      parseGenome({
        depthMultiple: 0.33,
        widthMultiple: 0.25,
        quantization: { precision: 'int8', floatLayers: [11] },
      }),
    ).toThrow(/floatLayers/);
    expect(() =>
      parseGenome({
        depthMultiple: 0.33,
        widthMultiple: 0.25,
        quantization: { precision: 'fp16', autoFloatLayers: 1 },
      }),
    ).toThrow(/autoFloatLayers/);
    expect(() =>
      parseGenome({
        depthMultiple: 0.33,
        widthMultiple: 0.25,
        quantization: { precision: 'int8', scheme: 'dynamic', autoFloatLayers: 1 },
      }),
    ).toThrow(/autoFloatLayers/);
  });
});
