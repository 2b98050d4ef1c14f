import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import seedrandom from 'seedrandom';
import { genomeKey, type Genome, type WeightMap } from '@detsearch/genome';
import { decodeWeights, encodeWeights } from '@detsearch/model-onnx';
import { initBackend, TfjsDetector } from '@detsearch/model-tfjs';
import { compileSearchSpace } from '@detsearch/search-space';
import {
  canonicalName,
  createBatchLoader,
  distillationLoss,
  evaluateWeights,
  prepareDataset,
  runInChild,
  scaledLossHyp,
  SCRATCH_LOW_LOSS,
  type Batch,
  type BatchLoader,
  type PreparedDataset,
  yoloLoss,
} from '@detsearch/training';
import { scatterAdd, scatterSet } from './channels';
import { supernetChildEntry } from './child-entry-path';
import { extractPlan, subnet, type Subnet } from './extract';
import { reorderByImportance } from './importance';
import { recalibrateBatchNorm } from './recalibrate';
import { largestGenome, sampleGenome, smallestGenome, spaceImageSizes, spaceSeparableRows } from './space';
import { initSupernet, loadSupernet, saveSupernet, saveSupernetSets } from './supernet-file';
import type {
  SupernetMetrics,
  SupernetProgress,
  SupernetWeights,
  TrainSupernetOptions,
  TrainSupernetResult,
} from './types';

/**
 * Version of the training recipe (stages, losses, defaults). Supernets trained with another one are
 * not reused: version 1 weighted distillation 20x over the labels and trained sub-networks poorly;
 * version 2's sandwich trained a dense smallest network, so separable weights learned only when a
 * random sub-network drew them; version 3 shared one weight set across image sizes (the product now
 * trains one per size, which ranks sizes like standalone training does).
 */
export const SUPERNET_RECIPE = 4;

/** What a checkpoint records besides the tensors: where training stands. */
interface CheckpointState {
  /** Identity of the run: a checkpoint of another space, activation or dataset is never resumed. */
  fingerprint: string;
  step: number;
  adamT: number;
  elapsedMs: number;
  resumed: number;
}

const CHECKPOINT = 'checkpoint.safetensors';
const FINAL = 'supernet.safetensors';
const RESULT = 'result.json';
const MOMENT_M = 'adam_m/';
const MOMENT_V = 'adam_v/';
const DEFAULT_LR0 = 0.004;
const LRF = 0.01;
const BETA1 = 0.937;
const BETA2 = 0.999;
const WEIGHT_DECAY = 0.0005;
const MAX_GRAD_NORM = 10;
const BN_IMAGES = 128;
/*
 * In-place distillation is off by default: on the benchmark space at these budgets (hundreds of
 * steps) it lowered both the largest and the smallest sub-network's mAP even weighted like the
 * labels and ramped in (docs/supernet.md has the numbers); a teacher at mAP 0.03 has little to teach.
 */
const DEFAULT_DISTILL_WEIGHT = 0;
const DEFAULT_DISTILL_RAMP = 0.5;
const DEFAULT_LARGEST_FIRST = 0.25;

/**
 * Trains a supernet. For the first `largestFirst` of training only the largest network trains
 * (Once-for-All's progressive shrinking, first stage); then the BigNAS/AttentiveNAS sandwich rule:
 * each step the largest, the smallest (every separable row substituted: the least compute) and
 * `randomSubnets` random sub-networks of the space run on
 * the same batch at one sampled image size, all learning from the labels, the others optionally
 * also from the largest's outputs (in-place distillation, `distillWeight`). Every sub-network is an ordinary TfjsDetector built from sliced weights;
 * its gradients are scattered back into supernet-sized buffers and one AdamW step updates the
 * supernet's Float32Arrays. Channels are reordered by importance after every epoch. Checkpoints
 * (weights, optimizer moments, step, training time) go to outDir every `checkpointSeconds` and at
 * epoch ends; a new call with the same outDir continues from the last one, and returns the stored
 * result when the run had finished. Runs in a child process unless `inProcess`.
 */
