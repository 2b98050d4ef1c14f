import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildIR,
  initWeights,
  modelCost,
  parseGenome,
  type ModelIR,
  type WeightMap,
} from '@detsearch/genome';
import {
  buildOnnxModel,
  exportOnnx,
  OnnxModel,
  onnx,
  outputError,
  syntheticCalibrationImages,
  type ExportOptions,
} from '@detsearch/model-onnx';
import { initBackend, TfjsDetector } from '@detsearch/model-tfjs';

/**
 * Contract suite of the two model builders: for the same IR and random weights (random BatchNorm
 * too, so layout and folding bugs cannot hide), the TensorFlow.js forward (NHWC) and onnxruntime's
 * forward of the fp32 export (NCHW) agree to 1e-4 relative on all three Detect outputs.
 */
const SIZE = 64;
const GENOMES = [
  { name: 'yolov5n silu', genome: { depthMultiple: 0.33, widthMultiple: 0.25, numClasses: 3 } },
  {
    name: 'separable convs, relu',
    genome: {
      depthMultiple: 0.33,
      widthMultiple: 0.25,
      numClasses: 2,
      separable: [1, 3, 5, 7, 18, 21],
      activation: 'relu',
    },
  },
  {
    name: 'separable C3, hardswish',
    genome: {
      depthMultiple: 0.33,
      widthMultiple: 0.25,
      numClasses: 4,
      separable: [2, 4, 6, 8, 13, 17, 20, 23],
      activation: 'hardswish',
    },
  },
  {
    name: 'deeper/wider, leakyrelu, mixed separable',
    genome: {
      depthMultiple: 0.67,
      widthMultiple: 0.375,
      numClasses: 1,
      separable: [3, 8, 17],
      activation: 'leakyrelu',
    },
  },
  {
    name: 'per-stage depth and width, separable',
    genome: {
      depthMultiple: 0.33,
      widthMultiple: 0.25,
      numClasses: 2,
      separable: [4, 17],
      stageDepth: [1, 2, 0.5, 1, 1, 1, 0.5, 1],
      stageWidth: [1.5, 1, 0.5, 0.75, 1, 1.25, 1, 0.5],
    },
  },
] as const;

function model(genome: object): { ir: ModelIR; weights: WeightMap } {
  const ir = buildIR(parseGenome({ ...genome, imageSize: SIZE }));
  const weights = initWeights(ir, { seed: 'parity', randomizeBatchNorm: true });
  // A gain keeps the spatial signal from fading through the untrained layers, so the comparison is
  // not only of the Detect biases.
  for (const [name, w] of weights)
    if (name.endsWith('.conv.weight')) for (let i = 0; i < w.length; i++) w[i]! *= 2;
  return { ir, weights };
}

const image = syntheticCalibrationImages(SIZE, 1, 'parity-image')[0]!;

function tfjsForward(ir: ModelIR, weights: WeightMap): Float32Array[] {
  const detector = TfjsDetector.build(ir, weights);
  try {
    return tf.tidy(() => {
      const x = tf.transpose(tf.tensor4d(image, [1, 3, SIZE, SIZE]), [0, 2, 3, 1]);
      // NHWC -> NCHW, the ONNX layout.
      return detector.forward(x, false).map((o) => tf.transpose(o, [0, 3, 1, 2]).dataSync() as Float32Array);
    });
  } finally {
    detector.dispose();
  }
}

async function onnxForward(bytes: Uint8Array): Promise<Float32Array[]> {
  const m = await OnnxModel.load(bytes, { threads: 1 });
  try {
    return await m.run(image);
  } finally {
    await m.dispose();
  }
}

/** Trainable parameters of the unfolded ONNX graph: every initializer but BN running statistics and Resize scales. */
function onnxTrainableParams(bytes: Uint8Array): number {
  return onnx.ModelProto.decode(bytes)
    .graph!.initializer!.filter((t) => !/(running_(mean|var)|\.scales)$/.test(t.name!))
    .reduce((s, t) => s + t.dims!.reduce((a: number, b) => a * Number(b), 1), 0);
}

const report: string[] = [];

describe('tfjs vs onnxruntime parity', () => {
  beforeAll(async () => {
    await initBackend(process.env.DETSEARCH_BACKEND ?? 'wasm', { log: () => undefined });
  });
  afterAll(() => {
    if (report.length)
      process.stdout.write(`\nparity errors (max|a-b|/max|a|, centred):\n${report.join('\n')}\n`);
  });

  for (const { name, genome } of GENOMES) {
    it(`${name}: fp32 outputs agree to 1e-4 relative, same parameter count`, async () => {
      const { ir, weights } = model(genome);
      const channels = 3 * (ir.genome.numClasses + 5);
      const reference = tfjsForward(ir, weights);
      const fp32 = await onnxForward(buildOnnxModel(ir, weights, { precision: 'fp32' }));
      const err = outputError(reference, fp32, channels);
      report.push(
        `${name} fp32: ${err.maxRelative.toExponential(2)}, ${err.centredRelative.toExponential(2)}`,
      );
      expect(err.maxRelative).toBeLessThanOrEqual(1e-4);
      // Against the spatially varying part too, so a wrong layout cannot pass on the biases alone.
      expect(err.centredRelative).toBeLessThanOrEqual(2e-4);

      const params = modelCost(ir).params;
      const detector = TfjsDetector.build(ir, weights);
      expect(detector.paramCount()).toBe(params);
      detector.dispose();
      expect(
        onnxTrainableParams(buildOnnxModel(ir, weights, { precision: 'fp32', foldBatchNorm: false })),
      ).toBe(params);
    });
  }

  it('fp16 and int8 exports stay close to the tfjs reference (errors reported)', async () => {
    const { ir, weights } = model(GENOMES[0].genome);
    const channels = 3 * (ir.genome.numClasses + 5);
    const reference = tfjsForward(ir, weights);
    const calibrationImages = syntheticCalibrationImages(SIZE, 4, 'parity-cal');
    const int8 = (
      scheme: 'static' | 'dynamic',
      granularity: 'per-tensor' | 'per-channel',
    ): ExportOptions => ({
      precision: 'int8',
      quantization: { precision: 'int8', scheme, granularity },
      calibrationImages,
    });
    const cases: [string, ExportOptions, number, number][] = [
      // [name, options, bound on maxRelative, bound on centredRelative]
      ['fp16', { precision: 'fp16' }, 2e-3, 0.1],
      ['int8 static per-channel', int8('static', 'per-channel'), 0.05, 1],
      ['int8 static per-tensor', int8('static', 'per-tensor'), 0.05, 1],
      ['int8 dynamic per-channel', int8('dynamic', 'per-channel'), 0.05, 0.5],
    ];
    for (const [label, options, maxBound, centredBound] of cases) {
      const err = outputError(reference, await onnxForward(await exportOnnx(ir, weights, options)), channels);
      report.push(
        `yolov5n ${label}: ${err.maxRelative.toExponential(2)}, ${err.centredRelative.toExponential(2)}`,
      );
      expect(err.maxRelative, label).toBeLessThan(maxBound);
      expect(err.centredRelative, label).toBeLessThan(centredBound);
    }
  });
});
