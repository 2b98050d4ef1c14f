import { resolve } from 'node:path';
import type { Command } from 'commander';
import { parseGenome } from '@detsearch/genome';
import { DEFAULT_BATCH_SIZE, runInChild, type TrainJob, type TrainSummary } from '@detsearch/training';
import { action, formatTable, parseIntOption, readAnyDataPath, readJsonOrFile, UsageError } from '../cli-kit';

interface TrainCliOptions {
  genome: string;
  data: string;
  epochs: number;
  batch: number;
  img?: number;
  out: string;
  seed: number;
  evalEvery: number;
  workers: number;
  backend?: string;
  json?: boolean;
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train one candidate on a YOLO-format dataset and report its validation mAP')
    .requiredOption('--genome <file|json>', 'genome as inline JSON or a JSON/YAML file')
    .requiredOption('--data <data.yaml>', 'Ultralytics data.yaml (read below DATA_ROOT when set)')
    .requiredOption('--epochs <n>', 'training epochs', parseIntOption('epochs', 1, 10_000))
    .option(
      '--batch <n>',
      'batch size (one optimizer step per batch; the default recipe was tuned at this size)',
      parseIntOption('batch', 1, 1024),
      DEFAULT_BATCH_SIZE,
    )
    .option('--img <n>', "image size in pixels (default the genome's)", parseIntOption('img', 32, 4096))
    .option('--out <dir>', 'run folder for weights (and logs)', 'runs/train')
    .option('--seed <n>', 'random seed', parseIntOption('seed', 0), 0)
    .option(
      '--eval-every <k>',
      'validate every k epochs (and after the last)',
      parseIntOption('eval-every', 1),
      1,
    )
    .option('--workers <n>', 'data-loading worker threads', parseIntOption('workers', 0, 64), 1)
    .option('--backend <name>', 'TensorFlow.js backend: auto, tensorflow-gpu, tensorflow, wasm, cpu')
    .option('--json', 'one JSON object on stdout (progress goes to stderr)')
    .action(
      action<TrainCliOptions>(async (o) => {
        // Validate here so a bad genome fails fast, before a training process starts.
        const genome = parseGenome(readJsonOrFile(o.genome, 'genome'));
        readAnyDataPath(o.data);
        if (o.img !== undefined && o.img % 32 !== 0)
          throw new UsageError(`--img: must be a multiple of 32, got ${o.img}`);
        const job: TrainJob = {
          genome,
          dataset: { dataYaml: resolve(o.data) },
          epochs: o.epochs,
          batchSize: o.batch,
          imageSize: o.img,
          seed: o.seed,
          outDir: resolve(o.out),
          evalEvery: o.evalEvery,
          workers: o.workers,
          backend: o.backend,
        };
        const summary = await runInChild<TrainSummary>('train', job, {
          onLog: (line) => process.stderr.write(`${line}\n`),
        });
        if (summary.status === 'failed') throw new Error(`training failed: ${summary.reason}`);
        const json = {
          map50: summary.map50,
          map50_95: summary.map50_95,
          epochs: summary.epochs.length,
          imagesPerSecond: summary.imagesPerSecond,
          status: summary.status,
          backend: summary.backend,
          imageSize: summary.imageSize,
          weightsPath: summary.weightsPath ?? null,
          seconds: summary.seconds,
          history: summary.epochs,
        };
        const table = formatTable(
          ['epoch', 'box', 'obj', 'cls', 'mAP50', 'mAP50-95', 'img/s'],
          summary.epochs.map((e) => [
            e.epoch + 1,
            e.box.toFixed(4),
            e.obj.toFixed(4),
            e.cls.toFixed(4),
            e.map50 === null ? '-' : e.map50.toFixed(3),
            e.map50_95 === null ? '-' : e.map50_95.toFixed(3),
            e.imagesPerSecond.toFixed(1),
          ]),
        );
        const text = `${table}\nmAP@0.5 ${summary.map50.toFixed(3)}, mAP@0.5:0.95 ${summary.map50_95.toFixed(3)}, ${summary.imagesPerSecond.toFixed(1)} images/s on ${summary.backend}; weights ${summary.weightsPath ?? '(none)'}`;
        return { json, text };
      }),
    );
}
