import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { SUPERNET_RECIPE } from '@detsearch/supernet';

/**
 * Fingerprints that decide whether a trained supernet can be reused: the same bytes of data and
 * the same search space give the same fingerprint; anything else gives another one.
 */

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** JSON with object keys sorted at every level, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Fields of a search-space spec that describe it without changing it. */
const DESCRIPTIVE_FIELDS = new Set(['name', 'description']);

/**
 * The resolved search space's fingerprint, with the supernet training recipe's version: a supernet
 * of the same space trained by an older recipe is not the same supernet. The activation is left
 * out: supernets are trained per activation, which is matched on its own column.
 */
export function spaceFingerprint(spec: Record<string, unknown>, recipe = SUPERNET_RECIPE): string {
  const kept = Object.fromEntries(
    Object.entries(spec).filter(([k]) => !DESCRIPTIVE_FIELDS.has(k) && k !== 'activation'),
  );
  return `space:${sha256(canonicalJson({ ...kept, recipe }))}`;
}

/** A generated synthetic dataset is identified by its generation parameters. */
export function syntheticFingerprint(params: { images: number; seed: number; size: number }): string {
  return `synthetic:${sha256(canonicalJson({ synthetic: params }))}`;
}

const DATA_FILE = /\.(jpe?g|png|bmp|webp|tiff?|txt)$/i;
const MAX_FILES = 500_000;

/**
 * A YOLO dataset's fingerprint: the data.yaml's content plus the sorted names and sizes of the
 * image and label files below its root (the `path` key, else the yaml's folder) and below any
 * split folder outside that root. Cheap (no file is read but the yaml) and changes whenever a file
 * is added, removed, renamed or resized.
 */
export function datasetFingerprint(dataYaml: string): string {
  const yamlPath = resolve(dataYaml);
  const text = readFileSync(yamlPath, 'utf8');
  const doc = (parseYaml(text) ?? {}) as { path?: unknown; train?: unknown; val?: unknown };
  const yamlDir = dirname(yamlPath);
  const base = typeof doc.path === 'string' ? resolve(yamlDir, doc.path) : yamlDir;
  const roots = [base];
  for (const split of [doc.train, doc.val].flat()) {
    if (typeof split !== 'string') continue;
    const dir = isAbsolute(split) ? split : resolve(base, split);
    if (!isInside(dir, base) && isDirectory(dir)) roots.push(dir);
  }
  const lines: string[] = [];
  for (const root of roots) walk(root, root, lines);
  lines.sort();
  return `dataset:${sha256(`${text}\n--\n${lines.join('\n')}`)}`;
}

function walk(root: string, dir: string, out: string[]): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (e.name.startsWith('.') || out.length >= MAX_FILES) continue;
    const full = join(dir, e.name);
    if (e.isDirectory()) walk(root, full, out);
    else if (e.isFile() && DATA_FILE.test(extname(e.name) || e.name))
      out.push(`${relative(root, full).split(sep).join('/')}\t${statSync(full).size}`);
  }
}

function isInside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
