import { describe, expect, it } from 'vitest';
import { parseGenome } from '@detsearch/genome';
import { getHardwareProfile } from '@detsearch/latency';
import { reportedLatency } from './full';

const genome = parseGenome({ depthMultiple: 0.33, widthMultiple: 0.25, imageSize: 160, numClasses: 6 });
const result = {
  latencyMs: 9.5,
  measuredLatencyMs: 4.2,
  measuredLatencyRuns: 30,
  measuredLatencyThreads: 1,
  imageSize: 160,
};

describe('the latency a trained trial reports', () => {
  it('on host: the latency measured here, saying where and with how many threads', () => {
    const r = reportedLatency({ hardwareProfile: 'host', genome }, result);
    expect(r).toMatchObject({ latencyMs: 4.2, latencySource: 'measured' });
    expect(r.latencyProvenance).toMatch(
      /^measured on this host \(.+\) with onnxruntime CPU, 1 thread, median of 30 runs$/,
    );
  });

  it('on host but measured at another training size: the prediction, saying so', () => {
    const r = reportedLatency({ hardwareProfile: 'host', genome }, { ...result, imageSize: 128 }, () =>
      getHardwareProfile('host', { fittedDir: null }),
    );
    expect(r).toEqual({
      latencyMs: 9.5,
      latencySource: 'predicted',
      latencyProvenance: 'predicted for host (uncalibrated datasheet profile)',
    });
  });

  it('on a device profile: its prediction and what it is calibrated on', () => {
    const r = reportedLatency({ hardwareProfile: 'jetson-nano', genome }, result, () =>
      getHardwareProfile('jetson-nano', { fittedDir: null }),
    );
    expect(r).toEqual({
      latencyMs: 9.5,
      latencySource: 'predicted',
      latencyProvenance:
        'predicted for jetson-nano (roofline fitted to 5 published figures listed in its profile)',
    });
  });
});
