import { readFile, readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { z } from 'zod';
import { DomainError } from '@detsearch/common';
import { parseLabelText } from '../dataset/labels';
import { type Detection, type GroundTruth, fromNormalizedCxCyWh } from './boxes';
import { MapEvaluator, type MapOptions, type MapResult } from './map';

/** One prediction as `detsearch evaluate` reads it: box [cx, cy, w, h] normalized to the image. */
export interface PredictionRecord {
  image: string;
  class: number;
  score: number;
  box: [number, number, number, number];
}

const predictionSchema = z
  .object({
    image: z.string().min(1),
    class: z.number().int().nonnegative(),
    score: z.number().finite(),
    box: z.tuple([
      z.number().finite(),
      z.number().finite(),
      z.number().finite().nonnegative(),
      z.number().finite().nonnegative(),
    ]),
  })
  .strict();

/** Validates predictions JSON; the error names the offending entry and field. */
export function parsePredictions(raw: unknown): PredictionRecord[] {
  if (!Array.isArray(raw))
    throw new DomainError(
      'EVAL.INVALID_PREDICTIONS',
      'predictions: expected a JSON array of {image, class, score, box}',
      'predictions',
    );
  return raw.map((p, i) => {
    const r = predictionSchema.safeParse(p);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      const field = `predictions[${i}]${issue.path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('')}`;
      throw new DomainError('EVAL.INVALID_PREDICTIONS', `${field}: ${issue.message}`, field);
    }
    return r.data as PredictionRecord;
  });
}

export interface LabelsDirEvaluation extends MapResult {
  predictions: number;
  /** Predictions naming an image that has no label file (ignored). */
  unmatchedPredictions: number;
  /** Label rows rejected as malformed (skipped). */
  badRows: number;
  warnings: string[];
}

/**
 * Scores predictions against a labels folder (`detsearch evaluate`): every regular file in the
 * folder (dotfiles aside) is one image named by its file name without extension; an empty file is
 * an image without objects. Boxes are compared in pixels of an `imageSize` square.
 */
export async function evaluateLabelsDir(
  predictions: readonly PredictionRecord[],
  labelsDir: string,
  opts: MapOptions & { imageSize?: number } = {},
): Promise<LabelsDirEvaluation> {
  const size = opts.imageSize ?? 640;
  let entries;
  try {
    entries = await readdir(labelsDir, { withFileTypes: true });
  } catch {
    throw new DomainError('EVAL.LABELS_NOT_FOUND', `labels folder '${labelsDir}' cannot be read`, 'labels');
  }
  const files = entries
    .filter((e) => e.isFile() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
  const warnings: string[] = [];
  const gtByImage = new Map<string, GroundTruth[]>();
  let badRows = 0;
  for (const f of files) {
    const name = extname(f) ? f.slice(0, -extname(f).length) : f;
    if (gtByImage.has(name)) warnings.push(`${f}: a second label file for image '${name}'; merged`);
    const parsed = parseLabelText(await readFile(join(labelsDir, f), 'utf8'), Number.MAX_SAFE_INTEGER);
    badRows += parsed.badRows.length;
    for (const b of parsed.badRows) warnings.push(`${f}: ${b}: row skipped`);
    const gts = gtByImage.get(name) ?? [];
    for (const b of parsed.boxes)
      gts.push({ cls: b.cls, ...fromNormalizedCxCyWh(b.cx, b.cy, b.w, b.h, size, size) });
    gtByImage.set(name, gts);
  }
  const detsByImage = new Map<string, Detection[]>();
  let unmatched = 0;
  const unknown = new Set<string>();
  for (const p of predictions) {
    if (!gtByImage.has(p.image)) {
      unmatched++;
      unknown.add(p.image);
      continue;
    }
    const list = detsByImage.get(p.image) ?? [];
    list.push({ cls: p.class, score: p.score, ...fromNormalizedCxCyWh(...p.box, size, size) });
    detsByImage.set(p.image, list);
  }
  if (unknown.size > 0)
    warnings.push(
      `${unmatched} predictions name ${unknown.size} images without a label file (ignored), e.g. '${[...unknown][0]}'`,
    );
  const ev = new MapEvaluator(opts);
  for (const [name, gts] of gtByImage) ev.add(detsByImage.get(name) ?? [], gts);
  return {
    ...ev.result(),
    predictions: predictions.length,
    unmatchedPredictions: unmatched,
    badRows,
    warnings,
  };
}
