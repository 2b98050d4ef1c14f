import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import {
  buildIR,
  initWeights,
  parseGenome,
  PRECISIONS,
  type Genome,
  type ModelIR,
  type Quantization,
  type WeightMap,
} from '@detsearch/genome';
import {
  assertValidModel,
  exportOnnx,
  loadWeights,
  ONNX_OPSET,
  syntheticCalibrationImages,
  weightMismatches,
} from '@detsearch/model-onnx';
import { action, parseIntOption, readJsonOrFile, UsageError } from '../cli-kit';
import { findTrial, openReadOnly, trialWeightsFile } from '../trial-ref';

function failUsage(message: string): never {
  throw new UsageError(message);
}

interface ExportOptions {
  genome?: string;
  trial?: string;
  search?: string;
  precision?: string;
  scheme?: string;
  granularity?: string;
  calibration?: string;
  weights?: string;
  out: string;
  calibrationImages?: string;
  keepFloat?: string;
  seed?: string;
  json?: boolean;
}

const DEFAULT_CALIBRATION_COUNT = 16;

/** The genome with its quantization overridden by the command-line flags, revalidated. */
function effectiveGenome(raw: unknown, o: ExportOptions): Genome {
  const base = parseGenome(raw);
  const precision = (o.precision ?? base.quantization.precision) as Quantization['precision'];
  if (!PRECISIONS.includes(precision))
    throw new UsageError(`--precision: expected ${PRECISIONS.join('|')}, got '${o.precision}'`);
  const fromGenome: Partial<Quantization> = base.quantization.precision === 'int8' ? base.quantization : {};
  const quantization =
    precision === 'int8'
      ? {
          precision,
          scheme: o.scheme ?? fromGenome.scheme,
          granularity: o.granularity ?? fromGenome.granularity,
          calibration:
            (o.scheme ?? fromGenome.scheme) === 'dynamic'
              ? undefined
              : (o.calibration ?? fromGenome.calibration),
        }
      : { precision };
  if (precision !== 'int8' && (o.scheme || o.granularity || o.calibration))
    throw new UsageError('--scheme/--granularity/--calibration only apply to --precision int8');
  return parseGenome({ ...base, quantization });
}

function readWeights(path: string, ir: ModelIR): WeightMap {
  if (!existsSync(path)) throw new UsageError(`--weights: no such file '${path}'`);
  let file;
  try {
    file = loadWeights(path);
  } catch (err) {
    throw new UsageError(`--weights: ${(err as Error).message}`);
  }
  const problems = weightMismatches(ir, file);
  if (problems.length)
    throw new UsageError(
      `--weights: ${path} does not fit the genome (${problems.length} problems: ${problems.slice(0, 3).join('; ')})`,
    );
  return file.weights;
}

