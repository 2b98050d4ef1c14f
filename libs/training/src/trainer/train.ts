import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import {
  buildIR,
  initWeights,
  parseGenome,
  type Genome,
  type ModelIR,
  type WeightMap,
} from '@detsearch/genome';
import { initBackend, TfjsDetector } from '@detsearch/model-tfjs';
import { loadWeights, OnnxModel, saveWeights, weightMismatches } from '@detsearch/model-onnx';
import { createBatchLoader, type BatchLoader } from '../dataset/batch-loader';
import { DataRoot } from '@detsearch/config';
import type { Batch } from '../dataset/pipeline';
import { synthDataset } from '../dataset/synth';
import type { YoloSample } from '../dataset/types';
import { readYoloDataset } from '../dataset/yolo-reader';
import { distillationLoss, nchwToNhwc } from '../loss/distill';
import { scaledLossHyp, SCRATCH_LOW_LOSS, yoloLoss } from '../loss/yolo-loss';
import { defaultEmaTau, ModelEma } from './ema';
import { evaluateBatches, imageToNchw, tfjsDetect } from './evaluate';
import { preciseBatchNorm } from './precise-bn';
import { accumulation, SCRATCH_LOW_OPTIMIZER, stepSettings, warmupIterations } from './schedule';
import { AdamW, NesterovSgd, trainableParams } from './sgd';
import type {
  DatasetSpec,
  EpochMetrics,
  TimeProfile,
  TrainHooks,
  TrainHyp,
  TrainJob,
  TrainSummary,
} from './types';

/**
 * The default recipe: hyp.scratch-low (loss gains, augmentation without mosaic, warm-up, linear LR,
 * weight decay, EMA) with AdamW at lr0 4e-3 and an optimizer step per batch of 8, instead of SGD
 * with gradient accumulation to 64. Trials and benchmarks here train for minutes on one wasm core (a
 * few thousand images, not 300 epochs of COCO): what limits them is the number of optimizer steps.
 * Measured with bench/train.ts's model on the synthetic set, 6,000 training images, 25-epoch
 * schedule, mAP@0.5: AdamW batch 16 lr 1e-3 0.24; batch 8 lr 2e-3 0.37, 4e-3 0.43, 8e-3 0.44;
 * batch 4 lr 2e-3 0.42, 4e-3 0.43 but 20% fewer images/s. Mosaic (0.27 at batch 8 lr 2e-3) and a
 * 4x class-loss gain (unchanged) did not help at this length. Ultralytics makes the same choice for
 * short runs (optimizer 'auto': AdamW under 10,000 iterations).
 */
export const DEFAULT_TRAIN_HYP: Readonly<TrainHyp> = Object.freeze({
  ...SCRATCH_LOW_OPTIMIZER,
  optimizer: 'AdamW' as const,
  lr0: 0.004,
  nominalBatch: undefined,
  emaDecay: 0.9999,
  augment: true,
});

/** Images per batch when a job names none (see DEFAULT_TRAIN_HYP). */
export const DEFAULT_BATCH_SIZE = 8;

/** Images whose batch statistics replace BatchNorm's running statistics before evaluation and export. */
const PRECISE_BN_IMAGES = 64;

/** Ultralytics clips the gradient norm at 10 before each optimizer step. */
const MAX_GRAD_NORM = 10;

export interface PreparedDataset {
  dataYaml: string;
  dataRoot: string;
  train: YoloSample[];
  val: YoloSample[];
  numClasses: number;
  names: string[];
}

/** Reads the job's dataset; a synthetic one is generated into `<outDir>/data` first (deterministic). */
export async function prepareDataset(spec: DatasetSpec, outDir: string): Promise<PreparedDataset> {
  let yaml: string;
  let root: string | undefined;
  if ('synth' in spec) {
    root = resolve(outDir, 'data');
    const r = await synthDataset(root, {
      images: spec.synth.images,
      seed: spec.synth.seed,
      size: spec.synth.size,
    });
    yaml = r.yaml;
  } else {
    yaml = spec.dataYaml;
    root = spec.dataRoot;
  }
  const ds = await readYoloDataset(yaml, { dataRoot: new DataRoot(root), verify: 'header' });
  if (ds.train.samples.length === 0) throw new Error(`dataset ${yaml}: no training images`);
  if (ds.val.samples.length === 0) throw new Error(`dataset ${yaml}: no validation images`);
  return {
    dataYaml: resolve(yaml),
    dataRoot: new DataRoot(root).root,
    train: ds.train.samples,
    val: ds.val.samples,
    numClasses: ds.config.nc,
    names: ds.config.names,
  };
}

