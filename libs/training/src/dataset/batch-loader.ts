import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { type AugmentOptions, DEFAULT_AUGMENT } from './augment';
import type { BatchWorkerData, BatchWorkerReply } from './batch-worker';
import { type Batch, type BatchTask, type PipelineConfig, SamplePipeline } from './pipeline';
import { DataRng, permutation } from './rng';
import type { YoloSample } from './types';

export interface BatchLoaderOptions {
  batchSize: number;
  /** Square side the images are letterboxed (and augmented) to. */
  imageSize: number;
  /** true: DEFAULT_AUGMENT (hyp.scratch-low, mosaic off); an object overrides single values. */
  augment?: boolean | Partial<AugmentOptions>;
  seed?: number | string;
  /** Worker threads; 0 builds batches on the calling thread. Default: cores - 1, at most 4. */
  workers?: number;
  /** Shuffle each epoch (default true when augmenting). */
  shuffle?: boolean;
  /** Drop a short last batch (default false). */
  dropLast?: boolean;
  /** Batches built ahead of the consumer (default 2 per worker, at least 1). */
  prefetch?: number;
  /** Decoded-image cache budget over all workers, bytes (default 1 GiB). */
  cacheBytes?: number;
}

export interface BatchLoader extends AsyncIterable<Batch> {
  readonly numSamples: number;
  readonly batchesPerEpoch: number;
  /** Batches of one epoch, in order; deterministic given the seed and the epoch number. */
  epoch(epoch: number): AsyncIterableIterator<Batch>;
  /** Ends the worker threads; the loader is unusable afterwards. */
  close(): Promise<void>;
}

/** The worker entry next to this file: JS when compiled, TS through swc-node under vitest or bench. */
function workerEntry(): { file: string; execArgv: string[] } {
  if (!__filename.endsWith('.ts')) return { file: join(__dirname, 'batch-worker.js'), execArgv: [] };
  let register = '@swc-node/register';
  try {
    register = require.resolve('@swc-node/register');
    // Keep swc's native binding loaded by this thread: when the last worker holding it exits the
    // library is unloaded, and loading it again in a new worker segfaults (seen under vitest).
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- dev-only side effect, TS mode only
    require('@swc/core');
  } catch {
    // Resolved by node from the working directory instead.
  }
  return { file: join(__dirname, 'batch-worker.ts'), execArgv: ['-r', register] };
}

interface Pending {
  resolve: (b: Batch) => void;
  reject: (e: Error) => void;
}

/** A fixed set of worker threads building batches; each worker caches the images it decoded. */
class WorkerPool {
  private readonly workers: (Worker | null)[];
  private readonly busy: number[];
  private readonly pending = new Map<number, Pending & { worker: number }>();
  private readonly queue: { id: number; task: BatchTask }[] = [];
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly size: number,
    private readonly data: BatchWorkerData,
  ) {
    this.workers = new Array<Worker | null>(size).fill(null);
    this.busy = new Array<number>(size).fill(0);
  }

  run(task: BatchTask): Promise<Batch> {
    if (this.closed) return Promise.reject(new Error('batch loader is closed'));
    const id = this.nextId++;
    return new Promise<Batch>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker: -1 });
      this.queue.push({ id, task });
      this.dispatch();
    });
  }

  private spawn(w: number): Worker {
    const entry = workerEntry();
    const worker = new Worker(entry.file, { workerData: this.data, execArgv: entry.execArgv });
    worker.on('message', (msg: BatchWorkerReply) => {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      this.busy[w]!--;
      if (this.busy[w] === 0) worker.unref();
      if (p) {
        if ('error' in msg) p.reject(new Error(msg.error));
        else p.resolve(msg.batch);
      }
      this.dispatch();
    });
    const die = (err: Error) => {
      if (this.workers[w] !== worker) return;
      this.workers[w] = null;
      this.busy[w] = 0;
      for (const [id, p] of this.pending)
        if (p.worker === w) {
          this.pending.delete(id);
          p.reject(new Error(`batch worker failed: ${err.message}`));
        }
      this.dispatch();
    };
    worker.on('error', die);
    worker.on('exit', (code) => {
      if (!this.closed) die(new Error(`exited with code ${code}`));
    });
    this.workers[w] = worker;
    return worker;
  }

  private dispatch(): void {
    while (this.queue.length > 0 && !this.closed) {
      // Least-loaded worker; each takes at most two tasks so a slow one does not hoard the queue.
      let w = 0;
      for (let i = 1; i < this.size; i++) if (this.busy[i]! < this.busy[w]!) w = i;
      if (this.busy[w]! >= 2) return;
      const item = this.queue.shift()!;
      const worker = this.workers[w] ?? this.spawn(w);
      this.pending.get(item.id)!.worker = w;
      this.busy[w]!++;
      worker.ref();
      worker.postMessage(item);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.pending.values()) p.reject(new Error('batch loader closed'));
    this.pending.clear();
    await Promise.all(
      this.workers.map((w) => {
        if (!w) return undefined;
        const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
        w.postMessage({ close: true });
        // A worker stuck in a long batch is stopped the hard way after a grace period.
        const timer = setTimeout(() => void w.terminate(), 10_000);
        return exited.finally(() => clearTimeout(timer));
      }),
    );
    this.workers.fill(null);
  }
}

