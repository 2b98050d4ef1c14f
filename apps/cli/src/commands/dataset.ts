import type { Command } from 'commander';
import { readYoloDataset, synthDataset } from '@detsearch/training';
import { action, cliConfig, parseIntOption, UsageError } from '../cli-kit';

interface SynthCliOptions {
  out: string;
  images: number;
  seed: number;
  size: number;
  valFraction: number;
  json?: boolean;
}

interface CheckCliOptions {
  data: string;
  verify: string;
  json?: boolean;
}

function parseFraction(value: string): number {
  const f = Number(value);
  if (!(f >= 0 && f < 1)) throw new UsageError(`--val-fraction: expected a number in [0, 1), got '${value}'`);
  return f;
}

export function registerDataset(program: Command): void {
  const dataset = program.command('dataset').description('create and check YOLO-format datasets');
  dataset
    .command('synth')
    .description('write a deterministic synthetic shapes dataset (PNG images, YOLO labels, data.yaml)')
    .requiredOption('--out <dir>', 'output folder: new, empty, or a previous synthetic dataset (replaced)')
    .option('--images <n>', 'number of images', parseIntOption('images', 1, 1_000_000), 300)
    .option('--seed <s>', 'random seed', parseIntOption('seed', 0), 0)
    .option('--size <px>', 'square image side in pixels', parseIntOption('size', 32, 4096), 160)
    .option('--val-fraction <f>', 'fraction of images in the val split', parseFraction, 0.2)
    .option('--json', 'one JSON object on stdout')
    .action(
      action<SynthCliOptions>(async (o) => {
        const r = await synthDataset(o.out, {
          images: o.images,
          seed: o.seed,
          size: o.size,
          valFraction: o.valFraction,
        });
        const json = {
          path: r.path,
          yaml: r.yaml,
          train: r.train,
          val: r.val,
          classes: r.classes,
          boxes: r.boxes,
        };
        const text = `wrote ${r.train} train + ${r.val} val images (${r.boxes} objects, classes ${r.classes.join(', ')}) to ${r.path}\ndata: ${r.yaml}`;
        return { json, text };
      }),
    );
  dataset
    .command('check')
    .description(
      'read a data.yaml and report images, labels and skipped problems per split (below DATA_ROOT)',
    )
    .requiredOption('--data <yaml>', 'dataset data.yaml')
    .option('--verify <mode>', 'decode: decode every image; header: read sizes only', 'decode')
    .option('--json', 'one JSON object on stdout')
    .action(
      action<CheckCliOptions>(async (o) => {
        if (o.verify !== 'decode' && o.verify !== 'header')
          throw new UsageError(`--verify: expected decode or header, got '${o.verify}'`);
        const d = await readYoloDataset(o.data, { verify: o.verify, dataRoot: cliConfig().DATA_ROOT });
        const json = {
          data: d.config.yamlPath,
          nc: d.config.nc,
          names: d.config.names,
          train: d.train.summary,
          val: d.val.summary,
        };
        const line = (split: string, s: typeof d.train.summary) =>
          `${split}: ${s.images} images, ${s.labels} labels, ${s.backgrounds} backgrounds; skipped: ${s.corruptImages} corrupt images, ${s.badRows} bad rows, ${s.missingLabels} missing label files`;
        const messages = [...d.train.summary.messages, ...d.val.summary.messages].slice(0, 20);
        const text = [
          line('train', d.train.summary),
          line('val', d.val.summary),
          ...messages.map((m) => `  ${m}`),
        ].join('\n');
        return { json, text };
      }),
    );
}