/** Everything a trained run leaves behind, for the caller in the same process (runTrial). */
export interface TrainOutcome {
  summary: TrainSummary;
  genome: Genome;
  /** IR at the training image size. */
  ir: ModelIR;
  /** EMA weights (canonical names); undefined when the run failed before any update. */
  weights?: WeightMap;
  data: PreparedDataset;
  profile: TimeProfile;
}

/** Teacher outputs for a batch, NHWC per level, from an exported ONNX model (batch 1). */
async function teacherOutputs(teacher: OnnxModel, batch: Batch, shapes: number[][]): Promise<tf.Tensor4D[]> {
  const perLevel = shapes.map((s) => new Float32Array(batch.size * s[1]! * s[2]! * s[3]!));
  for (let i = 0; i < batch.size; i++) {
    const outs = await teacher.run(imageToNchw(batch.images, i, batch.imageSize));
    outs.forEach((o, l) => {
      const [, h, w, c] = shapes[l]!;
      if (o.length !== h! * w! * c!)
        throw new Error(`teacher output ${l} has ${o.length} values, expected ${h! * w! * c!}`);
      perLevel[l]!.set(nchwToNhwc(o, [1, c!, h!, w!]), i * h! * w! * c!);
    });
  }
  return perLevel.map((d, l) => tf.tensor4d(d, [batch.size, shapes[l]![1]!, shapes[l]![2]!, shapes[l]![3]!]));
}

