import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import * as ort from 'onnxruntime-node';

export interface MeasureOptions {
  /** Timed runs (default 50). */
  runs?: number;
  /** Untimed runs first: allocations, kernel selection, caches (default 5). */
  warmup?: number;
  /** onnxruntime intra-op threads (default: the number of cores). */
  threads?: number;
  /**
   * What a run's time is: wall clock (default), or the CPU time this process used (user + system),
   * which on a busy machine excludes the time the scheduler kept the run waiting. CPU time is only
   * meaningful with one thread: pool threads' spinning counts as CPU time.
   */
  clock?: 'wall' | 'cpu';
}

export interface LatencyTiming {
  medianMs: number;
  p90Ms: number;
  meanMs: number;
  minMs: number;
  runs: number;
  threads: number;
}

/** Nearest-rank percentile of ascending values. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) throw new Error('percentile of no values');
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarizeTimes(times: number[], threads: number): LatencyTiming {
  const sorted = [...times].sort((a, b) => a - b);
  const n = sorted.length;
  const median = n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  return {
    medianMs: median,
    p90Ms: percentile(sorted, 90),
    meanMs: sorted.reduce((a, b) => a + b, 0) / n,
    minMs: sorted[0]!,
    runs: n,
    threads,
  };
}

/**
 * Times an ONNX model (bytes or a path) in onnxruntime-node on this machine's CPU: one session with
 * the given intra-op threads and full graph optimization, `warmup` untimed runs, then `runs` timed
 * runs on a fixed random input; each timed run ends when its outputs are back in JS memory.
 * Symbolic input dimensions are taken as 1.
 */
export async function measureOnnx(
  model: Uint8Array | string,
  opts: MeasureOptions = {},
): Promise<LatencyTiming> {
  const runs = opts.runs ?? 50;
  const warmup = opts.warmup ?? 5;
  const threads = opts.threads ?? Math.max(1, cpus().length);
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`measureOnnx: runs must be a positive integer, got ${runs}`);
  if (!Number.isInteger(warmup) || warmup < 0) throw new Error(`measureOnnx: bad warmup ${warmup}`);
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`measureOnnx: bad threads ${threads}`);
  const bytes = typeof model === 'string' ? new Uint8Array(readFileSync(model)) : model;
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const meta of session.inputMetadata) {
      if (!meta.isTensor) throw new Error(`measureOnnx: input ${meta.name} is not a tensor`);
      const shape = meta.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
      feeds[meta.name] = randomTensor(meta.type, shape);
    }
    const once = async () => {
      const out = await session.run(feeds);
      // Touch every output so the time includes handing the results to JS.
      for (const t of Object.values(out)) void t.data;
    };
    for (let i = 0; i < warmup; i++) await once();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      if (opts.clock === 'cpu') {
        const c0 = process.cpuUsage();
        await once();
        const c = process.cpuUsage(c0);
        times.push((c.user + c.system) / 1e3);
      } else {
        const t0 = performance.now();
        await once();
        times.push(performance.now() - t0);
      }
    }
    return summarizeTimes(times, threads);
  } finally {
    await session.release();
  }
}

function randomTensor(type: string, shape: number[]): ort.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  // A fixed pseudo-random image in 0..1: timing must not depend on the input, but zeros could take
  // shortcuts (denormals, sparse paths) that real images do not.
  let s = 12345;
  const next = () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  if (type === 'float32') return new ort.Tensor('float32', Float32Array.from({ length: size }, next), shape);
  if (type === 'uint8')
    return new ort.Tensor(
      'uint8',
      Uint8Array.from({ length: size }, () => Math.floor(next() * 255)),
      shape,
    );
  throw new Error(`measureOnnx: unsupported input type ${type}`);
}
