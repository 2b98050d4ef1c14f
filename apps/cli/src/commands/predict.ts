import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { Resvg } from '@resvg/resvg-js';
import { escapeXml } from '@detsearch/report';
import { action, formatTable, readAnyDataPath, UsageError } from '../cli-kit';

interface PredictOptions {
  onnx: string;
  images: string;
  out: string;
  conf: string;
  iou: string;
  data?: string;
  threads?: string;
  json?: boolean;
}

/** One detection in the format `detsearch evaluate` reads: box [cx, cy, w, h] normalized to the image. */
interface PredictionRow {
  image: string;
  class: number;
  score: number;
  box: [number, number, number, number];
}

const PALETTE = ['#ff3838', '#2c99a8', '#ff9d97', '#1a9334', '#ff701f', '#6473ff', '#cb38ff', '#ffb21d'];

function parseUnit(name: string, value: string): number {
  const v = Number(value);
  if (!(v >= 0 && v <= 1)) throw new UsageError(`--${name}: expected a number in [0, 1], got '${value}'`);
  return v;
}

/** The image with its boxes and "name score" tags, drawn through SVG so the tags have real text. */
function drawDetections(
  png: Buffer,
  width: number,
  height: number,
  dets: { x1: number; y1: number; x2: number; y2: number; cls: number; score: number }[],
  names: readonly string[],
): Buffer {
  const line = Math.max(2, Math.round(Math.max(width, height) / 300));
  const font = Math.max(10, Math.round(Math.max(width, height) / 45));
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}" font-family="DejaVu Sans, sans-serif">`,
    `<image width="${width}" height="${height}" xlink:href="data:image/png;base64,${png.toString('base64')}"/>`,
  ];
  for (const d of dets) {
    const color = PALETTE[d.cls % PALETTE.length]!;
    const tag = `${names[d.cls] ?? `class ${d.cls}`} ${d.score.toFixed(2)}`;
    const tagW = Math.ceil(tag.length * font * 0.6) + 6;
    const tagY = d.y1 - font - 4 >= 0 ? d.y1 - font - 4 : d.y1;
    parts.push(
      `<rect x="${d.x1.toFixed(1)}" y="${d.y1.toFixed(1)}" width="${(d.x2 - d.x1).toFixed(1)}" height="${(d.y2 - d.y1).toFixed(1)}" fill="none" stroke="${color}" stroke-width="${line}"/>`,
      `<rect x="${d.x1.toFixed(1)}" y="${tagY.toFixed(1)}" width="${tagW}" height="${font + 4}" fill="${color}"/>`,
      `<text x="${(d.x1 + 3).toFixed(1)}" y="${(tagY + font).toFixed(1)}" font-size="${font}" fill="#fff">${escapeXml(tag)}</text>`,
    );
  }
  parts.push('</svg>');
  return new Resvg(parts.join('\n'), {
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  })
    .render()
    .asPng();
}

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description(
      'run an exported ONNX detector on a folder of images: boxes as JSON and drawn on copies of the images',
    )
    .requiredOption(
      '--onnx <file>',
      'ONNX model written by a search (runs/<id>/models) or `detsearch export`',
    )
    .requiredOption('--images <dir>', 'folder of .jpg/.png images (or one image)')
    .option('--out <dir>', 'where predictions.json and the drawn images go', 'runs/predict')
    .option('--conf <t>', 'confidence threshold', '0.25')
    .option('--iou <t>', 'NMS IoU threshold', '0.45')
    .option(
      '--data <data.yaml>',
      'class names from this data.yaml (default: the synthetic set for 6 classes)',
    )
    .option('--threads <n>', 'onnxruntime intra-op threads', '1')
    .option('--json', 'one JSON object on stdout')
    .action(
      action<PredictOptions>(async (o) => {
        if (!existsSync(o.onnx)) throw new UsageError(`--onnx: no such file '${o.onnx}'`);
        if (!existsSync(o.images)) throw new UsageError(`--images: no such folder or file '${o.images}'`);
        const conf = parseUnit('conf', o.conf);
        const iou = parseUnit('iou', o.iou);
        const threads = Number(o.threads);
        if (!Number.isInteger(threads) || threads < 1)
          throw new UsageError(`--threads: expected an integer >= 1`);
        const training = await import('@detsearch/training');
        const { OnnxModel } = await import('@detsearch/model-onnx');
        const files = statSync(o.images).isDirectory()
          ? readdirSync(o.images)
              .filter((f) => training.IMAGE_EXTENSIONS.includes(extname(f).toLowerCase()))
              .sort()
              .map((f) => join(o.images, f))
          : [o.images];
        if (files.length === 0) throw new UsageError(`--images: no .jpg/.png images in '${o.images}'`);

        let model;
        try {
          model = await OnnxModel.load(o.onnx, { threads });
        } catch (err) {
          throw new UsageError(`--onnx: ${o.onnx} does not load: ${(err as Error).message.split('\n')[0]}`);
        }
        const size = model.inputShape[2]!;
        if (model.inputShape.length !== 4 || model.inputShape[3] !== size || model.outputNames.length !== 3)
          throw new UsageError(`--onnx: expected a YOLOv5 detector (input [1,3,S,S], 3 Detect outputs)`);
        let names: readonly string[] = [];
        if (o.data) {
          readAnyDataPath(o.data);
          names = (await training.loadDataConfig(o.data)).names;
        }
        const out = resolve(o.out);
        mkdirSync(out, { recursive: true });
        const predictions: PredictionRow[] = [];
        const drawn: string[] = [];
        const perImage: [string, number][] = [];
        let numClasses = 0;
        const started = performance.now();
        try {
          for (const file of files) {
            let img;
            try {
              img = training.decodeImage(new Uint8Array(readFileSync(file)));
            } catch (err) {
              process.stderr.write(`detsearch: warning: ${file}: skipped: ${(err as Error).message}\n`);
              continue;
            }
            const lb = training.letterbox(img, size);
            const nchw = new Float32Array(3 * size * size);
            const plane = size * size;
            for (let i = 0; i < plane; i++)
              for (let c = 0; c < 3; c++) nchw[c * plane + i] = lb.image.data[i * 3 + c]! / 255;
            const outs = await model.run(nchw);
            const g0 = size / 8;
            numClasses = outs[0]!.length / (3 * g0 * g0) - 5;
            if (!Number.isInteger(numClasses) || numClasses < 1)
              throw new UsageError(
                `--onnx: output 0 has ${outs[0]!.length} values: not a YOLOv5 Detect head`,
              );
            const levels = outs.map((data, l) => {
              const g = size / (8 << l);
              return { data, shape: [1, 3 * (numClasses + 5), g, g] };
            });
            const dets = training.postprocessYolo(levels, {
              numClasses,
              layout: 'nchw',
              confThreshold: conf,
              iouThreshold: iou,
              maxDetections: 1000,
              multiLabel: false,
            })[0]!;
            // From the letterboxed square back to the image's own pixels.
            const back = dets.map((d) => {
              const unmap = (v: number, pad: number, max: number) =>
                Math.min(max, Math.max(0, (v - pad) / lb.ratio));
              return {
                x1: unmap(d.x1, lb.padX, img.width),
                y1: unmap(d.y1, lb.padY, img.height),
                x2: unmap(d.x2, lb.padX, img.width),
                y2: unmap(d.y2, lb.padY, img.height),
                cls: d.cls,
                score: d.score,
              };
            });
            const stem = basename(file, extname(file));
            for (const d of back)
              predictions.push({
                image: stem,
                class: d.cls,
                score: Math.round(d.score * 1e5) / 1e5,
                box: [
                  (d.x1 + d.x2) / 2 / img.width,
                  (d.y1 + d.y2) / 2 / img.height,
                  (d.x2 - d.x1) / img.width,
                  (d.y2 - d.y1) / img.height,
                ].map((v) => Math.round(v * 1e6) / 1e6) as PredictionRow['box'],
              });
            if (names.length === 0 && numClasses === training.SYNTH_CLASSES.length)
              names = training.SYNTH_CLASSES;
            const target = join(out, `${stem}.png`);
            writeFileSync(
              target,
              drawDetections(training.encodePng(img), img.width, img.height, back, names),
            );
            drawn.push(target);
            perImage.push([basename(file), back.length]);
          }
        } finally {
          await model.dispose();
        }
        const predictionsPath = join(out, 'predictions.json');
        writeFileSync(predictionsPath, `${JSON.stringify(predictions, null, 1)}\n`);
        const seconds = (performance.now() - started) / 1000;
        const json = {
          model: resolve(o.onnx),
          imageSize: size,
          numClasses,
          names,
          images: drawn.length,
          detections: predictions.length,
          conf,
          iou,
          seconds: Math.round(seconds * 100) / 100,
          out,
          predictions: predictionsPath,
          files: drawn,
        };
        const text = [
          formatTable(['image', 'detections'], perImage.slice(0, 20)),
          perImage.length > 20 ? `... and ${perImage.length - 20} more images` : '',
          `${predictions.length} detections on ${drawn.length} images (conf ${conf}, IoU ${iou}, ${size}px, ${seconds.toFixed(1)} s)`,
          `wrote ${predictionsPath} (the format \`detsearch evaluate --predictions\` reads) and the drawn images to ${out}`,
        ]
          .filter(Boolean)
          .join('\n');
        return { json, text };
      }),
    );
}
