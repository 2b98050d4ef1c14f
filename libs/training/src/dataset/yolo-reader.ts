import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, resolve, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DomainError } from '@detsearch/common';
import { DataRoot } from '@detsearch/config';
import { IMAGE_EXTENSIONS, UNSUPPORTED_IMAGE_EXTENSIONS, decodeImage, readImageHeader } from './image-io';
import { labelPathForImage, parseLabelText } from './labels';
import type { YoloSample } from './types';

/** A data.yaml with every split resolved to absolute, confined paths. */
export interface DatasetConfig {
  yamlPath: string;
  /** Folder the splits are relative to: the `path` key, else the yaml's folder (Ultralytics). */
  base: string;
  train: string[];
  val: string[];
  test: string[];
  nc: number;
  names: string[];
}

/** What reading a split found; problems are counted and described, never thrown. */
export interface ReadSummary {
  /** Images kept (labelled or background). */
  images: number;
  /** Valid label rows (boxes) kept. */
  labels: number;
  corruptImages: number;
  badRows: number;
  /** Images without a label file: kept as backgrounds, as Ultralytics does. */
  missingLabels: number;
  /** Kept images with no boxes (missing or empty label file). */
  backgrounds: number;
  duplicateRows: number;
  /** Files with an image extension we cannot decode (bmp, webp, ...). */
  unsupported: number;
  messages: string[];
}

export interface SplitResult {
  samples: YoloSample[];
  summary: ReadSummary;
}

export interface ReadOptions {
  /** Paths must stay below this folder; default `DATA_ROOT` or the working directory. */
  dataRoot?: DataRoot | string;
  /** `decode` (default) fully decodes every image to catch corrupt bodies; `header` reads sizes only. */
  verify?: 'decode' | 'header';
  /** Messages kept in the summary (the counts are always complete). Default 200. */
  maxMessages?: number;
}

const splitSchema = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);
const dataYamlSchema = z
  .object({
    path: z.string().optional(),
    train: splitSchema,
    val: splitSchema,
    test: splitSchema.nullable().optional(),
    nc: z.number().int().positive().optional(),
    names: z.union([z.array(z.union([z.string(), z.number()])), z.record(z.union([z.string(), z.number()]))]),
  })
  .passthrough();

function asRoot(r: DataRoot | string | undefined): DataRoot {
  return r instanceof DataRoot ? r : new DataRoot(r);
}

function namesList(names: (string | number)[] | Record<string, string | number>): string[] {
  if (Array.isArray(names)) return names.map(String);
  const keys = Object.keys(names).map(Number);
  const n = keys.length;
  if (keys.some((k) => !Number.isInteger(k) || k < 0 || k >= n))
    throw new DomainError('DATASET.INVALID_YAML', 'names: a map must have integer keys 0..n-1', 'names');
  const out = new Array<string>(n);
  for (const [k, v] of Object.entries(names)) out[Number(k)] = String(v);
  return out;
}

/**
 * Loads and validates a data.yaml (Ultralytics check_det_dataset): `path` relative to the yaml's
 * folder (absent: the yaml's folder), then train/val/test relative to it, each a folder, a .txt
 * list of images or an image; a missing `../x` is retried as `x` as Ultralytics does.
 */
export async function loadDataConfig(
  yamlPath: string,
  opts: Pick<ReadOptions, 'dataRoot'> = {},
): Promise<DatasetConfig> {
  const root = asRoot(opts.dataRoot);
  const yamlReal = root.confine(yamlPath, 'data', process.cwd());
  let raw: unknown;
  try {
    raw = parseYaml(await readFile(yamlReal, 'utf8'));
  } catch (err) {
    throw new DomainError(
      'DATASET.INVALID_YAML',
      `${yamlPath} does not parse: ${(err as Error).message}`,
      'data',
    );
  }
  const parsed = dataYamlSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.') || 'data';
    throw new DomainError('DATASET.INVALID_YAML', `${yamlPath}: ${field}: ${issue.message}`, field);
  }
  const d = parsed.data;
  const names = namesList(d.names);
  const nc = d.nc ?? names.length;
  if (names.length !== nc)
    throw new DomainError(
      'DATASET.INVALID_YAML',
      `${yamlPath}: nc is ${nc} but names has ${names.length} entries`,
      'names',
    );
  const yamlDir = dirname(yamlReal);
  const base = d.path ? root.confine(d.path, 'path', yamlDir) : yamlDir;
  const resolveSplit = (key: string, v: string | string[] | null | undefined): string[] => {
    if (v === undefined || v === null) return [];
    return (Array.isArray(v) ? v : [v]).map((p) => {
      const found = root.confineIfExists(p, key, base);
      if (found) return found;
      if (p.startsWith('../')) {
        const retry = root.confineIfExists(p.slice(3), key, base);
        if (retry) return retry;
      }
      throw new DomainError('DATASET.NOT_FOUND', `${key}: '${resolve(base, p)}' does not exist`, key);
    });
  };
  return {
    yamlPath: yamlReal,
    base,
    train: resolveSplit('train', d.train),
    val: resolveSplit('val', d.val),
    test: resolveSplit('test', d.test),
    nc,
    names,
  };
}

function emptySummary(): ReadSummary {
  return {
    images: 0,
    labels: 0,
    corruptImages: 0,
    badRows: 0,
    missingLabels: 0,
    backgrounds: 0,
    duplicateRows: 0,
    unsupported: 0,
    messages: [],
  };
}

