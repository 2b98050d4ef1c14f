import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DomainError } from '@detsearch/common';
import { BACKEND_NAMES, currentBackend, initBackend } from './backend';

function installed(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

describe('initBackend', () => {
  const saved = process.env.DETSEARCH_BACKEND;
  afterEach(() => {
    if (saved === undefined) delete process.env.DETSEARCH_BACKEND;
    else process.env.DETSEARCH_BACKEND = saved;
  });

  it('rejects an unknown name with a DomainError naming the choices', async () => {
    const err = await initBackend('tpu').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).code).toBe('BACKEND.UNKNOWN');
    expect((err as DomainError).message).toMatch(/auto, tensorflow-gpu, tensorflow, wasm, cpu/);
  });

  it.skipIf(installed('@tensorflow/tfjs-node'))(
    'fails clearly when an explicitly chosen backend is not installed',
    async () => {
      const err = await initBackend('tensorflow', { log: () => {} }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DomainError);
      expect((err as DomainError).code).toBe('BACKEND.UNAVAILABLE');
      expect((err as DomainError).message).toMatch(/backend 'tensorflow' is not available here/);
    },
  );

  it('starts cpu and wasm on request, logs the choice and reports it', async () => {
    const lines: string[] = [];
    const cpu = await initBackend('cpu', { log: (l) => lines.push(l) });
    expect(cpu).toMatchObject({ name: 'cpu', tfBackend: 'cpu' });
    expect(tf.getBackend()).toBe('cpu');
    const wasm = await initBackend('wasm', { log: (l) => lines.push(l) });
    expect(wasm).toMatchObject({ name: 'wasm', tfBackend: 'wasm' });
    expect(wasm.description).toMatch(/^wasm \((no )?SIMD/);
    expect(tf.getBackend()).toBe('wasm');
    expect(currentBackend()).toEqual(wasm);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('TensorFlow.js backend wasm');
    // Asking again for the active backend is a no-op and logs nothing.
    await initBackend('wasm', { log: (l) => lines.push(l) });
    expect(lines).toHaveLength(2);
  });

  it('an explicit choice (DETSEARCH_BACKEND, passed in by the config) starts; auto keeps a backend already started', async () => {
    expect((await initBackend('cpu', { log: () => {} })).name).toBe('cpu');
    const lines: string[] = [];
    expect((await initBackend('auto', { log: (l) => lines.push(l) })).name).toBe('cpu');
    expect(lines).toHaveLength(0);
  });

  it('auto takes the first backend that starts, in the documented order', async () => {
    vi.resetModules();
    const fresh = (await import('./backend')) as typeof import('./backend');
    expect(fresh.currentBackend()).toBeUndefined();
    const lines: string[] = [];
    const auto = await fresh.initBackend('auto', { log: (l) => lines.push(l) });
    expect(BACKEND_NAMES).toContain(auto.name);
    expect(lines).toHaveLength(1);
    if (!installed('@tensorflow/tfjs-node') && !installed('@tensorflow/tfjs-node-gpu')) {
      expect(auto.name).toBe('wasm');
      expect(lines[0]).toMatch(/unavailable: tensorflow-gpu: .*; tensorflow: /);
    }
  });

  it('registers the gradients tfjs-core alone lacks', async () => {
    await initBackend('cpu', { log: () => {} });
    expect(tf.getGradient('Conv2D')).toBeDefined();
    expect(tf.getGradient('Sigmoid')).toBeDefined();
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.sigmoid(x)))(tf.scalar(0));
    expect(g.dataSync()[0]).toBeCloseTo(0.25, 6);
  });
});