/**
 * Batches of letterboxed (and optionally augmented) images, built off the event loop by worker
 * threads, yielded in order through async iteration. Iterating the loader itself runs the next
 * epoch (0, 1, ...); `epoch(n)` runs a given one. Same samples, options and seed: same batches,
 * whatever the number of workers.
 */
export function createBatchLoader(samples: YoloSample[], opts: BatchLoaderOptions): BatchLoader {
  if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new RangeError('batchSize must be >= 1');
  if (!Number.isInteger(opts.imageSize) || opts.imageSize < 32)
    throw new RangeError('imageSize must be >= 32');
  const augment: AugmentOptions | null =
    opts.augment === true
      ? { ...DEFAULT_AUGMENT }
      : opts.augment
        ? { ...DEFAULT_AUGMENT, ...opts.augment }
        : null;
  const seed = String(opts.seed ?? 0);
  const shuffle = opts.shuffle ?? augment !== null;
  const workers = Math.max(0, opts.workers ?? Math.min(4, Math.max(1, availableParallelism() - 1)));
  const prefetch = Math.max(1, opts.prefetch ?? 2 * Math.max(1, workers));
  const cacheBytes = opts.cacheBytes ?? 1 << 30;
  const config: PipelineConfig = {
    imageSize: opts.imageSize,
    augment,
    seed,
    cacheBytes: Math.floor(cacheBytes / Math.max(1, workers)),
  };
  const n = samples.length;
  const batchesPerEpoch = opts.dropLast ? Math.floor(n / opts.batchSize) : Math.ceil(n / opts.batchSize);
  let local: SamplePipeline | null = null;
  const pool = workers > 0 ? new WorkerPool(workers, { samples, config }) : null;
  let nextEpoch = 0;

  const build = (task: BatchTask): Promise<Batch> => {
    if (pool) return pool.run(task);
    local ??= new SamplePipeline(samples, config);
    try {
      return Promise.resolve(local.assemble(task));
    } catch (err) {
      return Promise.reject(err);
    }
  };

  async function* epoch(e: number): AsyncIterableIterator<Batch> {
    const order = shuffle
      ? permutation(n, new DataRng(`${seed}|order|${e}`))
      : Array.from({ length: n }, (_, i) => i);
    const tasks: BatchTask[] = [];
    for (let b = 0; b < batchesPerEpoch; b++) {
      const positions: number[] = [];
      for (let p = b * opts.batchSize; p < Math.min(n, (b + 1) * opts.batchSize); p++) positions.push(p);
      tasks.push({ epoch: e, index: b, positions, indices: positions.map((p) => order[p]!) });
    }
    const inflight: Promise<Batch>[] = [];
    let issued = 0;
    try {
      for (let b = 0; b < tasks.length; b++) {
        while (issued < tasks.length && issued < b + prefetch) {
          const p = build(tasks[issued++]!);
          p.catch(() => undefined); // rejections surface when awaited in order
          inflight.push(p);
        }
        yield await inflight.shift()!;
      }
    } finally {
      // Abandoned batches finish on their workers and are dropped.
      inflight.length = 0;
    }
  }

  return {
    numSamples: n,
    batchesPerEpoch,
    epoch,
    [Symbol.asyncIterator]: () => epoch(nextEpoch++),
    close: async () => {
      await pool?.close();
      local = null;
    },
  };
}
