import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { evaluateLabelsDir, parsePredictions } from '@detsearch/training';
import { action, formatTable, parseIntOption, UsageError } from '../cli-kit';

interface EvaluateOptions {
  predictions: string;
  labels: string;
  img: number;
  json?: boolean;
}

const round = (x: number | null) => (x === null ? null : Math.round(x * 1e6) / 1e6);

export function registerEvaluate(program: Command): void {
  program
    .command('evaluate')
    .description('COCO-style mAP@0.5 and mAP@0.5:0.95 of YOLO-format predictions against a labels folder')
    .requiredOption(
      '--predictions <file>',
      'JSON array of {image, class, score, box: [cx, cy, w, h]} (normalized)',
    )
    .requiredOption('--labels <dir>', 'labels folder: one <image>.txt per image, an empty file = no objects')
    .option('--img <n>', 'square image size in pixels', parseIntOption('img', 1, 100_000), 640)
    .option('--json', 'one JSON object on stdout')
    .action(
      action<EvaluateOptions>(async (o) => {
        let raw: unknown;
        try {
          raw = JSON.parse(readFileSync(o.predictions, 'utf8'));
        } catch (err) {
          throw new UsageError(`--predictions: cannot read '${o.predictions}': ${(err as Error).message}`);
        }
        const r = await evaluateLabelsDir(parsePredictions(raw), o.labels, { imageSize: o.img });
        for (const w of r.warnings.slice(0, 20)) process.stderr.write(`detsearch: warning: ${w}\n`);
        const perClass = r.perClass.map((c) => ({
          class: c.class,
          ap50: round(c.ap50),
          ap50_95: round(c.ap50_95),
          numGt: c.numGt,
          numDetections: c.numDetections,
        }));
        const json = {
          map50: round(r.map50),
          map50_95: round(r.map50_95),
          perClass,
          images: r.images,
          predictions: r.predictions,
          unmatchedPredictions: r.unmatchedPredictions,
          badRows: r.badRows,
        };
        const fmt = (x: number | null) => (x === null ? '-' : x.toFixed(4));
        const table = formatTable(
          ['class', 'gt', 'dets', 'AP50', 'AP50-95'],
          perClass.map((c) => [c.class, c.numGt, c.numDetections, fmt(c.ap50), fmt(c.ap50_95)]),
        );
        const text = `${table}\nall: ${r.images} images, mAP@0.5 ${fmt(r.map50)}, mAP@0.5:0.95 ${fmt(r.map50_95)}`;
        return { json, text };
      }),
    );
}
