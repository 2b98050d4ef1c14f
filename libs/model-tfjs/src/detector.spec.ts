import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildIR, initWeights, modelCost, parseGenome, type ModelIR } from '@detsearch/genome';
import { initBackend } from './backend';
import { batchNormTraining, TfjsDetector } from './detector';

function tinyIR(overrides: Record<string, unknown> = {}): ModelIR {
  return buildIR(
    parseGenome({ depthMultiple: 0.33, widthMultiple: 0.125, numClasses: 2, imageSize: 64, ...overrides }),
  );
}

function image(size: number, batch = 1, seed = 7): tf.Tensor4D {
  return tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', seed) as tf.Tensor4D;
}

describe('TfjsDetector', () => {
  beforeAll(async () => {
    await initBackend('cpu', { log: () => {} });
    await initBackend('wasm', { log: () => {} });
  });

  it.each([
    ['yolov5n-like', {}],
    ['separable + relu', { separable: [1, 2, 18, 23], activation: 'relu' }],
    ['hardswish', { activation: 'hardswish' }],
    ['leakyrelu', { activation: 'leakyrelu' }],
  ])('%s: parameter count equals the IR and outputs have the Detect shapes', (_name, genome) => {
    const ir = tinyIR(genome);
    const model = TfjsDetector.build(ir);
    try {
      expect(model.paramCount()).toBe(modelCost(ir).params);
      const x = image(64, 2);
      const outs = model.forward(x);
      expect(outs.map((o) => o.shape)).toEqual(
        ir.outputs.map((name) => {
          const s = ir.tensors[name]!;
          return [2, s.height, s.width, 3 * (2 + 5)];
        }),
      );
      expect(outs[0]!.shape).toEqual([2, 8, 8, 21]);
      for (const o of outs) expect(Number.isFinite(tf.sum(o).dataSync()[0]!)).toBe(true);
      tf.dispose([x, ...outs]);
    } finally {
      model.dispose();
    }
  });

  it('parameter count equals Ultralytics yolov5n at nc=80', () => {
    const ir = buildIR(parseGenome({ depthMultiple: 0.33, widthMultiple: 0.25, imageSize: 64 }));
    const model = TfjsDetector.build(ir);
    expect(model.paramCount()).toBe(1_872_157);
    model.dispose();
  });

  it('exportWeights round-trips the canonical weights exactly', () => {
    const ir = tinyIR({ separable: [3, 4] });
    const weights = initWeights(ir, { seed: 3, randomizeBatchNorm: true });
    const model = TfjsDetector.build(ir, weights);
    const out = model.exportWeights();
    expect([...out.keys()].sort()).toEqual([...weights.keys()].sort());
    for (const [name, w] of weights) {
      const got = out.get(name)!;
      expect(got.length, name).toBe(w.length);
      expect(
        Buffer.compare(Buffer.from(got.buffer, got.byteOffset, got.byteLength), Buffer.from(w.buffer)),
        name,
      ).toBe(0);
    }
    model.dispose();
  });

  it('rejects missing or mis-sized weights', () => {
    const ir = tinyIR();
    const weights = initWeights(ir);
    weights.delete('model.0.conv.weight');
    expect(() => TfjsDetector.build(ir, weights)).toThrow(/model.0.conv.weight missing/);
    const bad = initWeights(ir);
    bad.set('model.0.bn.weight', new Float32Array(1));
    expect(() => TfjsDetector.build(ir, bad)).toThrow(/model.0.bn.weight/);
  });

  it('uses PyTorch padding: a stride-2 conv sees the top-left pixels', () => {
    // Only pixel (0,0) is lit: with PyTorch's symmetric pad the first 6x6/s2/p2 window covers it with
    // tap (2,2); TF 'same' would pad only bottom/right and hit tap (0,0) instead.
    const ir = tinyIR();
    const weights = initWeights(ir);
    const w = new Float32Array(weights.get('model.0.conv.weight')!.length);
    // Output channel 0, input channel 0: only tap (2, 2) is 1; PyTorch layout [out, in, kh, kw].
    w[2 * 6 + 2] = 1;
    weights.set('model.0.conv.weight', w);
    const model = TfjsDetector.build(ir, weights);
    const x = tf.tidy(() =>
      tf.pad(tf.ones([1, 1, 1, 3]), [
        [0, 0],
        [0, 63],
        [0, 63],
        [0, 0],
      ]),
    ) as tf.Tensor4D;
    // Run the first conv through the model's own op with the IR's padding.
    const conv = ir.ops[0]!;
    expect(conv.kind === 'conv' && conv.padding).toBe(2);
    const y = tf.conv2d(x, model['convs'].get(conv.name)!.weight as tf.Tensor4D, 2, 2);
    expect(y.shape).toEqual([1, 32, 32, ir.tensors[conv.name]!.channels]);
    expect(y.arraySync()[0]![0]![0]![0]).toBeCloseTo(1, 6);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('matches between the cpu and wasm backends (eval and training mode)', async () => {
    const ir = tinyIR({ separable: [1, 18] });
    const weights = initWeights(ir, { seed: 5, randomizeBatchNorm: true });
    const run = async (backend: string, training: boolean) => {
      await tf.setBackend(backend);
      const model = TfjsDetector.build(ir, weights);
      const x = image(64, 2);
      const outs = model.forward(x, training);
      const data = outs.map((o) => o.dataSync() as Float32Array);
      tf.dispose([x, ...outs]);
      model.dispose();
      return data;
    };
    for (const training of [false, true]) {
      const cpu = await run('cpu', training);
      const wasm = await run('wasm', training);
      cpu.forEach((c, i) => {
        const w = wasm[i]!;
        let err = 0;
        let scale = 0;
        for (let j = 0; j < c.length; j++) {
          err = Math.max(err, Math.abs(c[j]! - w[j]!));
          scale = Math.max(scale, Math.abs(c[j]!));
        }
        expect(err / scale).toBeLessThan(1e-4);
      });
    }
    await tf.setBackend('wasm');
  });

  it('training mode normalizes with batch statistics; eval mode with running statistics', () => {
    const ir = tinyIR();
    const model = TfjsDetector.build(ir, initWeights(ir, { seed: 1, randomizeBatchNorm: true }));
    const x = image(64, 2);
    const evalOut = model.forward(x, false);
    const trainOut = model.forward(x, true);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(evalOut[0]!, trainOut[0]!))).dataSync()[0]!);
    expect(diff).toBeGreaterThan(1e-3);
    tf.dispose([x, ...evalOut, ...trainOut]);
    model.discardBatchNormUpdates();
    model.dispose();
  });

  it('applyBatchNormUpdates follows PyTorch (momentum 0.03, unbiased running variance)', () => {
    const ir = tinyIR();
    const model = TfjsDetector.build(ir);
    const x = image(64, 2);
    const before = model.exportWeights();
    // The first BatchNorm's input is the first conv's output; compute its batch statistics directly.
    const conv = model['convs'].get('model.0.conv')!;
    const { mean, variance } = tf.tidy(() => {
      const y = tf.conv2d(x, conv.weight as tf.Tensor4D, 2, 2);
      return tf.moments(y, [0, 1, 2]);
    });
    const n = 2 * 32 * 32;
    const outs = model.forward(x, true);
    tf.dispose(outs);
    model.applyBatchNormUpdates();
    const after = model.exportWeights();
    const m = mean.dataSync();
    const v = variance.dataSync();
    const rm0 = before.get('model.0.bn.running_mean')!;
    const rv0 = before.get('model.0.bn.running_var')!;
    const rm = after.get('model.0.bn.running_mean')!;
    const rv = after.get('model.0.bn.running_var')!;
    for (let c = 0; c < rm.length; c++) {
      expect(rm[c]).toBeCloseTo(0.97 * rm0[c]! + 0.03 * m[c]!, 5);
      expect(rv[c]).toBeCloseTo(0.97 * rv0[c]! + 0.03 * v[c]! * (n / (n - 1)), 5);
    }
    // Trainable parameters did not move.
    expect(after.get('model.0.conv.weight')).toEqual(before.get('model.0.conv.weight'));
    tf.dispose([x, mean, variance]);
    model.dispose();
  });

  it('trains: an SGD step through variableGrads lowers a loss and leaks no tensors', () => {
    const ir = tinyIR({ separable: [1, 2] });
    const model = TfjsDetector.build(ir);
    const x = image(64, 2);
    const opt = tf.train.sgd(0.05);
    const lossFn = () => tf.addN(model.forward(x, true).map((o) => tf.mean(tf.square(o)))) as tf.Scalar;
    const step = () => {
      const { value, grads } = tf.variableGrads(lossFn, model.trainableVariables());
      expect(Object.keys(grads).length).toBe(model.trainableVariables().length);
      opt.applyGradients(grads);
      model.applyBatchNormUpdates();
      const v = value.dataSync()[0]!;
      tf.dispose([value, ...Object.values(grads)]);
      return v;
    };
    const first = step();
    const tensors = tf.memory().numTensors;
    step();
    const third = step();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(third).toBeLessThan(first);
    opt.dispose();
    tf.dispose(x);
    model.dispose();
  });

  it('repeated forward passes leave the tensor count unchanged; dispose frees the variables', () => {
    const start = tf.memory().numTensors;
    const ir = tinyIR();
    const model = TfjsDetector.build(ir);
    const x = image(64);
    tf.dispose(model.forward(x));
    const base = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.dispose(model.forward(x));
    for (let i = 0; i < 2; i++) tf.dispose(model.forward(x, true));
    model.applyBatchNormUpdates();
    expect(tf.memory().numTensors).toBe(base);
    model.dispose();
    x.dispose();
    expect(tf.memory().numTensors).toBe(start);
    expect(() => model.forward(x)).toThrow(/dispose/);
  });
});

