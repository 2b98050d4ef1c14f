import { measureOnnx, type LatencyTiming } from './measure';
/**
 * Like measureOnnx, but each run's time is the CPU time this process used (user + system), with one
 * intra-op thread. On a machine shared with other work a run's wall time mostly measures how long
 * the scheduler kept it waiting (measured on this project's 2-core host at load 18: wall 28-36 ms,
 * CPU 8.2-8.7 ms for the same model); with a single thread, CPU time is the latency the model would
 * have on an idle core. Not for multi-threaded runs: pool threads' spinning counts as CPU time.
 */
export function measureOnnxCpuTime(
  model: Uint8Array | string,
  opts: { runs?: number; warmup?: number } = {},
): Promise<LatencyTiming> {
  return measureOnnx(model, { ...opts, threads: 1, clock: 'cpu' });
}
