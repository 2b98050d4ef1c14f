import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseGenome } from '@detsearch/genome';
import {
  calibrateByMeasuring,
  calibrateHost,
  ensureHostProfile,
  getHardwareProfile,
  hostChannelTile,
  hostCpu,
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

describe('host self-calibration', () => {
  it('measures a balanced sample, stores the fit with this CPU key and channel block, then reuses it', async () => {
    const home = mkdtempSync(join(tmpdir(), 'detsearch-host-cal-'));
    try {
      const cal = await calibrateHost({ home, genomes: 4, runs: 2, passes: 1, clock: 'cpu', seed: 'spec' });
      // 4 genomes: one per precision x activation pair.
      expect(
        cal.measurements.map((m) => `${m.genome.quantization.precision}/${m.genome.activation}`).sort(),
      ).toEqual(['fp32/relu', 'fp32/silu', 'int8/relu', 'int8/silu']);
      expect(cal.profile.calibration).toMatchObject({ basis: 'host', hostKey: hostCpu().key });
      expect(cal.profile.channelTile).toBe(hostChannelTile(hostCpu()));
      expect(existsSync(cal.path)).toBe(true);
      const again = await ensureHostProfile({ home });
      expect(again.calibrated).toBeNull();
      expect(again.profile.channelTile).toBe(cal.profile.channelTile);
      expect(again.profile.byPrecision).toEqual(cal.profile.byPrecision);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
