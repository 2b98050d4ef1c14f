import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { summarizeTimes, type LatencyMeasurement } from './measure';

/**
 * Like measureOnnx, but each run's time is the CPU time this process used (user + system), with one
 * intra-op thread. On a machine shared with other work a run's wall time mostly measures how long
 * the scheduler kept it waiting (measured on this project's 2-core host at load 18: wall 28-36 ms,
 * CPU 8.2-8.7 ms for the same model); with a single thread, CPU time is the latency the model would
 * have on an idle core. Not for multi-threaded runs: pool threads' spinning counts as CPU time.
 */
export async function measureOnnxCpuTime(
  model: Uint8Array | string,
  opts: { runs?: number; warmup?: number } = {},
): Promise<LatencyMeasurement> {
  const runs = opts.runs ?? 50;
  const warmup = opts.warmup ?? 5;
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`measureOnnxCpuTime: runs must be a positive integer, got ${runs}`);
  const bytes = typeof model === 'string' ? new Uint8Array(readFileSync(model)) : model;
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  try {
    const feeds: Record<string, ort.Tensor> = {};
    let s = 12345;
    const next = () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (const meta of session.inputMetadata) {
      if (!meta.isTensor || meta.type !== 'float32')
        throw new Error(`measureOnnxCpuTime: input ${meta.name} is not a float32 tensor`);
      const shape = meta.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
      feeds[meta.name] = new ort.Tensor(
        'float32',
        Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, next),
        shape,
      );
    }
    const once = async () => {
      const out = await session.run(feeds);
      for (const t of Object.values(out)) void t.data;
    };
    for (let i = 0; i < warmup; i++) await once();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const c0 = process.cpuUsage();
      await once();
      const c = process.cpuUsage(c0);
      times.push((c.user + c.system) / 1e3);
    }
    return summarizeTimes(times, 1);
  } finally {
    await session.release();
  }
}
