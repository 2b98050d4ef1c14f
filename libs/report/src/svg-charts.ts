import { placeLabels } from './label-placement';
import { linearScale, type LinearScale } from './scale';

export interface ScatterPoint {
  x: number;
  y: number;
  label?: string;
  /** Points on the Pareto front are drawn highlighted and joined by the front's staircase. */
  highlighted?: boolean;
  /** Drawn hollow and grey: e.g. trials pruned early, whose metrics are partial. */
  muted?: boolean;
  /** Breaks a constraint (e.g. over the latency limit): drawn as a cross, never as a front point. */
  infeasible?: boolean;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** A note under the title, e.g. that the numbers come from the analytic surrogate. */
  subtitle?: string;
  /** Lines of explanation under the chart (what an axis means, how a value is normalized). */
  caption?: string[];
}

export interface ScatterOptions extends ChartOptions {
  /** A vertical limit on x (the latency budget): drawn as a dashed line with its label. */
  xLimit?: { value: number; label: string };
}

export interface LineChartOptions extends ChartOptions {
  /** x counts things (trials): whole-number ticks only. */
  integerX?: boolean;
}

const MARGIN = { top: 72, right: 24, bottom: 56, left: 72 };
const CAPTION_LINE = 15;

/** Bottom margin: the axis label plus any caption lines. */
function bottomMargin(o: ChartOptions): number {
  return MARGIN.bottom + (o.caption?.length ?? 0) * CAPTION_LINE;
}
const FONT = 'DejaVu Sans, Arial, Helvetica, sans-serif';

export function escapeXml(s: string): string {
  return s.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!,
  );
}

function frame(
  o: Required<Pick<ChartOptions, 'width' | 'height'>> & ChartOptions,
  x: LinearScale,
  y: LinearScale,
): string[] {
  const { width, height } = o;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(o.title)}</text>`,
  ];
  if (o.subtitle) {
    parts.push(
      `<text x="${width / 2}" y="42" text-anchor="middle" font-size="11" fill="#a33">${escapeXml(o.subtitle)}</text>`,
    );
  }
  const bottom = bottomMargin(o);
  const [x0, x1] = [MARGIN.left, width - MARGIN.right];
  const [y0, y1] = [height - bottom, MARGIN.top];
  x.ticks.forEach((t, i) => {
    const px = x(t).toFixed(1);
    parts.push(`<line x1="${px}" y1="${y0}" x2="${px}" y2="${y1}" stroke="#eee"/>`);
    parts.push(
      `<text x="${px}" y="${y0 + 16}" text-anchor="middle" font-size="11" fill="#444">${x.labels[i]}</text>`,
    );
  });
  y.ticks.forEach((t, i) => {
    const py = y(t).toFixed(1);
    parts.push(`<line x1="${x0}" y1="${py}" x2="${x1}" y2="${py}" stroke="#eee"/>`);
    parts.push(
      `<text x="${x0 - 6}" y="${py}" text-anchor="end" dominant-baseline="middle" font-size="11" fill="#444">${y.labels[i]}</text>`,
    );
  });
  parts.push(`<rect x="${x0}" y="${y1}" width="${x1 - x0}" height="${y0 - y1}" fill="none" stroke="#888"/>`);
  parts.push(
    `<text x="${(x0 + x1) / 2}" y="${y0 + 36}" text-anchor="middle" font-size="12">${escapeXml(o.xLabel)}</text>`,
  );
  (o.caption ?? []).forEach((line, i) =>
    parts.push(
      `<text x="${x0}" y="${y0 + 40 + (i + 1) * CAPTION_LINE}" font-size="11" fill="#555">${escapeXml(line)}</text>`,
    ),
  );
  parts.push(
    `<text transform="translate(18 ${(y0 + y1) / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escapeXml(o.yLabel)}</text>`,
  );
  return parts;
}

function withDefaults<O extends ChartOptions>(o: O) {
  return { ...o, width: o.width ?? 800, height: o.height ?? 520 };
}