export async function trainSupernet(opts: TrainSupernetOptions): Promise<TrainSupernetResult> {
  const sizes = opts.perSize ? supernetTrainingSizes(opts.space, opts.imageSizes) : [];
  if (sizes.length > 1) return trainPerSize(opts, sizes);
  if (opts.inProcess) return trainSupernetInProcess(opts, opts.onProgress);
  const { signal, onProgress, ...payload } = opts;
  return runInChild<TrainSupernetResult>('supernet-train', payload, {
    entry: supernetChildEntry(),
    signal,
    onProgress: (p) => onProgress?.(p as SupernetProgress),
  });
}

/** The largest image size a supernet trains at by default: supernets train at the small end of a space. */
export const SUPERNET_MAX_TRAIN_SIZE = 160;

/**
 * The image sizes a supernet trains at: the ones asked for, else the space's up to
 * SUPERNET_MAX_TRAIN_SIZE, else its smallest. Larger sizes are scored on the nearest trained one.
 */
export function supernetTrainingSizes(spec: TrainSupernetOptions['space'], requested?: number[]): number[] {
  if (requested?.length) return [...new Set(requested)].sort((a, b) => a - b);
  const all = [...spaceImageSizes(compileSearchSpace(spec))].sort((a, b) => a - b);
  const small = all.filter((s) => s <= SUPERNET_MAX_TRAIN_SIZE);
  return small.length ? small : [all[0]!];
}

/** Folder of one size's run under a per-size supernet's outDir (its checkpoints and result). */
export const perSizeDir = (outDir: string, imageSize: number) => join(outDir, `size-${imageSize}`);

/**
 * Per-size training: one ordinary run per size in its own outDir (so each resumes from its own
 * checkpoints after a kill, and a finished size is not trained again), all at once (one process
 * each; in this process one after another), then the sets merged into one file. The first failure
 * stops the others.
 */
