import { describe, expect, it } from 'vitest';
import { parseGenome } from '@detsearch/genome';
import {
  calibrateByMeasuring,
  getHardwareProfile,
  measureGenomes,
  measureOnnxCpuTime,
} from '@detsearch/latency';
import { buildIR, initWeights } from '@detsearch/genome';
import { buildOnnxModel } from '@detsearch/model-onnx';

// Real export + onnxruntime on tiny models: the path `detsearch calibrate` and bench/latency.ts take.
const tiny = [
  parseGenome({ depthMultiple: 0.33, widthMultiple: 0.125, imageSize: 64, numClasses: 2 }),
  parseGenome({
    depthMultiple: 0.33,
    widthMultiple: 0.25,
    imageSize: 96,
    numClasses: 2,
    separable: [3, 4],
    quantization: { precision: 'int8' },
  }),
];

describe('measuring genomes on this host', () => {
  it('exports and measures fp32 and int8 genomes, then fits the host profile to them', async () => {
    const host = getHardwareProfile('host', { fittedDir: null });
    const progress: number[] = [];
    const result = await calibrateByMeasuring(host, tiny, {
      runs: 3,
      warmup: 1,
      passes: 2,
      clock: 'cpu',
      onProgress: (done) => progress.push(done),
    });
    expect(progress).toEqual([1, 2]);
    expect(result.measurements).toHaveLength(2);
    for (const m of result.measurements) {
      expect(m.medianMs).toBeGreaterThan(0);
      expect(m.onnxBytes).toBeGreaterThan(1000);
    }
    expect(result.fits.map((f) => f.precision).sort()).toEqual(['fp32', 'int8']);
    expect(result.profile.calibration?.notes).toMatch(/cpu clock/);
  });

  it('times by CPU time on one thread and refuses the cpu clock with more threads', async () => {
    const ir = buildIR(tiny[0]!);
    const m = await measureOnnxCpuTime(buildOnnxModel(ir, initWeights(ir), { precision: 'fp32' }), {
      runs: 4,
      warmup: 1,
    });
    expect(m).toMatchObject({ runs: 4, threads: 1 });
    expect(m.minMs).toBeGreaterThan(0);
    await expect(measureGenomes(tiny, { clock: 'cpu', threads: 2 })).rejects.toThrow(/one intra-op thread/);
  });
});
