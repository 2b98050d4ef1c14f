import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@detsearch/model-tfjs';
import { defaultEmaTau, ModelEma } from './ema';
import { AdamW, NesterovSgd, paramGroup } from './sgd';

describe('NesterovSgd', () => {
  beforeAll(async () => {
    await initBackend('wasm', { log: () => undefined });
  });

  it('groups parameters as Ultralytics: decayed conv weights, BN weights, biases', () => {
    expect(paramGroup('model.0.conv.weight', [3, 3, 3, 16])).toBe('decay');
    expect(paramGroup('model.24.m.0.weight', [1, 1, 64, 33])).toBe('decay');
    expect(paramGroup('model.0.bn.weight', [16])).toBe('noDecay');
    expect(paramGroup('model.0.bn.bias', [16])).toBe('bias');
    expect(paramGroup('model.24.m.0.bias', [33])).toBe('bias');
  });

  it('matches torch.optim.SGD(nesterov=True) step by step, decay on the decay group only', () => {
    const w = tf.variable(tf.tensor1d([1, -2]), true, 'w');
    const b = tf.variable(tf.tensor1d([0.5]), true, 'b');
    const sgd = new NesterovSgd([
      { name: 'w', variable: w, group: 'decay' },
      { name: 'b', variable: b, group: 'bias' },
    ]);
    const step = { weightLr: 0.1, biasLr: 0.2, momentum: 0.9, weightDecay: 0.01 };
    // Reference by hand: d = g + wd*p; buf = m*buf + d (buf0 = d); p -= lr * (d + m*buf).
    let pw = [1, -2];
    let bufw = [0, 0];
    let pb = 0.5;
    let bufb = 0;
    for (let i = 0; i < 3; i++) {
      const gw = [0.3 * (i + 1), -0.1];
      const gb = 0.05;
      const grads = { w: tf.tensor1d(gw), b: tf.tensor1d([gb]) };
      sgd.step(grads, step);
      tf.dispose(Object.values(grads));
      const dw = gw.map((g, k) => g + 0.01 * pw[k]!);
      bufw = i === 0 ? dw : bufw.map((v, k) => 0.9 * v + dw[k]!);
      pw = pw.map((p, k) => p - 0.1 * (dw[k]! + 0.9 * bufw[k]!));
      bufb = i === 0 ? gb : 0.9 * bufb + gb;
      pb = pb - 0.2 * (gb + 0.9 * bufb);
      Array.from(w.dataSync()).forEach((v, k) => expect(v).toBeCloseTo(pw[k]!, 5));
      expect(b.dataSync()[0]).toBeCloseTo(pb, 5);
    }
    sgd.dispose();
    tf.dispose([w, b]);
  });
});

describe('AdamW', () => {
  it('first step moves each weight by lr * sign(grad), with decoupled decay on the decay group', async () => {
    await initBackend('wasm', { log: () => undefined });
    const w = tf.variable(tf.tensor1d([1, -2]), true, 'aw');
    const b = tf.variable(tf.tensor1d([0.5]), true, 'ab');
    const adam = new AdamW([
      { name: 'w', variable: w, group: 'decay' },
      { name: 'b', variable: b, group: 'bias' },
    ]);
    const grads = { w: tf.tensor1d([0.3, -0.1]), b: tf.tensor1d([0.05]) };
    adam.step(grads, { weightLr: 0.1, biasLr: 0.2, momentum: 0.9, weightDecay: 0.01 });
    Array.from(w.dataSync()).forEach((v, k) =>
      expect(v).toBeCloseTo([1 * 0.999 - 0.1, -2 * 0.999 + 0.1][k]!, 5),
    );
    expect(b.dataSync()[0]).toBeCloseTo(0.5 - 0.2, 5);
    adam.dispose();
    tf.dispose([w, b, ...Object.values(grads)]);
  });
  it('matches torch.optim.AdamW step by step, with a gradient scale (clipping)', async () => {
    await initBackend('wasm', { log: () => undefined });
    const w = tf.variable(tf.tensor2d([1, -2, 0.5, 3], [2, 2]), true, 'aw2');
    const b = tf.variable(tf.tensor1d([0.5]), true, 'ab2');
    const adam = new AdamW([
      { name: 'w', variable: w, group: 'decay' },
      { name: 'b', variable: b, group: 'bias' },
    ]);
    const [b1, b2, eps, wd] = [0.9, 0.999, 1e-8, 0.01];
    // Reference (torch.optim.AdamW): p *= 1 - lr*wd; m, v moments; p -= lr/c1 * m / (sqrt(v)/sqrt(c2) + eps).
    const ref = {
      w: { p: [1, -2, 0.5, 3], m: [0, 0, 0, 0], v: [0, 0, 0, 0], lr: 0.1, wd },
      b: { p: [0.5], m: [0], v: [0], lr: 0.2, wd: 0 },
    };
    for (let t = 1; t <= 4; t++) {
      const scale = t === 3 ? 0.25 : 1;
      const g = { w: [0.3 * t, -0.1, 0.02 / t, -0.5], b: [0.05 * (t % 2 ? 1 : -1)] };
      const grads = { w: tf.tensor2d(g.w, [2, 2]), b: tf.tensor1d(g.b) };
      adam.step(grads, { weightLr: 0.1, biasLr: 0.2, momentum: b1, weightDecay: wd, gradScale: scale });
      tf.dispose(Object.values(grads));
      for (const k of ['w', 'b'] as const) {
        const r = ref[k];
        r.p = r.p.map((p, i) => {
          const gi = g[k][i]! * scale;
          r.m[i] = b1 * r.m[i]! + (1 - b1) * gi;
          r.v[i] = b2 * r.v[i]! + (1 - b2) * gi * gi;
          const denom = Math.sqrt(r.v[i]!) / Math.sqrt(1 - b2 ** t) + eps;
          return p * (1 - r.lr * r.wd) - (r.lr / (1 - b1 ** t)) * (r.m[i]! / denom);
        });
      }
      Array.from(w.dataSync()).forEach((v, k) => expect(v).toBeCloseTo(ref.w.p[k]!, 5));
      expect(b.dataSync()[0]).toBeCloseTo(ref.b.p[0]!, 5);
    }
    expect(w.shape).toEqual([2, 2]);
    adam.dispose();
    tf.dispose([w, b]);
  });
});

describe('ModelEma', () => {
  it('ramps the decay and averages every entry', () => {
    const ema = new ModelEma(new Map([['a', Float32Array.from([0, 10])]]), 0.9999, 2000);
    expect(ema.decayAt(0)).toBe(0);
    expect(ema.decayAt(2000)).toBeCloseTo(0.9999 * (1 - Math.exp(-1)));
    ema.update(new Map([['a', Float32Array.from([1, 0])]]));
    const d = ema.decayAt(1);
    const a = ema.weights().get('a')!;
    expect(a[0]).toBeCloseTo(1 - d, 6);
    expect(a[1]).toBeCloseTo(10 * d, 5);
    expect(() => ema.update(new Map())).toThrow(/missing/);
  });

  it('picks a short ramp for short runs and the Ultralytics one for long runs', () => {
    expect(defaultEmaTau(150)).toBeCloseTo(150 / Math.log(15));
    expect(defaultEmaTau(1e6)).toBe(2000);
    expect(defaultEmaTau(5)).toBeCloseTo(5);
  });
});
