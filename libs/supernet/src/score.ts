import { writeFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildIR, modelCost, parseGenome, type Genome } from '@detsearch/genome';
import { getHardwareProfile, measureOnnx, predictLatency } from '@detsearch/latency';
import { saveWeights } from '@detsearch/model-onnx';
import { initBackend } from '@detsearch/model-tfjs';
import {
  exportAtPrecision,
  prepareDataset,
  runInChild,
  scoreOnnx,
  type Batch,
  type DatasetSpec,
  type PreparedDataset,
} from '@detsearch/training';
import { supernetChildEntry } from './child-entry-path';
import { adaptSubnet } from './adapt';
import { extractPlan, subnet } from './extract';
import { recalibrateBatchNorm } from './recalibrate';
import { readSupernetFile, supernetForSize, type SupernetFile } from './supernet-file';
import { trainBatches } from './train';
import type { CandidateScore, ScoreCandidateOptions } from './types';

/**
 * Scores one genome on a supernet, as deployed: extract its weights, recalibrate BatchNorm on
 * `bnImages` training images, export at the genome's precision (int8 static calibrated on training
 * images), mAP through onnxruntime on the val split, host latency measured with onnxruntime (one
 * thread) and latency predicted on the hardware profile. Runs in a child process unless `inProcess`.
 */
export async function scoreCandidate(opts: ScoreCandidateOptions): Promise<CandidateScore> {
  if (opts.inProcess) return scoreCandidateInProcess(opts);
  const { signal, ...payload } = opts;
  return runInChild<CandidateScore>('supernet-score', payload, { entry: supernetChildEntry(), signal });
}

/** Many candidates in one child process (one core), one sub-folder of outDir each, in order. */
export interface ScoreCandidatesOptions extends Omit<ScoreCandidateOptions, 'genome' | 'inProcess'> {
  genomes: Genome[];
}

export async function scoreCandidates(opts: ScoreCandidatesOptions): Promise<CandidateScore[]> {
  const { signal, ...payload } = opts;
  return runInChild<CandidateScore[]>('supernet-score-many', payload, {
    entry: supernetChildEntry(),
    signal,
  });
}

export async function scoreCandidatesInProcess(opts: ScoreCandidatesOptions): Promise<CandidateScore[]> {
  const { genomes, ...rest } = opts;
  const out: CandidateScore[] = [];
  for (let i = 0; i < genomes.length; i++)
    out.push(
      await scoreCandidateInProcess({ ...rest, genome: genomes[i]!, outDir: join(opts.outDir, String(i)) }),
    );
  return out;
}

/**
 * What a process scoring many candidates keeps between them: the supernet (every weight set of a
 * per-size one; each candidate is scored on the set of its size), the dataset, the
 * recalibration batches per image size.
 */
const cache = {
  supernets: new Map<string, SupernetFile>(),
  datasets: new Map<string, Promise<PreparedDataset>>(),
  bnBatches: new Map<string, Promise<Batch[]>>(),
  adaptBatches: new Map<string, Promise<Batch[]>>(),
};

/** Images per adaptation step: the trainer's batch. */
const ADAPT_BATCH = 8;
/** Distinct adaptation batches kept per image size: 64 at 160 px (512 images, 157 MB), 4 at 640 px. */
const adaptMaxBatches = (size: number) => Math.max(4, Math.floor(64 * (160 / size) ** 2));

function datasetOf(spec: DatasetSpec, outDir: string): Promise<PreparedDataset> {
  const key = JSON.stringify(spec);
  let p = cache.datasets.get(key);
  if (!p) {
    p = prepareDataset(spec, outDir);
    cache.datasets.set(key, p);
  }
  return p;
}

function supernetFile(path: string | undefined): SupernetFile {
  if (!path) throw new Error('scoreCandidate: supernetPath or weights is required');
  const key = resolve(path);
  let file = cache.supernets.get(key);
  if (!file) {
    file = readSupernetFile(key);
    cache.supernets.set(key, file);
  }
  return file;
}

