import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildIR, modelCost, parseGenome } from '@detsearch/genome';
import { REFERENCE_THROUGHPUT, secondsPerImage, type TrainingThroughput } from './estimate';

/**
 * This machine's training throughput, kept in `<home>/throughput.json`: written by a short probe
 * the first time an estimate needs it, then replaced by the rates real trials measured (the
 * median of the last ones), so estimates follow what the machine actually does.
 */
interface ThroughputFile {
  probe?: TrainingThroughput & { measuredAt: string };
  trials?: { gflops: number; secondsPerImage: number; at: string }[];
}

const FILE = 'throughput.json';
const KEEP_TRIALS = 20;
/** The probe model: a quick-demo-sized YOLOv5 at 128 px (about 0.1 GFLOPs). */
const PROBE_GENOME = { depthMultiple: 0.33, widthMultiple: 0.1875, imageSize: 128, numClasses: 6 };

function readFile(home: string): ThroughputFile {
  const path = join(home, FILE);
  if (!existsSync(path)) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ThroughputFile;
  } catch {
    return {};
  }
}

function writeFile(home: string, data: ThroughputFile): void {
  mkdirSync(home, { recursive: true });
  const tmp = join(home, `${FILE}.${process.pid}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`);
  renameSync(tmp, join(home, FILE));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The stored measurement: real trials first, else the probe; null when neither exists yet. */
export function storedThroughput(home: string): TrainingThroughput | null {
  const f = readFile(home);
  if (f.trials && f.trials.length > 0) {
    // Normalize every trial to the probe model's size before taking the median.
    const ref = modelCost(buildIR(parseGenome(PROBE_GENOME))).gflops;
    const perImage = median(f.trials.map((t) => secondsPerImage({ ...t, source: '' }, ref)));
    return {
      gflops: ref,
      secondsPerImage: perImage,
      source: `median of the last ${f.trials.length} trained trials on this machine`,
    };
  }
  return f.probe ?? null;
}

/** Records a finished trial's training rate (called by the full evaluator). */
export function recordTrialThroughput(home: string, gflops: number, imagesPerSecond: number): void {
  if (!(imagesPerSecond > 0) || !(gflops > 0)) return;
  const f = readFile(home);
  const trials = [
    ...(f.trials ?? []),
    { gflops, secondsPerImage: 1 / imagesPerSecond, at: new Date().toISOString() },
  ];
  writeFile(home, { ...f, trials: trials.slice(-KEEP_TRIALS) });
}

/**
 * Measures training throughput now: the probe model trains 2 short epochs on synthetic images in a
 * child process (one core, as trials do); the second, warm epoch's rate is kept. About 10-20 s.
 */
export async function probeThroughput(home: string): Promise<TrainingThroughput> {
  const training = await import('@detsearch/training');
  const outDir = join(home, 'probe');
  rmSync(outDir, { recursive: true, force: true });
  const summary = await training.runInChild<{
    epochs: { imagesPerSecond: number }[];
    backend: string;
  }>(
    'train',
    {
      genome: PROBE_GENOME,
      dataset: { synth: { images: 40, seed: 0, size: 128 } },
      epochs: 2,
      outDir,
      maxBatchesPerEpoch: 5,
      maxValImages: 8,
    },
    { timeoutMs: 120_000 },
  );
  rmSync(outDir, { recursive: true, force: true });
  const warm = summary.epochs[summary.epochs.length - 1]!;
  const measured: TrainingThroughput & { measuredAt: string } = {
    gflops: modelCost(buildIR(parseGenome(PROBE_GENOME))).gflops,
    secondsPerImage: 1 / warm.imagesPerSecond,
    source: `probe on ${summary.backend}, ${new Date().toISOString().slice(0, 10)}`,
    measuredAt: new Date().toISOString(),
  };
  writeFile(home, { ...readFile(home), probe: measured });
  return measured;
}

const probing = new Map<string, Promise<TrainingThroughput>>();

/** The stored measurement, or a probe when there is none yet (one at a time per home). */
export async function measuredThroughput(home: string): Promise<TrainingThroughput> {
  const stored = storedThroughput(home);
  if (stored) return stored;
  let p = probing.get(home);
  if (!p) {
    // An estimate must never stop a launch: without a probe, fall back to the reference rate.
    p = probeThroughput(home)
      .catch((err: unknown) => ({
        ...REFERENCE_THROUGHPUT,
        source: `${REFERENCE_THROUGHPUT.source}; the probe here failed: ${(err as Error).message.split('\n')[0]}`,
      }))
      .finally(() => probing.delete(home));
    probing.set(home, p);
  }
  return p;
}
