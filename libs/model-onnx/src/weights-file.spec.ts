import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildIR, initWeights, parseGenome } from '@detsearch/genome';
import { decodeWeights, encodeWeights, loadWeights, saveWeights, weightMismatches } from './weights-file';

const ir = buildIR(parseGenome({ depthMultiple: 0.33, widthMultiple: 0.25, imageSize: 64, numClasses: 2 }));
const dir = mkdtempSync(join(tmpdir(), 'weights-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('safetensors weights file', () => {
  it('round-trips names, shapes, values and metadata', () => {
    const weights = initWeights(ir, { seed: 3, randomizeBatchNorm: true });
    const path = join(dir, 'w.safetensors');
    const bytes = saveWeights(path, weights, { ir, metadata: { genome: JSON.stringify(ir.genome) } });
    const file = loadWeights(path);
    expect(file.weights.size).toBe(weights.size);
    // Byte comparison: deep-equal on ~500k floats is slow.
    const bytesOf = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    for (const [name, w] of weights)
      expect(bytesOf(file.weights.get(name)!).equals(bytesOf(w)), name).toBe(true);
    expect(file.shapes.get('model.0.conv.weight')).toEqual([16, 3, 6, 6]);
    expect(JSON.parse(file.metadata.genome!)).toEqual(ir.genome);
    expect(weightMismatches(ir, file)).toEqual([]);
    expect(bytes).toBeGreaterThan(4 * [...weights.values()].reduce((s, w) => s + w.length, 0));
  });

  it('follows the safetensors layout: u64 LE header size, JSON header, 8-byte aligned data', () => {
    const bytes = encodeWeights(new Map([['a', Float32Array.of(1, 2, 3, 4)]]), {
      shapes: new Map([['a', [2, 2]]]),
    });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString());
    expect(header.a).toEqual({ dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] });
    expect(Array.from(new Float32Array(bytes.slice(8 + n).buffer))).toEqual([1, 2, 3, 4]);
  });

  it('reports missing and misshaped weights, and rejects corrupt files', () => {
    const weights = initWeights(ir);
    weights.delete('model.24.m.0.bias');
    weights.set('model.0.conv.weight', new Float32Array(5));
    const problems = weightMismatches(ir, { weights });
    expect(problems).toContain('model.24.m.0.bias missing');
    expect(problems.some((p) => p.startsWith('model.0.conv.weight has 5 values'))).toBe(true);
    expect(() => decodeWeights(Uint8Array.of(1, 2, 3))).toThrow(/too short/);
    const bad = encodeWeights(new Map([['a', Float32Array.of(1)]]));
    expect(() => decodeWeights(bad.subarray(0, bad.length - 2))).toThrow(/do not fit/);
    expect(() =>
      encodeWeights(new Map([['a', Float32Array.of(1)]]), { shapes: new Map([['a', [2]]]) }),
    ).toThrow();
  });
});