export async function scoreCandidateInProcess(opts: ScoreCandidateOptions): Promise<CandidateScore> {
  const t0 = performance.now();
  const outDir = resolve(opts.outDir);
  await mkdir(outDir, { recursive: true });
  await initBackend('wasm', { log: () => undefined });
  const genome = parseGenome(opts.genome);
  const size = opts.imageSize ?? genome.imageSize;
  const sn = opts.weights ?? supernetForSize(supernetFile(opts.supernetPath), size);
  const profile = getHardwareProfile(opts.hardwareProfile);
  const data = await datasetOf(opts.dataset, outDir);
  const s = subnet(sn, genome, size);
  const bnCount = opts.bnImages ?? 256;
  const bnKey = `${JSON.stringify(opts.dataset)}@${size}x${bnCount}`;
  let bn = cache.bnBatches.get(bnKey);
  if (!bn) {
    bn = trainBatches(data, bnCount, size, 0);
    cache.bnBatches.set(bnKey, bn);
  }
  const adaptSteps = opts.adaptSteps ?? 0;
  const tExtract = performance.now();
  let inherited = extractPlan(sn, s.plan);
  if (adaptSteps > 0) {
    // Another draw than the recalibration's (seed 1), the same for every candidate of a size; held
    // in memory, so at most about 160 MB of distinct batches (longer adaptations cycle them).
    const distinct = Math.min(adaptSteps, adaptMaxBatches(size));
    const adaptKey = `${JSON.stringify(opts.dataset)}@${size}x${distinct}:adapt`;
    let batches = cache.adaptBatches.get(adaptKey);
    if (!batches) {
      batches = trainBatches(data, distinct * ADAPT_BATCH, size, 1, ADAPT_BATCH);
      cache.adaptBatches.set(adaptKey, batches);
    }
    inherited = adaptSubnet(s.ir, inherited, await batches, {
      steps: adaptSteps,
      lr: opts.adaptLr,
      warmup: opts.adaptWarmup,
      decay: opts.adaptDecay,
    });
  }
  const tAdapt = performance.now();
  const weights = await recalibrateBatchNorm(inherited, s.genome, await bn);
  const tRecal = performance.now();

  const { bytes: onnx } = await exportAtPrecision(
    s.ir,
    weights,
    s.genome,
    data.train,
    opts.calibrationImages ?? 32,
  );
  const tExport = performance.now();
  const val = data.val.slice(0, opts.maxValImages ?? data.val.length);
  const scoreOpts = { imageSize: size, numClasses: s.genome.numClasses, names: data.names, threads: 1 };
  const deployed = await scoreOnnx(onnx, val, scoreOpts);
  const fp32 =
    s.genome.quantization.precision === 'fp32'
      ? deployed
      : await scoreOnnx(
          (
            await exportAtPrecision(
              s.ir,
              weights,
              { ...s.genome, quantization: { precision: 'fp32' } },
              data.train,
            )
          ).bytes,
          val,
          scoreOpts,
        );
  const tScore = performance.now();
  const measured = await measureOnnx(onnx, { runs: opts.latencyRuns ?? 10, warmup: 2, threads: 1 });
  // Latency, parameters and FLOPs of the candidate as deployed: the genome at its own image size.
  const own = { ...s.genome, imageSize: genome.imageSize };
  const predicted = predictLatency(own, profile);
  const cost = modelCost(buildIR(own));
  const onnxPath = join(outDir, 'model.onnx');
  await writeFile(onnxPath, onnx);
  const weightsPath = join(outDir, 'weights.safetensors');
  saveWeights(weightsPath, weights, {
    ir: s.ir,
    metadata: { genome: JSON.stringify(s.genome), format: 'detsearch-supernet-subnet' },
  });
  return {
    map50: deployed.map50,
    map50_95: deployed.map50_95,
    fp32Map50: fp32.map50,
    fp32Map50_95: fp32.map50_95,
    latencyMs: predicted.predictedMs,
    measuredLatencyMs: measured.medianMs,
    params: cost.params,
    gflops: cost.gflops,
    sizeBytes: onnx.byteLength,
    onnxPath,
    weightsPath,
    seconds: (performance.now() - t0) / 1000,
    phaseSeconds: {
      adapt: (tAdapt - tExtract) / 1000,
      // Loading, extraction and the recalibration itself.
      recalibrate: (tRecal - t0 - (tAdapt - tExtract)) / 1000,
      export: (tExport - tRecal) / 1000,
      score: (tScore - tExport) / 1000,
      latency: (performance.now() - tScore) / 1000,
    },
  };
}
