/** Where a chart label goes so that it covers neither another label nor a marked point. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LabelRequest {
  /** The point the label belongs to, in pixels. */
  x: number;
  y: number;
  text: string;
}

export interface PlacedLabel {
  /** Baseline start of the text (text-anchor start). */
  x: number;
  y: number;
  box: Box;
  /** True when the label sits away from its point and a leader line should join them. */
  leader: boolean;
  /** Whether it overlaps something after all (no free place was found). */
  overlaps: boolean;
}

export interface PlacementOptions {
  fontSize?: number;
  /** Average glyph width as a fraction of the font size (DejaVu Sans: about 0.6). */
  charWidth?: number;
  /** Labels stay inside this rectangle. */
  bounds: Box;
  /** Points to keep clear (markers), as pixel centres with a radius. */
  obstacles?: { x: number; y: number; r: number }[];
}

export function textBox(text: string, fontSize: number, charWidth = 0.6): { width: number; height: number } {
  return { width: Math.ceil(text.length * fontSize * charWidth) + 2, height: Math.ceil(fontSize * 1.2) };
}

export function boxesOverlap(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

function overlapArea(a: Box, b: Box): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

function inside(b: Box, bounds: Box): boolean {
  return (
    b.x >= bounds.x &&
    b.y >= bounds.y &&
    b.x + b.width <= bounds.x + bounds.width &&
    b.y + b.height <= bounds.y + bounds.height
  );
}

/**
 * Greedy placement: each label tries the eight positions around its point at growing distances
 * and takes the first that stays inside the bounds and covers no placed label and no marker; when
 * every candidate collides it takes the least-covering one and says so. Deterministic.
 */
export function placeLabels(requests: LabelRequest[], options: PlacementOptions): PlacedLabel[] {
  const fontSize = options.fontSize ?? 10;
  const gap = 6;
  const placed: Box[] = [];
  const obstacles: Box[] = (options.obstacles ?? []).map((o) => ({
    x: o.x - o.r,
    y: o.y - o.r,
    width: 2 * o.r,
    height: 2 * o.r,
  }));
  return requests.map((req) => {
    const { width, height } = textBox(req.text, fontSize, options.charWidth);
    const candidates: { box: Box; leader: boolean }[] = [];
    for (const distance of [gap, gap + height, gap + 2.5 * height, gap + 4 * height]) {
      const dx = distance;
      const dy = distance * 0.6;
      const spots: [number, number][] = [
        [req.x + dx, req.y - dy - height], // upper right
        [req.x - dx - width, req.y - dy - height], // upper left
        [req.x + dx, req.y + dy], // lower right
        [req.x - dx - width, req.y + dy], // lower left
        [req.x + dx, req.y - height / 2], // right
        [req.x - dx - width, req.y - height / 2], // left
        [req.x - width / 2, req.y - dy - height], // above
        [req.x - width / 2, req.y + dy], // below
      ];
      for (const [x, y] of spots) candidates.push({ box: { x, y, width, height }, leader: distance > gap });
    }
    const cost = (b: Box) =>
      [...placed, ...obstacles].reduce((s, o) => s + overlapArea(b, o), 0) +
      (inside(b, options.bounds) ? 0 : 1e9);
    let best = candidates[0]!;
    let bestCost = Infinity;
    for (const c of candidates) {
      const k = cost(c.box);
      if (k === 0) {
        best = c;
        bestCost = 0;
        break;
      }
      if (k < bestCost) {
        best = c;
        bestCost = k;
      }
    }
    placed.push(best.box);
    return {
      x: best.box.x + 1,
      y: best.box.y + height * 0.8,
      box: best.box,
      leader: best.leader,
      overlaps: bestCost > 0,
    };
  });
}