/** NCHW float images in 0..1 from a folder (letterboxed as for training), or N synthetic ones. */
async function calibrationSet(
  value: string | undefined,
  imageSize: number,
  seed: string,
): Promise<{ images: Float32Array[]; source: string }> {
  const synthetic = (n: number) => {
    process.stderr.write(
      `detsearch: warning: int8 static calibrated on ${n} synthetic noise images; pass --calibration-images DIR for real ranges\n`,
    );
    return { images: syntheticCalibrationImages(imageSize, n, seed), source: 'synthetic' };
  };
  if (value === undefined) return synthetic(DEFAULT_CALIBRATION_COUNT);
  if (/^\d+$/.test(value)) {
    const n = Number(value);
    if (n < 1 || n > 10_000) throw new UsageError('--calibration-images: a count must be in [1, 10000]');
    return synthetic(n);
  }
  if (!existsSync(value) || !statSync(value).isDirectory())
    throw new UsageError(`--calibration-images: expected a folder of images or a count, got '${value}'`);
  // Loaded lazily: only this path needs the image codecs.
  const { decodeImage, letterbox, IMAGE_EXTENSIONS } = await import('@detsearch/training');
  const files = readdirSync(value)
    .filter((f) => IMAGE_EXTENSIONS.includes(extname(f).toLowerCase()))
    .sort()
    .slice(0, 64);
  if (!files.length) throw new UsageError(`--calibration-images: no .jpg/.png images in '${value}'`);
  const images = files.map((f) => {
    const { image } = letterbox(decodeImage(new Uint8Array(readFileSync(join(value, f)))), imageSize);
    const plane = imageSize * imageSize;
    const out = new Float32Array(3 * plane);
    for (let i = 0; i < plane; i++)
      for (let c = 0; c < 3; c++) out[c * plane + i] = image.data[i * 3 + c]! / 255;
    return out;
  });
  return { images, source: resolve(value) };
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('writes the ONNX model (opset 17, input images [1,3,H,W], raw Detect outputs) of a genome')
    .option('--genome <file|json>', 'genome as inline JSON or a JSON/YAML file')
    .option(
      '--trial <id|N>',
      "or a search's trial (id, or number with --search): its genome and trained weights",
    )
    .option('--search <id>', 'the search a trial number belongs to')
    .option('--precision <p>', "fp32 | fp16 | int8 (default: the genome's)")
    .option('--scheme <s>', 'int8: static (QDQ, calibrated) | dynamic')
    .option('--granularity <g>', 'int8 weights: per-channel | per-tensor')
    .option('--calibration <c>', 'int8 static: minmax | percentile (99.99)')
    .option(
      '--weights <file>',
      "weights (.safetensors, PyTorch state_dict names); default: the trial's trained ones with --trial, else an UNTRAINED seeded initialization",
    )
    .requiredOption('--out <file>', 'where to write the .onnx model')
    .option(
      '--calibration-images <dir|n>',
      'int8 static: a folder of images, or a count of synthetic noise images',
    )
    .option('--keep-float <rows>', 'int8: comma-separated table rows kept in float (default 0,24)')
    .option(
      '--seed <k>',
      'seed for initialization and synthetic calibration (an integer)',
      (v: string) => String(parseIntOption('seed', 0, 2 ** 31 - 1)(v)),
      '0',
    )
    .option('--json', 'one JSON object on stdout')
    .action(
      action<ExportOptions>(async (o) => {
        if (!o.genome === !o.trial) throw new UsageError('export: give exactly one of --genome or --trial');
        let rawGenome: unknown;
        let weightsPath = o.weights;
        let scratch: string | null = null;
        let weightsLabel: string | null = null;
        if (o.trial) {
          const orchestrator = await openReadOnly();
          try {
            const trial = await findTrial(orchestrator, o.trial, o.search);
            rawGenome = trial.genome;
            scratch = mkdtempSync(join(tmpdir(), 'detsearch-export-'));
            weightsPath ??=
              (await trialWeightsFile(orchestrator, trial, scratch)) ??
              failUsage(
                `--trial: trial #${trial.number} (${trial.id}) has no trained weights (status ${trial.status})`,
              );
            if (trial.weightsKey && !o.weights) weightsLabel = `artifact ${trial.weightsKey}`;
          } finally {
            await orchestrator.close();
          }
        } else rawGenome = readJsonOrFile(o.genome!, 'genome');
        const genome = effectiveGenome(rawGenome, o);
        const ir = buildIR(genome);
        if (!weightsPath)
          process.stderr.write(
            'detsearch: note: no --weights: writing an UNTRAINED model (seeded initialization); its detections are noise. ' +
              'Use --trial ID (trained weights of a search trial) or --weights FILE.\n',
          );
        const weights = weightsPath ? readWeights(weightsPath, ir) : initWeights(ir, { seed: o.seed ?? '0' });
        // The fetched copy is read; it was only a download.
        if (scratch) rmSync(scratch, { recursive: true, force: true });
        const q = genome.quantization;
        let keepFloatLayers: number[] | undefined;
        if (o.keepFloat !== undefined) {
          keepFloatLayers = o.keepFloat.split(',').filter(Boolean).map(Number);
          if (keepFloatLayers.some((r) => !Number.isInteger(r) || r < 0 || r >= ir.rows.length))
            throw new UsageError(
              `--keep-float: expected table rows 0-${ir.rows.length - 1}, got '${o.keepFloat}'`,
            );
        }
        const calibrate = q.precision === 'int8' && q.scheme === 'static';
        if (!calibrate && o.calibrationImages !== undefined)
          throw new UsageError('--calibration-images only applies to int8 static');
        const cal = calibrate
          ? await calibrationSet(o.calibrationImages, genome.imageSize, o.seed ?? '0')
          : undefined;
        const bytes = await exportOnnx(ir, weights, {
          precision: q.precision,
          quantization: q,
          calibrationImages: cal?.images,
          keepFloatLayers,
        });
        const report = assertValidModel(bytes);
        mkdirSync(dirname(resolve(o.out)), { recursive: true });
        writeFileSync(o.out, bytes);
        const json = {
          path: resolve(o.out),
          bytes: bytes.length,
          precision: q.precision,
          opset: ONNX_OPSET,
          ...(q.precision === 'int8' ? { scheme: q.scheme, granularity: q.granularity } : {}),
          ...(cal
            ? {
                calibration: q.calibration,
                calibrationImages: cal.images.length,
                calibrationSource: cal.source,
              }
            : {}),
          weights: weightsLabel ?? (weightsPath ? resolve(weightsPath) : 'initialized'),
          trained: Boolean(weightsPath),
          nodes: report.nodes,
          inputShape: [1, 3, genome.imageSize, genome.imageSize],
          outputShapes: ir.outputs.map((t) => {
            const s = ir.tensors[t]!;
            return [1, s.channels, s.height, s.width];
          }),
        };
        const text = `wrote ${json.path} (${(bytes.length / 1e6).toFixed(2)} MB, ${q.precision}${
          q.precision === 'int8' ? ` ${q.scheme} ${q.granularity}` : ''
        }, opset ${ONNX_OPSET}, ${report.nodes} nodes, ${weightsPath ? 'trained weights' : 'UNTRAINED'})`;
        return { json, text };
      }),
    );
}
