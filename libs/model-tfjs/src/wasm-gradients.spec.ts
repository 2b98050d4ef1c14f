import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend';
import { useWasmGradientKernels, wasmGradientKernelMode } from './wasm-gradients';

interface Case {
  name: string;
  input: [number, number, number, number];
  kernel: number;
  stride: number;
  pad: number;
  outChannels: number;
  depthwise: boolean;
}

const CASES: Case[] = [
  { name: '1x1 s1', input: [2, 6, 6, 5], kernel: 1, stride: 1, pad: 0, outChannels: 4, depthwise: false },
  { name: '3x3 s1 p1', input: [2, 7, 6, 3], kernel: 3, stride: 1, pad: 1, outChannels: 4, depthwise: false },
  {
    name: '3x3 s2 p1 even',
    input: [2, 8, 8, 4],
    kernel: 3,
    stride: 2,
    pad: 1,
    outChannels: 6,
    depthwise: false,
  },
  {
    name: '3x3 s2 p1 odd',
    input: [1, 9, 7, 3],
    kernel: 3,
    stride: 2,
    pad: 1,
    outChannels: 2,
    depthwise: false,
  },
  {
    name: '6x6 s2 p2 (row 0)',
    input: [2, 12, 12, 3],
    kernel: 6,
    stride: 2,
    pad: 2,
    outChannels: 4,
    depthwise: false,
  },
  { name: '3x3 s1 p0', input: [1, 6, 6, 2], kernel: 3, stride: 1, pad: 0, outChannels: 3, depthwise: false },
  {
    name: 'dw 3x3 s1 p1',
    input: [2, 7, 6, 5],
    kernel: 3,
    stride: 1,
    pad: 1,
    outChannels: 5,
    depthwise: true,
  },
  {
    name: 'dw 3x3 s2 p1',
    input: [2, 8, 8, 4],
    kernel: 3,
    stride: 2,
    pad: 1,
    outChannels: 4,
    depthwise: true,
  },
  {
    name: 'dw 5x5 s2 p2 odd',
    input: [1, 9, 11, 3],
    kernel: 5,
    stride: 2,
    pad: 2,
    outChannels: 3,
    depthwise: true,
  },
  {
    name: 'dw 3x3 x2 multiplier',
    input: [2, 6, 6, 3],
    kernel: 3,
    stride: 1,
    pad: 1,
    outChannels: 6,
    depthwise: true,
  },
];

function seeded(shape: number[], seed: number): tf.Tensor {
  return tf.randomUniform(shape, -1, 1, 'float32', seed);
}

function filterShape(c: Case): [number, number, number, number] {
  const inC = c.input[3];
  return c.depthwise
    ? [c.kernel, c.kernel, inC, c.outChannels / inC]
    : [c.kernel, c.kernel, inC, c.outChannels];
}

function conv(c: Case, x: tf.Tensor4D, w: tf.Tensor4D): tf.Tensor4D {
  return c.depthwise ? tf.depthwiseConv2d(x, w, c.stride, c.pad) : tf.conv2d(x, w, c.stride, c.pad);
}

/** Loss sum(conv(x, w) * r): bilinear, so central differences are exact up to rounding. */
function lossFn(c: Case, r: tf.Tensor) {
  return (x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(conv(c, x as tf.Tensor4D, w as tf.Tensor4D), r));
}

async function gradientsOn(backend: string, c: Case): Promise<{ dx: Float32Array; dw: Float32Array }> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const x = seeded(c.input, 1);
    const w = seeded(filterShape(c), 2);
    const r = seeded(conv(c, x as tf.Tensor4D, w as tf.Tensor4D).shape, 3);
    const [dx, dw] = tf.grads(lossFn(c, r))([x, w]);
    return { dx: dx!.dataSync() as Float32Array, dw: dw!.dataSync() as Float32Array };
  });
}

function maxRelError(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / den;
}