function finiteOrReason(values: Record<string, number>): string | undefined {
  const bad = Object.entries(values).filter(([, v]) => !Number.isFinite(v));
  if (bad.length === 0) return undefined;
  return Object.entries(values)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

/**
 * Trains one candidate in this process (the caller keeps it off the event loop: see spawnTraining):
 * Ultralytics' training loop (hyp.scratch-low: warm-up, linear or cosine LR, weight decay on conv
 * weights, optional gradient accumulation to a nominal batch, grad-norm clip 10, EMA) with AdamW or
 * SGD nesterov (DEFAULT_TRAIN_HYP), validation mAP of the EMA weights every `evalEvery` epochs. A
 * NaN/Inf loss ends the run with status 'failed' and the reason.
 */
/**
 * Weights to start from (fine-tuning, e.g. a sub-network inherited from a supernet): they must fit
 * the genome exactly, since a silently re-initialized layer would make the run a different one.
 */
function startingWeights(ir: ModelIR, path: string): WeightMap {
  const file = loadWeights(path);
  const problems = weightMismatches(ir, file);
  if (problems.length > 0)
    throw new Error(
      `initialWeights: ${path} does not fit the genome (${problems.slice(0, 3).join('; ')}` +
        `${problems.length > 3 ? `; ${problems.length - 3} more` : ''})`,
    );
  return file.weights;
}

export async function trainDetector(job: TrainJob, hooks: TrainHooks = {}): Promise<TrainOutcome> {
  const t0 = performance.now();
  const log = hooks.onLog ?? (() => undefined);
  const hyp: TrainHyp = { ...DEFAULT_TRAIN_HYP, ...job.hyp };
  const outDir = resolve(job.outDir);
  await mkdir(outDir, { recursive: true });
  const backend = await initBackend(job.backend, { log });
  const data = await prepareDataset(job.dataset, outDir);
  const parsed = parseGenome(job.genome);
  const imageSize = job.imageSize ?? parsed.imageSize;
  if (parsed.numClasses !== data.numClasses)
    log(`genome numClasses ${parsed.numClasses} -> ${data.numClasses} (the dataset's nc)`);
  const genome = parseGenome({ ...parsed, numClasses: data.numClasses, imageSize });
  const ir = buildIR(genome);
  const nc = genome.numClasses;
  const batchSize = job.batchSize ?? DEFAULT_BATCH_SIZE;
  const seed = job.seed ?? 0;
  const profile: TimeProfile = { data: 0, forward: 0, backward: 0, loss: 0, optimizer: 0, ema: 0, eval: 0 };

  const model = TfjsDetector.build(
    ir,
    job.initialWeights ? startingWeights(ir, job.initialWeights) : initWeights(ir, { seed }),
  );
  if (job.fakeQuant)
    model.setFakeQuant({
      ranges: new Map(job.fakeQuant.ranges.map(([name, min, max]) => [name, { min, max }])),
      floatLayers: new Set(job.fakeQuant.floatLayers),
      perChannel: job.fakeQuant.perChannel,
    });
  const params = trainableParams(model.trainableVariables());
  const byVarName = new Map(params.map((p) => [p.variable.name, p]));
  const varList = params.map((p) => p.variable);
  const optimizer = hyp.optimizer === 'AdamW' ? new AdamW(params) : new NesterovSgd(params);
  const lossHyp = scaledLossHyp(nc, imageSize, 3, { ...SCRATCH_LOW_LOSS, ...hyp.loss });
  const workers = job.workers ?? 1;
  const trainLoader: BatchLoader = createBatchLoader(data.train, {
    batchSize,
    imageSize,
    augment: hyp.augment,
    seed,
    workers,
    shuffle: true,
  });
  const valSamples = job.maxValImages ? data.val.slice(0, job.maxValImages) : data.val;
  const valLoader = createBatchLoader(valSamples, {
    batchSize,
    imageSize,
    augment: false,
    workers,
    shuffle: false,
  });
  // Training images without augmentation for re-estimating BatchNorm statistics (see preciseBatchNorm).
  const bnLoader = createBatchLoader(data.train, {
    batchSize,
    imageSize,
    augment: false,
    workers: 0,
    seed,
    shuffle: true,
  });
  const bnBatches = Math.max(1, Math.ceil(Math.min(PRECISE_BN_IMAGES, data.train.length) / batchSize));
  const finalWeights = () => preciseBatchNorm(ir, ema.weights(), bnLoader.epoch(0), bnBatches);
  const teacher = job.teacherOnnx ? await OnnxModel.load(job.teacherOnnx, { threads: 1 }) : undefined;
  const distillWeight = job.distillWeight ?? 1.0;

  const nb = Math.min(trainLoader.batchesPerEpoch, job.maxBatchesPerEpoch ?? Infinity);
  const acc = accumulation(batchSize, hyp);
  const nw = warmupIterations(nb, job.epochs, hyp);
  const updatesEstimate = Math.max(1, Math.round((nb * job.epochs) / acc.accumulate));
  const ema = new ModelEma(model.exportWeights(), hyp.emaDecay, hyp.emaTau ?? defaultEmaTau(updatesEstimate));
  log(
    `train: ${data.train.length} images, val ${valSamples.length}, nc ${nc}, ${imageSize}px, batch ${batchSize} x` +
      ` accumulate ${acc.accumulate}, ${nb} batches/epoch, warm-up ${nw} iterations, EMA tau ${ema.tau.toFixed(0)},` +
      ` ${backend.description}`,
  );

  const epochs: EpochMetrics[] = [];
  let status: TrainSummary['status'] = 'completed';
  let reason: string | undefined;
  let accum: Record<string, tf.Tensor> | undefined;
  let lastOptStep = -1;
  let trainedImages = 0;
  let trainSeconds = 0;
  let lastMap = { map50: 0, map50_95: 0 };
  let weightLr = 0;
  const evalEvery = Math.max(1, job.evalEvery ?? 1);
  const now = () => performance.now() / 1000;

  try {
    for (let epoch = 0; epoch < job.epochs && status === 'completed'; epoch++) {
      const sums = { box: 0, obj: 0, cls: 0, distill: 0 };
      let batches = 0;
      let images = 0;
      const epochStart = now();
      let tData = now();
      for await (const batch of trainLoader.epoch(epoch)) {
        if (batches >= nb) break;
        profile.data += now() - tData;
        const ni = batches + nb * epoch;
        const teacherOuts = teacher
          ? await teacherOutputs(
              teacher,
              batch,
              ir.outputs.map((o) => [
                batchSize,
                ir.tensors[o]!.height,
                ir.tensors[o]!.width,
                ir.tensors[o]!.channels,
              ]),
            )
          : undefined;
        const x = tf.tensor4d(batch.images, [batch.size, imageSize, imageSize, 3]);
        let parts: tf.Scalar[] = [];
        const tStep = now();
        let tForward = 0;
        let tLoss = 0;
        const { value, grads } = tf.variableGrads(() => {
          const outs = model.forward(x, true);
          tForward = now();
          const l = yoloLoss(outs, batch.targets, { numClasses: nc, hyp: lossHyp });
          let total = l.total;
          parts = [l.box, l.obj, l.cls];
          if (teacherOuts) {
            const d = distillationLoss(outs, teacherOuts, {
              numClasses: nc,
              weight: distillWeight,
              gains: lossHyp,
            });
            total = tf.add(total, d);
            parts.push(tf.div(d, batch.size) as tf.Scalar);
          }
          parts = parts.map((p) => tf.keep(p));
          tLoss = now();
          return total;
        }, varList);
        const lossValues = parts.map((p) => p.dataSync()[0]!);
        const totalValue = value.dataSync()[0]!;
        const tBackward = now();
        profile.forward += tForward - tStep;
        profile.loss += tLoss - tForward;
        profile.backward += tBackward - tLoss;
        tf.dispose([x, value, ...parts, ...(teacherOuts ?? [])]);
        const bad = finiteOrReason({
          total: totalValue,
          box: lossValues[0]!,
          obj: lossValues[1]!,
          cls: lossValues[2]!,
        });
        if (bad) {
          tf.dispose(Object.values(grads));
          model.discardBatchNormUpdates();
          status = 'failed';
          reason = `loss is not finite at epoch ${epoch}, batch ${batches} (${bad})`;
          break;
        }
        sums.box += lossValues[0]!;
        sums.obj += lossValues[1]!;
        sums.cls += lossValues[2]!;
        if (teacherOuts) sums.distill += lossValues[3]!;

        const tOpt = now();
        // Gradients keyed by canonical names; summed while accumulating towards the nominal batch.
        const named: Record<string, tf.Tensor> = {};
        for (const [varName, g] of Object.entries(grads)) named[byVarName.get(varName)!.name] = g;
        if (!accum) accum = named;
        else {
          for (const [k, g] of Object.entries(named)) {
            const sum = tf.add(accum[k]!, g);
            tf.dispose([accum[k]!, g]);
            accum[k] = sum;
          }
        }
        model.applyBatchNormUpdates();
        const settings = stepSettings(ni, nw, epoch, job.epochs, hyp);
        weightLr = settings.weightLr;
        const accumulate =
          ni <= nw
            ? Math.max(1, Math.round(1 + ((acc.accumulate - 1) * ni) / Math.max(nw, 1)))
            : acc.accumulate;
        if (ni - lastOptStep >= accumulate) {
          const gradScale = clipScale(accum, MAX_GRAD_NORM);
          // Adam's betas are not warmed up (Ultralytics warms only an SGD 'momentum').
          const momentum = hyp.optimizer === 'AdamW' ? hyp.momentum : settings.momentum;
          optimizer.step(accum, { ...settings, momentum, weightDecay: acc.weightDecay, gradScale });
          tf.dispose(Object.values(accum));
          accum = undefined;
          lastOptStep = ni;
          profile.optimizer += now() - tOpt;
          const tEma = now();
          ema.update(model.exportWeights());
          profile.ema += now() - tEma;
        } else profile.optimizer += now() - tOpt;
        batches++;
        images += batch.size;
        tData = now();
      }
      if (status !== 'completed') break;
      const seconds = now() - epochStart;
      trainedImages += images;
      trainSeconds += seconds;
      const m: EpochMetrics = {
        epoch,
        box: sums.box / Math.max(batches, 1),
        obj: sums.obj / Math.max(batches, 1),
        cls: sums.cls / Math.max(batches, 1),
        ...(teacher ? { distill: sums.distill / Math.max(batches, 1) } : {}),
        map50: null,
        map50_95: null,
        imagesPerSecond: images / Math.max(seconds, 1e-9),
        lr: weightLr,
        seconds,
      };
      if ((epoch + 1) % evalEvery === 0 || epoch === job.epochs - 1) {
        const tEval = now();
        const r = await evaluateWeights(ir, await finalWeights(), valLoader, data.names);
        profile.eval += now() - tEval;
        m.map50 = r.map50;
        m.map50_95 = r.map50_95;
        lastMap = r;
        const bad = finiteOrReason({ map50: r.map50 });
        if (bad) {
          status = 'failed';
          reason = `validation produced non-finite mAP at epoch ${epoch}`;
        }
      }
      epochs.push(m);
      log(
        `epoch ${epoch + 1}/${job.epochs}: box ${m.box.toFixed(4)} obj ${m.obj.toFixed(4)} cls ${m.cls.toFixed(4)}` +
          (m.map50 !== null ? ` mAP50 ${m.map50.toFixed(3)} mAP50-95 ${m.map50_95!.toFixed(3)}` : '') +
          ` ${m.imagesPerSecond.toFixed(1)} img/s`,
      );
      if (status === 'completed' && hooks.onEpoch && (await hooks.onEpoch(m)) === 'stop') {
        status = 'stopped';
        reason = `stopped by the caller after epoch ${epoch + 1}`;
      }
    }
  } finally {
    if (accum) tf.dispose(Object.values(accum));
    optimizer.dispose();
    model.dispose();
    await trainLoader.close();
    await valLoader.close();
    await teacher?.dispose();
  }

  const weights = ema.updates > 0 && status !== 'failed' ? await finalWeights() : undefined;
  await bnLoader.close();
  let weightsPath: string | undefined;
  if (weights && status !== 'failed') {
    weightsPath = join(outDir, 'weights.safetensors');
    saveWeights(weightsPath, weights, {
      ir,
      metadata: { genome: JSON.stringify(genome), format: 'detsearch-ema' },
    });
  }
  const summary: TrainSummary = {
    status,
    ...(reason ? { reason } : {}),
    epochs,
    map50: lastMap.map50,
    map50_95: lastMap.map50_95,
    imagesPerSecond: trainedImages / Math.max(trainSeconds, 1e-9),
    backend: backend.name,
    imageSize,
    numClasses: nc,
    trainImages: data.train.length,
    valImages: valSamples.length,
    seconds: (performance.now() - t0) / 1000,
    ...(weightsPath ? { weightsPath } : {}),
    dataYaml: data.dataYaml,
  };
  return { summary, genome, ir, weights, data, profile };
}

/** The factor that brings the gradients' global L2 norm down to maxNorm, or 1 (clip_grad_norm_). */
export function clipScale(grads: Record<string, tf.Tensor>, maxNorm: number): number {
  const norm = tf.tidy(
    () => tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))).dataSync()[0]!,
  );
  return norm > maxNorm ? maxNorm / (norm + 1e-6) : 1;
}

/** Validation mAP of a weight map through tfjs (the fp32 model as trained). */
export async function evaluateWeights(
  ir: ModelIR,
  weights: WeightMap,
  loader: BatchLoader,
  names?: readonly string[],
): Promise<{ map50: number; map50_95: number }> {
  const model = TfjsDetector.build(ir, weights);
  try {
    const r = await evaluateBatches(loader.epoch(0), tfjsDetect(model, ir.genome.numClasses), { names });
    return { map50: r.map50, map50_95: r.map50_95 };
  } finally {
    model.dispose();
  }
}
