import type { LabelBox } from './types';

export interface ParsedLabels {
  boxes: LabelBox[];
  /** One message per rejected row: `line N: reason`. */
  badRows: string[];
  duplicates: number;
}

// Ultralytics tolerates float noise at the [0, 1] edges of normalized coordinates.
const EDGE_TOLERANCE = 1e-6;

/**
 * Parses a YOLO label file: rows `class cx cy w h` normalized to [0, 1]. A bad row (wrong number of
 * columns, non-numeric, class not an integer in [0, nc), coordinates out of range, zero size) is
 * rejected on its own; the others are kept. Exact duplicate rows are dropped as Ultralytics does.
 */
export function parseLabelText(text: string, nc: number): ParsedLabels {
  const boxes: LabelBox[] = [];
  const badRows: string[] = [];
  const seen = new Set<string>();
  let duplicates = 0;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const cols = line.split(/\s+/);
    const where = `line ${i + 1}`;
    if (cols.length !== 5) {
      badRows.push(`${where}: expected 5 columns 'class cx cy w h', got ${cols.length}`);
      continue;
    }
    const v = cols.map(Number);
    if (v.some((x) => !Number.isFinite(x))) {
      badRows.push(`${where}: non-numeric value in '${line.slice(0, 80)}'`);
      continue;
    }
    const [cls, cx, cy, w, h] = v as [number, number, number, number, number];
    if (!Number.isInteger(cls) || cls < 0 || cls >= nc) {
      badRows.push(`${where}: class ${cols[0]} is not an integer in [0, ${nc})`);
      continue;
    }
    if ([cx, cy, w, h].some((x) => x < -EDGE_TOLERANCE || x > 1 + EDGE_TOLERANCE)) {
      badRows.push(`${where}: coordinates must be normalized to [0, 1], got '${cols.slice(1).join(' ')}'`);
      continue;
    }
    if (w <= 0 || h <= 0) {
      badRows.push(`${where}: box has zero width or height`);
      continue;
    }
    const key = cols.join(' ');
    if (seen.has(key)) {
      duplicates++;
      continue;
    }
    seen.add(key);
    const clamp = (x: number) => Math.min(1, Math.max(0, x));
    boxes.push({ cls, cx: clamp(cx), cy: clamp(cy), w: clamp(w), h: clamp(h) });
  }
  return { boxes, badRows, duplicates };
}

/** Ultralytics' img2label_paths: the last `/images/` becomes `/labels/`, the extension `.txt`. */
export function labelPathForImage(imagePath: string, sep = '/'): string {
  const sa = `${sep}images${sep}`;
  const sb = `${sep}labels${sep}`;
  const i = imagePath.lastIndexOf(sa);
  const swapped = i < 0 ? imagePath : imagePath.slice(0, i) + sb + imagePath.slice(i + sa.length);
  const dot = swapped.lastIndexOf('.');
  const slash = swapped.lastIndexOf(sep);
  return (dot > slash ? swapped.slice(0, dot) : swapped) + '.txt';
}
