import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { saveWeights } from '@detsearch/model-onnx';
import { largestGenome } from './space';
import {
  initSupernet,
  loadSupernet,
  readSupernetFile,
  saveSupernet,
  saveSupernetSets,
  supernetForSize,
} from './supernet-file';
import { TINY_SPACE } from './test-helpers';

const dir = mkdtempSync(join(tmpdir(), 'supernet-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const largest = largestGenome(TINY_SPACE, { numClasses: 2 });
const STEM = 'model.0.conv.weight';

describe('supernet files', () => {
  it('holds one weight set per image size in one file, each read back as it was written', () => {
    const a = initSupernet(largest, [3, 18], { seed: 1 });
    const b = initSupernet(largest, [3, 18], { seed: 2 });
    const path = join(dir, 'sets.safetensors');
    saveSupernetSets(path, [
      { imageSize: 96, supernet: b },
      { imageSize: 64, supernet: a },
    ]);
    const file = readSupernetFile(path);
    expect(file.sets.map((s) => s.imageSize)).toEqual([64, 96]);
    for (const [size, sn] of [
      [64, a],
      [96, b],
    ] as const) {
      const read = file.sets.find((s) => s.imageSize === size)!.supernet;
      expect([...read.weights.keys()].sort()).toEqual([...sn.weights.keys()].sort());
      for (const [name, w] of sn.weights) expect(read.weights.get(name)).toEqual(w);
      for (const [name, shape] of sn.shapes) expect(read.shapes.get(name)).toEqual(shape);
      expect(read.separableRows).toEqual([3, 18]);
      expect(read.activation).toBe(sn.activation);
    }
    expect(a.weights.get(STEM)).not.toEqual(b.weights.get(STEM));
  });

  it('scores a size on the set trained nearest to it, the larger on a tie', () => {
    const sets = [64, 128, 160].map((imageSize, i) => ({
      imageSize,
      supernet: initSupernet(largest, [], { seed: 10 + i }),
    }));
    const path = join(dir, 'three.safetensors');
    saveSupernetSets(path, sets);
    const file = readSupernetFile(path);
    const setOf = (size: number) => {
      const w = supernetForSize(file, size).weights.get(STEM)!;
      return sets.find((s) => s.supernet.weights.get(STEM)!.every((x, i) => x === w[i]))!.imageSize;
    };
    expect(setOf(64)).toBe(64);
    expect(setOf(32)).toBe(64);
    expect(setOf(95)).toBe(64);
    expect(setOf(96)).toBe(128); // a tie between 64 and 128
    expect(setOf(128)).toBe(128);
    expect(setOf(144)).toBe(160); // a tie between 128 and 160
    expect(setOf(640)).toBe(160);
    // Without a size: the largest size's set.
    expect(loadSupernet(path).weights.get(STEM)).toEqual(sets[2]!.supernet.weights.get(STEM));
    expect(loadSupernet(path, { imageSize: 100 }).weights.get(STEM)).toEqual(
      sets[1]!.supernet.weights.get(STEM),
    );
  });

  it('reads a file of one shared set as the set of every size', () => {
    const sn = initSupernet(largest, [4], { seed: 3 });
    const path = join(dir, 'shared.safetensors');
    saveSupernet(path, sn, { note: 'kept' });
    const file = readSupernetFile(path);
    expect(file.sets).toHaveLength(1);
    expect(file.sets[0]!.imageSize).toBeNull();
    expect(file.metadata.note).toBe('kept');
    for (const size of [32, 96, 640])
      expect(supernetForSize(file, size).weights.get(STEM)).toEqual(sn.weights.get(STEM));
  });

  it('refuses a weights file that is not a supernet', () => {
    const path = join(dir, 'plain.safetensors');
    saveWeights(path, new Map([['x', new Float32Array([1, 2])]]), { shapes: new Map([['x', [2]]]) });
    expect(() => readSupernetFile(path)).toThrow(/not a supernet file/);
    expect(() => saveSupernetSets(join(dir, 'none.safetensors'), [])).toThrow(/no weight set/);
  });
});