/**
 * Scatter of all trials with the Pareto front highlighted and labelled. x is minimized (latency),
 * y maximized (mAP), so the front is the upper-left staircase. Infeasible trials are crosses, the
 * x limit a dashed line; labels are placed so they overlap neither each other nor the markers.
 */
export function paretoScatterSvg(points: ScatterPoint[], options: ScatterOptions): string {
  const o = withDefaults(options);
  const bottom = bottomMargin(o);
  const xs = points.map((p) => p.x);
  if (o.xLimit) xs.push(o.xLimit.value);
  const x = linearScale(xs, [MARGIN.left, o.width - MARGIN.right], 8, true);
  const y = linearScale(
    points.map((p) => p.y),
    [o.height - bottom, MARGIN.top],
    6,
    true,
  );
  const parts = frame(o, x, y);
  const [plotTop, plotBottom] = [MARGIN.top, o.height - bottom];
  if (o.xLimit) {
    const px = x(o.xLimit.value);
    const right = o.width - MARGIN.right;
    if (right - px > 0.5)
      parts.push(
        `<rect x="${px.toFixed(1)}" y="${plotTop}" width="${(right - px).toFixed(1)}" height="${plotBottom - plotTop}" fill="#f58518" fill-opacity="0.06"/>`,
      );
    parts.push(
      `<line x1="${px.toFixed(1)}" y1="${plotTop}" x2="${px.toFixed(1)}" y2="${plotBottom}" stroke="#f58518" stroke-width="1.5" stroke-dasharray="6 4"/>`,
    );
    parts.push(
      `<text x="${(px - 4).toFixed(1)}" y="${plotTop + 14}" text-anchor="end" font-size="10" fill="#b35806">${escapeXml(o.xLimit.label)}</text>`,
    );
  }
  const front = points.filter((p) => p.highlighted && !p.infeasible).sort((a, b) => a.x - b.x);
  if (front.length > 1) {
    let d = `M${x(front[0]!.x).toFixed(1)},${y(front[0]!.y).toFixed(1)}`;
    for (let i = 1; i < front.length; i++) {
      d += ` H${x(front[i]!.x).toFixed(1)} V${y(front[i]!.y).toFixed(1)}`;
    }
    parts.push(`<path d="${d}" fill="none" stroke="#d62728" stroke-width="1.5" stroke-dasharray="4 3"/>`);
  }
  for (const p of points.filter((q) => !front.includes(q))) {
    const [cx, cy] = [x(p.x).toFixed(1), y(p.y).toFixed(1)];
    if (p.infeasible) parts.push(cross(Number(cx), Number(cy), p.muted ? '#bbb' : '#e6550d'));
    else
      parts.push(
        p.muted
          ? `<circle cx="${cx}" cy="${cy}" r="3.5" fill="none" stroke="#999"/>`
          : `<circle cx="${cx}" cy="${cy}" r="3.5" fill="#1f77b4" fill-opacity="0.55"/>`,
      );
  }
  for (const p of front)
    parts.push(
      `<circle cx="${x(p.x).toFixed(1)}" cy="${y(p.y).toFixed(1)}" r="5" fill="#d62728" stroke="#fff" stroke-width="1"/>`,
    );
  const labelled = front.filter((p) => p.label);
  const placed = placeLabels(
    labelled.map((p) => ({ x: x(p.x), y: y(p.y), text: p.label! })),
    {
      fontSize: 10,
      bounds: {
        x: MARGIN.left,
        y: plotTop,
        width: o.width - MARGIN.right - MARGIN.left,
        height: plotBottom - plotTop,
      },
      obstacles: points.map((p) => ({ x: x(p.x), y: y(p.y), r: 5 })),
    },
  );
  placed.forEach((l, i) => {
    const p = labelled[i]!;
    if (l.leader) {
      const lx = Math.min(Math.max(x(p.x), l.box.x), l.box.x + l.box.width);
      const ly = Math.min(Math.max(y(p.y), l.box.y), l.box.y + l.box.height);
      parts.push(
        `<line x1="${x(p.x).toFixed(1)}" y1="${y(p.y).toFixed(1)}" x2="${lx.toFixed(1)}" y2="${ly.toFixed(1)}" stroke="#999" stroke-width="0.7"/>`,
      );
    }
    parts.push(
      `<text x="${l.x.toFixed(1)}" y="${l.y.toFixed(1)}" font-size="10" fill="#222">${escapeXml(p.label!)}</text>`,
    );
  });
  const items: LegendItem[] = [
    { color: '#1f77b4', name: 'trial' },
    { color: '#d62728', name: 'Pareto front' },
  ];
  if (points.some((p) => p.muted && !p.infeasible))
    items.push({ color: '#999', name: 'pruned early (partial)', hollow: true });
  if (points.some((p) => p.infeasible))
    items.push({ color: '#e6550d', name: 'infeasible (over the limit)', cross: true });
  parts.push(legend(o.width, items));
  parts.push('</svg>');
  return parts.join('\n');
}

