import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildIR, initWeights, parseGenome, type ModelIR, type WeightMap } from '@detsearch/genome';
import {
  buildOnnxModel,
  calibrate,
  DEFAULT_KEEP_FLOAT_LAYERS,
  OnnxModel,
  shareConcatRanges,
  syntheticCalibrationImages,
  uint8QParams,
} from '@detsearch/model-onnx';
import { fakeQuantUint8, initBackend, TfjsDetector } from '@detsearch/model-tfjs';

// Quantization-aware training is only worth something if the tfjs forward with fake quantization
// computes what the int8 export computes: then fine-tuning sees the deployed model's rounding.

const SIZE = 64;
const NC = 2;

beforeAll(async () => {
  await initBackend(process.env.DETSEARCH_BACKEND ?? 'wasm', { log: () => undefined });
});

function model(activation: string): { ir: ModelIR; weights: WeightMap } {
  const ir = buildIR(
    parseGenome({
      depthMultiple: 0.33,
      widthMultiple: 0.25,
      imageSize: SIZE,
      numClasses: NC,
      activation,
      quantization: { precision: 'int8' },
    }),
  );
  const weights = initWeights(ir, { seed: 5, randomizeBatchNorm: true });
  for (const [name, w] of weights)
    if (name.endsWith('.conv.weight')) for (let i = 0; i < w.length; i++) w[i]! *= 2;
  return { ir, weights };
}

const images = syntheticCalibrationImages(SIZE, 3, 'fq');

describe('fake quantization', () => {
  it('rounds to the export grid and passes gradients straight through inside the range', () => {
    const { scale, zeroPoint } = uint8QParams({ min: -1, max: 3 });
    const x = tf.tensor1d([-2, -0.3, 0.01, 1.234, 2.9, 5]);
    const y = fakeQuantUint8(x, -1, 3).dataSync();
    const expected = [-2, -0.3, 0.01, 1.234, 2.9, 5].map(
      (v) => (Math.min(255, Math.max(0, Math.round(v / scale) + zeroPoint)) - zeroPoint) * scale,
    );
    Array.from(y).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    const g = tf
      .grad((t: tf.Tensor) => tf.sum(fakeQuantUint8(t, -1, 3)))(x)
      .dataSync();
    expect(Array.from(g)).toEqual([0, 1, 1, 1, 1, 0]);
  });

  for (const activation of ['silu', 'relu', 'hardswish']) {
    it(`${activation}: the fake-quantized tfjs model rounds like the int8 ONNX export`, async () => {
      const { ir, weights } = model(activation);
      // The ranges the export carries (concat groups shared), as QAT gets them from the export report.
      const ranges = shareConcatRanges(ir, await calibrate(ir, weights, images));
      // Early tensors: deeper ones amplify single rounding flips (random weights are chaotic), which
      // says nothing about whether the two quantize the same way.
      const taps = ['model.1.act', 'model.2.cv1.act', 'model.3.act'];
      const int8 = buildOnnxModel(ir, weights, {
        precision: 'int8',
        quantization: ir.genome.quantization,
        activationRanges: ranges,
        extraOutputs: taps.map((t) => `${t}_dequantized`),
      });
      const m = await OnnxModel.load(int8, { threads: 1 });
      const deployed = await m.runNamed(images[0]!);
      await m.dispose();
      const detector = TfjsDetector.build(ir, weights);
      const seen = new Map<string, Float32Array>();
      const capture = (name: string, t: tf.Tensor4D) => {
        if (taps.includes(name)) seen.set(name, tf.transpose(t, [0, 3, 1, 2]).dataSync() as Float32Array);
      };
      const forward = () =>
        tf.tidy(() => {
          const x = tf.transpose(tf.tensor4d(images[0]!, [1, 3, SIZE, SIZE]), [0, 2, 3, 1]) as tf.Tensor4D;
          detector.forward(x, false, capture);
        });
      try {
        forward();
        const float = new Map(seen);
        detector.setFakeQuant({ ranges, floatLayers: new Set(DEFAULT_KEEP_FLOAT_LAYERS), perChannel: true });
        forward();
        for (const t of taps) {
          const r = ranges.get(t)!;
          const step = (Math.max(r.max, 0) - Math.min(r.min, 0)) / 255;
          const off = (a: Float32Array) =>
            a.filter((v, i) => Math.abs(v - deployed.get(`${t}_dequantized`)![i]!) > step / 2).length /
            a.length;
          // Within one step almost everywhere; the float model is off by more than that far more often.
          expect(off(seen.get(t)!)).toBeLessThan(0.05);
          expect(off(seen.get(t)!)).toBeLessThan(off(float.get(t)!) / 3);
        }
      } finally {
        detector.dispose();
      }
    });
  }
});