describe('wasm gradient kernels', () => {
  beforeAll(async () => {
    await initBackend('cpu', { log: () => {} });
    await initBackend('wasm', { log: () => {} });
  });

  it('are registered by initBackend and report their mode', () => {
    expect(wasmGradientKernelMode()).toBe('wasm');
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    expect(tf.getKernel('DepthwiseConv2dNativeBackpropFilter', 'wasm')).toBeDefined();
    expect(tf.getKernel('DepthwiseConv2dNativeBackpropInput', 'wasm')).toBeDefined();
  });

  it.each(CASES)('$name: match the cpu kernels', async (c) => {
    const cpu = await gradientsOn('cpu', c);
    const wasm = await gradientsOn('wasm', c);
    expect(wasm.dx.length).toBe(cpu.dx.length);
    expect(wasm.dw.length).toBe(cpu.dw.length);
    expect(maxRelError(wasm.dx, cpu.dx)).toBeLessThan(1e-4);
    expect(maxRelError(wasm.dw, cpu.dw)).toBeLessThan(1e-4);
  });

  it.each(CASES.filter((c) => c.stride === 2 || c.kernel === 6 || c.name.includes('multiplier')))(
    '$name: match central finite differences',
    async (c) => {
      await tf.setBackend('wasm');
      const x = seeded(c.input, 1);
      const w = seeded(filterShape(c), 2);
      const r = seeded(conv(c, x as tf.Tensor4D, w as tf.Tensor4D).shape, 3);
      const f = lossFn(c, r);
      const [dx, dw] = tf.grads(f)([x, w]);
      const h = 0.25;
      const probe = (t: tf.Tensor, grad: tf.Tensor, which: 0 | 1) => {
        const g = grad.dataSync();
        const base = t.dataSync();
        // Every element of a small filter, a spread of input elements (borders included).
        const step = Math.max(1, Math.floor(base.length / 40));
        for (let i = 0; i < base.length; i += step) {
          const plus = Float32Array.from(base);
          const minus = Float32Array.from(base);
          plus[i]! += h;
          minus[i]! -= h;
          const lp = tf.tidy(() => {
            const a = tf.tensor(plus, t.shape);
            return (which === 0 ? f(a, w) : f(x, a)).dataSync()[0]!;
          });
          const lm = tf.tidy(() => {
            const a = tf.tensor(minus, t.shape);
            return (which === 0 ? f(a, w) : f(x, a)).dataSync()[0]!;
          });
          const fd = (lp - lm) / (2 * h);
          expect(Math.abs(fd - g[i]!)).toBeLessThan(1e-4 * Math.max(1, Math.abs(fd)) + 1e-4);
        }
      };
      probe(x, dx!, 0);
      probe(w, dw!, 1);
      tf.dispose([x, w, r, dx!, dw!]);
    },
  );

  it('leave no tensors behind', async () => {
    await tf.setBackend('wasm');
    const c = CASES[2]!;
    await gradientsOn('wasm', c);
    const before = tf.memory().numTensors;
    await gradientsOn('wasm', c);
    await gradientsOn('wasm', CASES[7]!);
    await tf.setBackend('wasm');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('can be switched to the cpu fallback and back', async () => {
    const c = CASES[2]!;
    const fast = await gradientsOn('wasm', c);
    useWasmGradientKernels(false);
    expect(wasmGradientKernelMode()).toBe('cpu-fallback');
    const slow = await gradientsOn('wasm', c);
    useWasmGradientKernels(true);
    expect(wasmGradientKernelMode()).toBe('wasm');
    const again = await gradientsOn('wasm', c);
    expect(maxRelError(slow.dw, fast.dw)).toBeLessThan(1e-4);
    expect(maxRelError(slow.dx, fast.dx)).toBeLessThan(1e-4);
    expect(maxRelError(again.dw, fast.dw)).toBeLessThan(1e-6);
  });
});