function cross(cx: number, cy: number, color: string, r = 4): string {
  return (
    `<path d="M${(cx - r).toFixed(1)},${(cy - r).toFixed(1)} L${(cx + r).toFixed(1)},${(cy + r).toFixed(1)} ` +
    `M${(cx - r).toFixed(1)},${(cy + r).toFixed(1)} L${(cx + r).toFixed(1)},${(cy - r).toFixed(1)}" ` +
    `stroke="${color}" stroke-width="1.8" class="infeasible"/>`
  );
}

export interface LineSeries {
  name: string;
  points: { x: number; y: number }[];
  color?: string;
}

export function lineChartSvg(series: LineSeries[], options: LineChartOptions): string {
  const o = withDefaults(options);
  const all = series.flatMap((s) => s.points);
  const x = linearScale(
    all.map((p) => p.x),
    [MARGIN.left, o.width - MARGIN.right],
    8,
    true,
    { integer: o.integerX },
  );
  const y = linearScale(
    all.map((p) => p.y),
    [o.height - bottomMargin(o), MARGIN.top],
    6,
    true,
  );
  const parts = frame(o, x, y);
  const palette = ['#2ca02c', '#1f77b4', '#ff7f0e', '#9467bd'];
  series.forEach((s, i) => {
    const color = s.color ?? palette[i % palette.length]!;
    if (s.points.length === 0) return;
    const d = s.points.map((p, j) => `${j ? 'L' : 'M'}${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const p of s.points)
      parts.push(`<circle cx="${x(p.x).toFixed(1)}" cy="${y(p.y).toFixed(1)}" r="2.5" fill="${color}"/>`);
  });
  if (series.length > 1)
    parts.push(
      legend(
        o.width,
        series.map((s, i) => ({ color: s.color ?? palette[i % palette.length]!, name: s.name })),
      ),
    );
  parts.push('</svg>');
  return parts.join('\n');
}

interface LegendItem {
  color: string;
  name: string;
  hollow?: boolean;
  cross?: boolean;
}

/** Legend in one row in the top margin, right-aligned, so it never covers data. */
function legend(width: number, items: LegendItem[]): string {
  const widths = items.map((i) => 22 + i.name.length * 6.2);
  let x = width - MARGIN.right - widths.reduce((a, b) => a + b, 0);
  const y = MARGIN.top - 8;
  return items
    .map((item, i) => {
      const marker = item.cross
        ? cross(x + 5, y - 4, item.color)
        : item.hollow
          ? `<circle cx="${x + 5}" cy="${y - 4}" r="4.5" fill="none" stroke="${item.color}"/>`
          : `<circle cx="${x + 5}" cy="${y - 4}" r="5" fill="${item.color}"/>`;
      const out = `${marker}<text x="${x + 14}" y="${y}" font-size="11">${escapeXml(item.name)}</text>`;
      x += widths[i]!;
      return out;
    })
    .join('\n');
}