/** Lists image files below `dir`, following symlinks only while they stay below the root. */
async function walkImages(
  dir: string,
  root: DataRoot,
  out: string[],
  note: (m: string) => void,
  seen: Set<string>,
) {
  if (seen.has(dir)) return;
  seen.add(dir);
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    let real = p;
    let isDir = e.isDirectory();
    if (e.isSymbolicLink()) {
      try {
        real = root.confine(p, 'image path');
        isDir = (await stat(real)).isDirectory();
      } catch (err) {
        note(`${p}: skipped: ${(err as Error).message}`);
        continue;
      }
    }
    if (isDir) await walkImages(real, root, out, note, seen);
    else out.push(real);
  }
}

async function listSource(src: string, root: DataRoot, note: (m: string) => void): Promise<string[]> {
  const s = await stat(src);
  if (s.isDirectory()) {
    const files: string[] = [];
    await walkImages(src, root, files, note, new Set());
    return files;
  }
  if (extname(src).toLowerCase() === '.txt') {
    const parent = dirname(src);
    const out: string[] = [];
    for (const line of (await readFile(src, 'utf8')).split(/\r?\n/)) {
      const p = line.trim();
      if (!p) continue;
      try {
        // Relative lines are taken relative to the list's folder (Ultralytics does so for `./`).
        const real = root.confineIfExists(isAbsolute(p) ? p : join(parent, p), 'image path');
        if (real) out.push(real);
        else note(`${src}: listed image '${p}' does not exist`);
      } catch (err) {
        note(`${src}: listed image rejected: ${(err as Error).message}`);
      }
    }
    return out;
  }
  return [src];
}

/**
 * Reads the images and labels of one split. Sources are already-confined absolute paths (from
 * loadDataConfig) or paths resolved against the root. Per-file problems are counted and skipped.
 */
export async function readYoloSplit(
  sources: string[],
  nc: number,
  opts: ReadOptions = {},
): Promise<SplitResult> {
  const root = asRoot(opts.dataRoot);
  const maxMessages = opts.maxMessages ?? 200;
  const summary = emptySummary();
  let dropped = 0;
  const note = (m: string) => {
    if (summary.messages.length < maxMessages) summary.messages.push(m);
    else dropped++;
  };
  const files: string[] = [];
  for (const s of sources) files.push(...(await listSource(root.confine(s, 'split'), root, note)));
  const images = [...new Set(files)]
    .filter((f) => {
      const ext = extname(f).toLowerCase();
      if (IMAGE_EXTENSIONS.includes(ext)) return true;
      if (UNSUPPORTED_IMAGE_EXTENSIONS.includes(ext)) {
        summary.unsupported++;
        note(`${f}: unsupported image format '${ext}' (jpg and png are read)`);
      }
      return false;
    })
    .sort();

  const samples: (YoloSample | null)[] = new Array(images.length).fill(null);
  // Messages are kept per image and flushed in path order, so summaries are reproducible.
  const pending: string[][] = images.map(() => []);
  const readOne = async (i: number) => {
    const image = images[i]!;
    const note = (m: string) => pending[i]!.push(m);
    let width: number;
    let height: number;
    try {
      const bytes = await readFile(image);
      const dims = opts.verify === 'header' ? readImageHeader(bytes) : decodeImage(bytes);
      width = dims.width;
      height = dims.height;
    } catch (err) {
      summary.corruptImages++;
      note(`${image}: corrupt image skipped: ${(err as Error).message}`);
      return;
    }
    const labelGuess = labelPathForImage(image, sep);
    let label: string | null = null;
    try {
      label = root.confineIfExists(labelGuess, 'label path');
    } catch (err) {
      note(`${labelGuess}: label rejected: ${(err as Error).message}`);
    }
    let boxes: YoloSample['boxes'] = [];
    if (label === null) {
      summary.missingLabels++;
      note(`${image}: no label file ${basename(labelGuess)}: used as a background image`);
    } else {
      const parsed = parseLabelText(await readFile(label, 'utf8'), nc);
      boxes = parsed.boxes;
      summary.badRows += parsed.badRows.length;
      summary.duplicateRows += parsed.duplicates;
      for (const b of parsed.badRows) note(`${label}: ${b}: row skipped`);
    }
    if (boxes.length === 0) summary.backgrounds++;
    summary.labels += boxes.length;
    samples[i] = { image, label, width, height, boxes };
  };
  const CONCURRENCY = 16;
  for (let i = 0; i < images.length; i += CONCURRENCY) {
    const chunk = [];
    for (let j = i; j < Math.min(images.length, i + CONCURRENCY); j++) chunk.push(readOne(j));
    await Promise.all(chunk);
  }
  for (const msgs of pending) for (const m of msgs) note(m);
  const kept = samples.filter((s): s is YoloSample => s !== null);
  summary.images = kept.length;
  if (dropped > 0) summary.messages.push(`... ${dropped} more messages`);
  return { samples: kept, summary };
}

export interface DatasetResult {
  config: DatasetConfig;
  train: SplitResult;
  val: SplitResult;
}

/** Loads a data.yaml and reads its train and val splits. */
export async function readYoloDataset(yamlPath: string, opts: ReadOptions = {}): Promise<DatasetResult> {
  const root = asRoot(opts.dataRoot);
  const config = await loadDataConfig(yamlPath, { dataRoot: root });
  const o = { ...opts, dataRoot: root };
  return {
    config,
    train: await readYoloSplit(config.train, config.nc, o),
    val: await readYoloSplit(config.val, config.nc, o),
  };
}