describe('batchNormTraining', () => {
  beforeAll(async () => {
    await initBackend('wasm', { log: () => {} });
  });

  it('has the gradients of the autodiff formula', () => {
    const x = tf.randomNormal([2, 5, 4, 3], 0.5, 2, 'float32', 1) as tf.Tensor4D;
    const gamma = tf.tensor1d([0.5, 1.5, -1]);
    const beta = tf.tensor1d([0.1, 0, -0.2]);
    const r = tf.randomNormal([2, 5, 4, 3], 0, 1, 'float32', 2);
    const eps = 1e-3;
    const reference = (xs: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const { mean, variance } = tf.moments(xs, [0, 1, 2]);
      return tf.sum(
        tf.mul(tf.add(tf.mul(tf.div(tf.sub(xs, mean), tf.sqrt(tf.add(variance, eps))), g), b), r),
      );
    };
    const analytic = (xs: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const { y, mean, variance } = batchNormTraining(
        xs as tf.Tensor4D,
        g as tf.Tensor1D,
        b as tf.Tensor1D,
        eps,
      );
      tf.dispose([mean, variance]);
      return tf.sum(tf.mul(y, r));
    };
    const want = tf.grads(reference)([x, gamma, beta]);
    const got = tf.grads(analytic)([x, gamma, beta]);
    expect(analytic(x, gamma, beta).dataSync()[0]).toBeCloseTo(reference(x, gamma, beta).dataSync()[0]!, 3);
    want.forEach((w, i) => {
      const a = got[i]!.dataSync();
      const b = w.dataSync();
      const scale = Math.max(...Array.from(b, Math.abs));
      for (let j = 0; j < b.length; j++) expect(Math.abs(a[j]! - b[j]!) / scale).toBeLessThan(1e-4);
    });
  });
});
