import { describe, expect, it } from 'vitest';
import { buildIR, initWeights, parseGenome } from '@detsearch/genome';
import { buildOnnxModel } from './export';
import { OnnxModel } from './runtime';

describe('OnnxModel', () => {
  const ir = buildIR(parseGenome({ depthMultiple: 0.33, widthMultiple: 0.25, imageSize: 64, numClasses: 1 }));
  const bytes = buildOnnxModel(ir, initWeights(ir), { precision: 'fp32' });

  it('runs a batch-1 NCHW image and returns the Detect outputs in order', async () => {
    const model = await OnnxModel.load(bytes, { threads: 1 });
    expect(model.inputShape).toEqual([1, 3, 64, 64]);
    expect(model.outputNames).toEqual(['output0', 'output1', 'output2']);
    const outputs = await model.run(new Float32Array(3 * 64 * 64).fill(0.5));
    expect(outputs.map((o) => o.length)).toEqual([18 * 64, 18 * 16, 18 * 4]);
    expect(outputs.every((o) => o.every(Number.isFinite))).toBe(true);
    // Deterministic: the same input gives the same output.
    const again = await model.run(new Float32Array(3 * 64 * 64).fill(0.5));
    expect(Buffer.from(again[2]!.buffer).equals(Buffer.from(outputs[2]!.buffer))).toBe(true);
    await expect(model.run(new Float32Array(10))).rejects.toThrow(/needs 12288/);
    await model.dispose();
    await expect(model.run(new Float32Array(3 * 64 * 64))).rejects.toThrow(/after dispose/);
  });
});