async function trainPerSize(opts: TrainSupernetOptions, sizes: number[]): Promise<TrainSupernetResult> {
  const outDir = resolve(opts.outDir);
  await mkdir(outDir, { recursive: true });
  const fingerprint = JSON.stringify({
    perSize: sizes,
    run: fingerprintOf({ ...opts, imageSizes: undefined }),
  });
  const resultPath = join(outDir, RESULT);
  const weightsPath = join(outDir, FINAL);
  const stored = finishedRun(outDir, fingerprint);
  if (stored) return stored;
  const stop = new AbortController();
  const onAbort = () => stop.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const latest = new Map<number, SupernetProgress>();
  const report = (imageSize: number, p: SupernetProgress) => {
    latest.set(imageSize, p);
    opts.onProgress?.(combineProgress(sizes, latest));
  };
  const one = async (imageSize: number) => {
    const r = await trainSupernet({
      ...opts,
      perSize: false,
      imageSizes: [imageSize],
      outDir: perSizeDir(outDir, imageSize),
      signal: stop.signal,
      onProgress: (p) => report(imageSize, p),
    });
    // A size finished before this call reports nothing while returning its stored result.
    const p = latest.get(imageSize);
    report(imageSize, {
      epoch: Math.floor(r.epochs),
      step: 0,
      stepsPerEpoch: p?.stepsPerEpoch ?? 0,
      elapsedMs: r.minutes * 60_000,
      etaMs: 0,
      loss: p?.loss ?? 0,
      phase: 'done',
    });
    return r;
  };
  let results: TrainSupernetResult[];
  try {
    if (opts.inProcess) {
      results = [];
      for (const size of sizes) results.push(await one(size));
    } else {
      // The first failure is the cause; the others' are its consequence (they were stopped).
      let cause: { error: unknown } | undefined;
      const runs = sizes.map((size) =>
        one(size).catch((e: unknown) => {
          cause ??= { error: e };
          stop.abort(e);
          throw e;
        }),
      );
      const settled = await Promise.allSettled(runs);
      if (cause) throw cause.error;
      results = settled.map((r) => (r as PromiseFulfilledResult<TrainSupernetResult>).value);
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  const sets = sizes.map((imageSize, i) => ({ imageSize, supernet: loadSupernet(results[i]!.weightsPath) }));
  const last = results[results.length - 1]!;
  const metrics: SupernetMetrics = {
    ...last.metrics,
    steps: results.reduce((n, r) => n + r.metrics.steps, 0),
    imageSizes: sizes,
    perSize: results.map((r, i) => ({
      imageSize: sizes[i]!,
      largestMap50: r.metrics.largestMap50,
      largestMap50_95: r.metrics.largestMap50_95,
      smallestMap50: r.metrics.smallestMap50,
      smallestMap50_95: r.metrics.smallestMap50_95,
      steps: r.metrics.steps,
      epochs: r.epochs,
      minutes: r.minutes,
    })),
  };
  saveSupernetSets(weightsPath, sets, {
    metrics: JSON.stringify(metrics),
    space: JSON.stringify(opts.space),
  });
  const result: TrainSupernetResult = {
    weightsPath,
    epochs: Math.min(...results.map((r) => r.epochs)),
    minutes: Math.max(...results.map((r) => r.minutes)),
    metrics,
    status: results.some((r) => r.status === 'budget') ? 'budget' : 'completed',
    resumed: Math.max(...results.map((r) => r.resumed)),
  };
  await writeFile(resultPath, JSON.stringify({ fingerprint, result }, null, 2));
  return result;
}

const PHASES: SupernetProgress['phase'][] = ['prepare', 'train', 'checkpoint', 'evaluate', 'done'];

/** One progress line over concurrent per-size runs: the least advanced running one, the longest times. */
export function combineProgress(sizes: number[], latest: Map<number, SupernetProgress>): SupernetProgress {
  const runs = sizes.map((imageSize) => ({
    imageSize,
    ...(latest.get(imageSize) ?? {
      epoch: 0,
      step: 0,
      stepsPerEpoch: 0,
      elapsedMs: 0,
      etaMs: 0,
      loss: 0,
      phase: 'prepare' as const,
    }),
  }));
  const fraction = (p: SupernetProgress) => p.epoch + (p.stepsPerEpoch ? p.step / p.stepsPerEpoch : 0);
  const running = runs.filter((r) => r.phase !== 'done');
  const behind = (running.length ? running : runs).reduce((a, b) => (fraction(b) < fraction(a) ? b : a));
  const training = runs.filter((r) => r.stepsPerEpoch > 0);
  const rank = (phase: SupernetProgress['phase']) => PHASES.indexOf(phase === 'checkpoint' ? 'train' : phase);
  return {
    epoch: behind.epoch,
    step: behind.step,
    stepsPerEpoch: behind.stepsPerEpoch,
    elapsedMs: Math.max(...runs.map((r) => r.elapsedMs)),
    etaMs: Math.max(...runs.map((r) => r.etaMs)),
    loss: training.length ? training.reduce((n, r) => n + r.loss, 0) / training.length : 0,
    phase: runs.reduce((a, b) => (rank(b.phase) < rank(a.phase) ? b : a)).phase,
    sizes: runs.map(({ sizes: _nested, ...r }) => r),
  };
}

/** What makes two calls the same run: a checkpoint or result of another one is never taken over. */
function fingerprintOf(opts: TrainSupernetOptions): string {
  return JSON.stringify({
    space: opts.space,
    activation: opts.activation,
    dataset: opts.dataset,
    imageSizes: opts.imageSizes ?? null,
    seed: opts.seed,
    batchSize: opts.batchSize ?? 8,
    randomSubnets: opts.randomSubnets ?? 1,
    ...(opts.depthFirst ? { depthFirst: opts.depthFirst } : {}),
    maxBatchesPerEpoch: opts.maxBatchesPerEpoch ?? null,
    ...(opts.separableSmallest === false ? { separableSmallest: false } : {}),
  });
}

/** The stored result of a run that finished in outDir, if any; one of another run is refused. */
function finishedRun(outDir: string, fingerprint: string): TrainSupernetResult | null {
  const resultPath = join(outDir, RESULT);
  if (!existsSync(resultPath) || !existsSync(join(outDir, FINAL))) return null;
  const done = JSON.parse(readFileSync(resultPath, 'utf8')) as {
    fingerprint: string;
    result: TrainSupernetResult;
  };
  if (done.fingerprint !== fingerprint) throw anotherRun(resultPath);
  return done.result;
}

function anotherRun(path: string): Error {
  return new Error(
    `${path}: from another run (space, activation, dataset or settings differ); use another outDir`,
  );
}

/** The training loop itself (the child process runs this). */
export async function trainSupernetInProcess(
  opts: TrainSupernetOptions,
  onProgress: (p: SupernetProgress) => void = () => undefined,
): Promise<TrainSupernetResult> {
  if (opts.perSize && supernetTrainingSizes(opts.space, opts.imageSizes).length > 1)
    return trainSupernet({ ...opts, inProcess: true, onProgress });
  const outDir = resolve(opts.outDir);
  await mkdir(outDir, { recursive: true });
  const fingerprint = fingerprintOf(opts);
  const resultPath = join(outDir, RESULT);
  const stored = finishedRun(outDir, fingerprint);
  if (stored) return stored;
  const runStart = performance.now();
  await initBackend('wasm', { log: () => undefined });
  const data = await prepareDataset(opts.dataset, outDir);
  const space = compileSearchSpace(opts.space);
  const nc = data.numClasses;
  const gOpts = { activation: opts.activation, numClasses: nc };
  const largest = largestGenome(space, gOpts);
  const smallest = smallestGenome(space, gOpts);
  const sandwichSmallest =
    (opts.separableSmallest ?? true) ? { ...smallest, separable: spaceSeparableRows(space) } : smallest;
  const imageSizes = supernetTrainingSizes(opts.space, opts.imageSizes);
  const maxSize = imageSizes[imageSizes.length - 1]!;
  const batchSize = opts.batchSize ?? 8;
  const epochs = opts.epochs ?? (opts.minutes !== undefined ? 1000 : 10);
  const budgetMs = opts.minutes !== undefined ? opts.minutes * 60_000 : Infinity;
  const randomSubnets = opts.randomSubnets ?? 1;
  const distillWeight = opts.distillWeight ?? DEFAULT_DISTILL_WEIGHT;
  const distillRamp = opts.distillRamp ?? DEFAULT_DISTILL_RAMP;
  const largestFirst = opts.largestFirst ?? DEFAULT_LARGEST_FIRST;
  const depthFirst = opts.depthFirst ?? 0;
  const lr0 = opts.lr0 ?? DEFAULT_LR0;
  const checkpointMs = (opts.checkpointSeconds ?? 60) * 1000;

  // State: a checkpoint of this very run, or a fresh seeded supernet.
  let sn: SupernetWeights;
  const m: WeightMap = new Map();
  const v: WeightMap = new Map();
  let state: CheckpointState;
  const ckptPath = join(outDir, CHECKPOINT);
  if (existsSync(ckptPath)) {
    const file = decodeWeights(new Uint8Array(readFileSync(ckptPath)));
    const saved = JSON.parse(file.metadata.state ?? '{}') as CheckpointState;
    if (saved.fingerprint !== fingerprint) throw anotherRun(ckptPath);
    const loaded = loadSupernet(ckptPath);
    sn = {
      largest: loaded.largest,
      separableRows: loaded.separableRows,
      activation: loaded.activation,
      weights: new Map(),
      shapes: new Map(),
    };
    for (const [name, w] of loaded.weights) {
      if (name.startsWith(MOMENT_M)) m.set(name.slice(MOMENT_M.length), w);
      else if (name.startsWith(MOMENT_V)) v.set(name.slice(MOMENT_V.length), w);
      else {
        sn.weights.set(name, w);
        sn.shapes.set(name, loaded.shapes.get(name)!);
      }
    }
    state = { ...saved, resumed: saved.resumed + 1 };
  } else {
    sn = initSupernet(largest, spaceSeparableRows(space), { seed: opts.seed });
    state = { fingerprint, step: 0, adamT: 0, elapsedMs: 0, resumed: 0 };
  }
  for (const [name, w] of sn.weights) {
    if (!m.has(name)) m.set(name, new Float32Array(w.length));
    if (!v.has(name)) v.set(name, new Float32Array(w.length));
  }
  const grads: WeightMap = new Map([...sn.weights].map(([k, w]) => [k, new Float32Array(w.length)]));

  const loader: BatchLoader = createBatchLoader(data.train, {
    batchSize,
    imageSize: maxSize,
    augment: true,
    seed: opts.seed,
    workers: 1,
    shuffle: true,
    dropLast: data.train.length >= batchSize,
  });
  const stepsPerEpoch = Math.min(loader.batchesPerEpoch, opts.maxBatchesPerEpoch ?? Infinity);
  const totalSteps = stepsPerEpoch * epochs;
  const warmup = Math.min(100, Math.floor(totalSteps / 10));
  const elapsed = () => state.elapsedMs + (performance.now() - runStart);
  const plans = new Map<string, Subnet>();
  const planOf = (g: Genome, size: number): Subnet => {
    const key = `${genomeKey(g)}@${size}`;
    let p = plans.get(key);
    if (!p) {
      p = subnet(sn, g, size);
      plans.set(key, p);
    }
    return p;
  };
  let lastCheckpoint = performance.now();
  let lastLoss = 0;
  const checkpoint = async () => {
    onProgress(progress('checkpoint'));
    const all: WeightMap = new Map(sn.weights);
    const shapes = new Map(sn.shapes);
    for (const [k, x] of m) {
      all.set(MOMENT_M + k, x);
      shapes.set(MOMENT_M + k, sn.shapes.get(k)!);
    }
    for (const [k, x] of v) {
      all.set(MOMENT_V + k, x);
      shapes.set(MOMENT_V + k, sn.shapes.get(k)!);
    }
    const bytes = encodeWeights(all, {
      shapes,
      metadata: {
        format: 'detsearch-supernet/1',
        largest: JSON.stringify(sn.largest),
        separableRows: JSON.stringify(sn.separableRows),
        activation: sn.activation,
        state: JSON.stringify({ ...state, elapsedMs: elapsed() }),
      },
    });
    // Write then rename: a kill mid-write leaves the previous checkpoint intact.
    await writeFile(`${ckptPath}.tmp`, bytes);
    await rename(`${ckptPath}.tmp`, ckptPath);
    lastCheckpoint = performance.now();
  };
  const progress = (phase: SupernetProgress['phase'], loss = lastLoss): SupernetProgress => {
    const ms = elapsed();
    const done = state.step / Math.max(totalSteps, 1);
    const etaSteps = done > 0 ? (ms / done) * (1 - done) : Infinity;
    return {
      epoch: Math.floor(state.step / Math.max(stepsPerEpoch, 1)),
      step: state.step % Math.max(stepsPerEpoch, 1),
      stepsPerEpoch,
      elapsedMs: ms,
      // 0 while unknown (no step yet and no time budget): progress crosses JSON.
      etaMs: Math.max(
        0,
        Number.isFinite(Math.min(etaSteps, budgetMs - ms)) ? Math.min(etaSteps, budgetMs - ms) : 0,
      ),
      loss,
      phase,
    };
  };

  let status: TrainSupernetResult['status'] = 'completed';
  onProgress(progress('prepare'));
  try {
    while (state.step < totalSteps) {
      if (elapsed() >= budgetMs) {
        status = 'budget';
        break;
      }
      const epoch = Math.floor(state.step / stepsPerEpoch);
      const skip = state.step % stepsPerEpoch;
      let index = 0;
      for await (const batch of loader.epoch(epoch)) {
        if (index++ < skip) continue;
        if (index > stepsPerEpoch) break;
        const rng = seedrandom(`${opts.seed}:${state.step}`);
        const size = imageSizes[Math.floor(rng() * imageSizes.length)]!;
        const progressFraction = Math.max(
          state.step / totalSteps,
          budgetMs < Infinity ? elapsed() / budgetMs : 0,
        );
        const lr =
          state.step < warmup
            ? (lr0 * (state.step + 1)) / (warmup + 1)
            : lr0 * ((1 - Math.min(progressFraction, 1)) * (1 - LRF) + LRF);
        const sandwichFraction =
          Math.max(0, progressFraction - largestFirst) / Math.max(1e-9, 1 - largestFirst);
        const randomOpts = { ...gOpts, fullWidth: sandwichFraction < depthFirst };
        const genomes =
          progressFraction < largestFirst
            ? [largest]
            : [
                largest,
                sandwichSmallest,
                ...Array.from({ length: randomSubnets }, () => sampleGenome(space, rng, randomOpts)),
              ];
        // Distillation ramps up over the sandwich phase, from 0 where it begins.
        const loss = sandwichStep(
          batch,
          size,
          maxSize,
          genomes.map((g) => planOf(g, size)),
          sn,
          grads,
          nc,
          distillRamp > 0 ? distillWeight * Math.min(1, sandwichFraction / distillRamp) : distillWeight,
        );
        if (!Number.isFinite(loss))
          throw new Error(`supernet training diverged at step ${state.step} (loss ${loss})`);
        state.adamT++;
        adamwStep(sn.weights, grads, m, v, state.adamT, lr, sn.shapes);
        state.step++;
        lastLoss = loss;
        onProgress(progress('train'));
        const epochEnd = state.step % stepsPerEpoch === 0;
        if (!epochEnd && performance.now() - lastCheckpoint >= checkpointMs) await checkpoint();
        if (elapsed() >= budgetMs || state.step % stepsPerEpoch === 0) break;
      }
      if (state.step % stepsPerEpoch === 0) {
        reorderByImportance(sn, [m, v]);
        plans.clear();
        await checkpoint();
      }
    }
    if (status === 'budget' || state.step % stepsPerEpoch !== 0) await checkpoint();
  } finally {
    await loader.close();
  }

  onProgress(progress('evaluate'));
  const metrics = await evaluateExtremes(sn, data, largest, smallest, maxSize, opts, imageSizes, state.step);
  const weightsPath = join(outDir, FINAL);
  saveSupernet(weightsPath, sn, { metrics: JSON.stringify(metrics), space: JSON.stringify(opts.space) });
  const result: TrainSupernetResult = {
    weightsPath,
    epochs: state.step / stepsPerEpoch,
    minutes: elapsed() / 60_000,
    metrics,
    status,
    resumed: state.resumed,
  };
  await writeFile(resultPath, JSON.stringify({ fingerprint, result }, null, 2));
  onProgress(progress('done'));
  return result;
}

/**
 * One sandwich step: forward/backward of each sub-network on the batch (resized to `size`), gradients
 * scattered into `grads` (zeroed first, clipped afterwards to a global norm of 10), the largest's
 * BatchNorm running statistics written back. Returns the largest's loss per image.
 */
function sandwichStep(
  batch: Batch,
  size: number,
  maxSize: number,
  subnets: Subnet[],
  sn: SupernetWeights,
  grads: WeightMap,
  nc: number,
  distillWeight: number,
): number {
  for (const g of grads.values()) g.fill(0);
  const lossHyp = scaledLossHyp(nc, size, 3, SCRATCH_LOW_LOSS);
  const x = tf.tidy(() => {
    const full = tf.tensor4d(batch.images, [batch.size, maxSize, maxSize, 3]);
    return size === maxSize ? full : tf.image.resizeBilinear(full, [size, size]);
  });
  let teacher: tf.Tensor4D[] | undefined;
  let largestLoss = NaN;
  try {
    subnets.forEach((s, i) => {
      const weights = extractPlan(sn, s.plan);
      const model = TfjsDetector.build(s.ir, weights);
      try {
        const params = model.trainableVariables();
        let outs: tf.Tensor4D[] = [];
        const { value, grads: g } = tf.variableGrads(() => {
          outs = model.forward(x, true);
          const l = yoloLoss(outs, batch.targets, { numClasses: nc, hyp: lossHyp });
          let total = l.total;
          if (teacher && distillWeight > 0)
            total = tf.add(
              total,
              distillationLoss(outs, teacher, { numClasses: nc, weight: distillWeight, gains: lossHyp }),
            );
          if (i === 0) teacher = outs.map((o) => tf.keep(o.clone()));
          return total;
        }, params);
        const lossValue = value.dataSync()[0]!;
        if (i === 0) largestLoss = lossValue / batch.size;
        value.dispose();
        const depthwise = new Set(
          s.ir.ops.filter((o) => o.kind === 'conv' && o.groups > 1).map((o) => `${o.name}.weight`),
        );
        const byName = new Map(s.plan.map((p) => [p.name, p]));
        for (const variable of params) {
          const name = canonicalName(variable);
          const grad = g[variable.name]!;
          const canonical = tf.tidy(() =>
            grad.rank === 4
              ? tf.transpose(grad, depthwise.has(name) ? [2, 3, 0, 1] : [3, 2, 0, 1])
              : grad.clone(),
          );
          scatterAdd(byName.get(name)!, canonical.dataSync() as Float32Array, grads.get(name)!);
          canonical.dispose();
        }
        tf.dispose(Object.values(g));
        if (i === 0) {
          // The running statistics follow the largest network; the others are recalibrated when scored.
          model.applyBatchNormUpdates();
          const exported = model.exportWeights();
          for (const p of s.plan)
            if (p.name.endsWith('running_mean') || p.name.endsWith('running_var'))
              scatterSet(p, exported.get(p.name)!, sn.weights.get(p.name)!);
        } else model.discardBatchNormUpdates();
      } finally {
        model.dispose();
      }
    });
  } finally {
    x.dispose();
    if (teacher) tf.dispose(teacher);
  }
  clipGrads(grads, MAX_GRAD_NORM);
  return largestLoss;
}

function clipGrads(grads: WeightMap, maxNorm: number): void {
  let sq = 0;
  for (const g of grads.values()) for (let i = 0; i < g.length; i++) sq += g[i]! * g[i]!;
  const norm = Math.sqrt(sq);
  if (norm <= maxNorm) return;
  const f = maxNorm / (norm + 1e-6);
  for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i]! *= f;
}

/**
 * torch.optim.AdamW on the supernet's Float32Arrays (decoupled weight decay on conv weights only, as
 * the trainer's parameter groups). Tensors no sub-network touched this step (all-zero gradient,
 * e.g. separable weights not sampled) are left alone, moments included.
 */
function adamwStep(
  weights: WeightMap,
  grads: WeightMap,
  m: WeightMap,
  v: WeightMap,
  t: number,
  lr: number,
  shapes: Map<string, number[]>,
): void {
  const c1 = 1 - BETA1 ** t;
  const sqrtC2 = Math.sqrt(1 - BETA2 ** t);
  for (const [name, w] of weights) {
    if (name.endsWith('running_mean') || name.endsWith('running_var')) continue;
    const g = grads.get(name)!;
    if (!g.some((x) => x !== 0)) continue;
    const mi = m.get(name)!;
    const vi = v.get(name)!;
    const keep = shapes.get(name)!.length === 4 ? 1 - lr * WEIGHT_DECAY : 1;
    const stepSize = lr / c1;
    for (let i = 0; i < w.length; i++) {
      const gi = g[i]!;
      const a = BETA1 * mi[i]! + (1 - BETA1) * gi;
      const b = BETA2 * vi[i]! + (1 - BETA2) * gi * gi;
      mi[i] = a;
      vi[i] = b;
      w[i] = w[i]! * keep - (stepSize * a) / (Math.sqrt(b) / sqrtC2 + 1e-8);
    }
  }
}

/** Validation mAP of the largest and smallest sub-networks, BatchNorm recalibrated on training images. */
async function evaluateExtremes(
  sn: SupernetWeights,
  data: PreparedDataset,
  largest: Genome,
  smallest: Genome,
  size: number,
  opts: TrainSupernetOptions,
  imageSizes: number[],
  steps: number,
): Promise<SupernetMetrics> {
  const bn = await trainBatches(data, BN_IMAGES, size, opts.seed);
  const val = data.val.slice(0, opts.maxValImages ?? data.val.length);
  const valLoader = createBatchLoader(val, {
    batchSize: 8,
    imageSize: size,
    augment: false,
    workers: 0,
    shuffle: false,
  });
  try {
    const score = async (g: Genome) => {
      const s = subnet(sn, g, size);
      const w = await recalibrateBatchNorm(extractPlan(sn, s.plan), s.genome, bn);
      return evaluateWeights(s.ir, w, valLoader, data.names);
    };
    const l = await score(largest);
    const sm = await score(smallest);
    return {
      largestMap50: l.map50,
      largestMap50_95: l.map50_95,
      smallestMap50: sm.map50,
      smallestMap50_95: sm.map50_95,
      steps,
      imageSizes,
    };
  } finally {
    await valLoader.close();
  }
}

/** Un-augmented training batches (BatchNorm recalibration, adaptation), deterministic for a seed. */
export async function trainBatches(
  data: Pick<PreparedDataset, 'train'>,
  images: number,
  imageSize: number,
  seed: number,
  batchSize = 16,
): Promise<Batch[]> {
  const loader = createBatchLoader(data.train, {
    batchSize,
    imageSize,
    augment: false,
    workers: 0,
    seed,
    shuffle: true,
  });
  const out: Batch[] = [];
  try {
    let n = 0;
    for await (const b of loader.epoch(0)) {
      out.push(b);
      n += b.size;
      if (n >= images) break;
    }
  } finally {
    await loader.close();
  }
  return out;
}
