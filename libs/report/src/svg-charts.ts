import { formatTick, linearScale, type LinearScale } from './scale';

export interface ScatterPoint {
  x: number;
  y: number;
  label?: string;
  /** Points on the Pareto front are drawn highlighted and joined by the front's staircase. */
  highlighted?: boolean;
  /** Drawn hollow and grey: e.g. trials pruned early, whose metrics are partial. */
  muted?: boolean;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** A note under the title, e.g. that the numbers come from the analytic surrogate. */
  subtitle?: string;
}

const MARGIN = { top: 72, right: 24, bottom: 56, left: 72 };
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
  const [x0, x1] = [MARGIN.left, width - MARGIN.right];
  const [y0, y1] = [height - MARGIN.bottom, MARGIN.top];
  for (const t of x.ticks) {
    const px = x(t).toFixed(1);
    parts.push(`<line x1="${px}" y1="${y0}" x2="${px}" y2="${y1}" stroke="#eee"/>`);
    parts.push(
      `<text x="${px}" y="${y0 + 16}" text-anchor="middle" font-size="11" fill="#444">${formatTick(t)}</text>`,
    );
  }
  for (const t of y.ticks) {
    const py = y(t).toFixed(1);
    parts.push(`<line x1="${x0}" y1="${py}" x2="${x1}" y2="${py}" stroke="#eee"/>`);
    parts.push(
      `<text x="${x0 - 6}" y="${py}" text-anchor="end" dominant-baseline="middle" font-size="11" fill="#444">${formatTick(t)}</text>`,
    );
  }
  parts.push(`<rect x="${x0}" y="${y1}" width="${x1 - x0}" height="${y0 - y1}" fill="none" stroke="#888"/>`);
  parts.push(
    `<text x="${(x0 + x1) / 2}" y="${height - 14}" text-anchor="middle" font-size="12">${escapeXml(o.xLabel)}</text>`,
  );
  parts.push(
    `<text transform="translate(18 ${(y0 + y1) / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escapeXml(o.yLabel)}</text>`,
  );
  return parts;
}

function withDefaults(o: ChartOptions) {
  return { ...o, width: o.width ?? 800, height: o.height ?? 520 };
}

/**
 * Scatter of all trials with the Pareto front highlighted and labelled. x is minimized (latency),
 * y maximized (mAP), so the front is the upper-left staircase.
 */
export function paretoScatterSvg(points: ScatterPoint[], options: ChartOptions): string {
  const o = withDefaults(options);
  const x = linearScale(
    points.map((p) => p.x),
    [MARGIN.left, o.width - MARGIN.right],
    8,
    true,
  );
  const y = linearScale(
    points.map((p) => p.y),
    [o.height - MARGIN.bottom, MARGIN.top],
    6,
    true,
  );
  const parts = frame(o, x, y);
  const front = points.filter((p) => p.highlighted).sort((a, b) => a.x - b.x);
  if (front.length > 1) {
    let d = `M${x(front[0]!.x).toFixed(1)},${y(front[0]!.y).toFixed(1)}`;
    for (let i = 1; i < front.length; i++) {
      d += ` H${x(front[i]!.x).toFixed(1)} V${y(front[i]!.y).toFixed(1)}`;
    }
    parts.push(`<path d="${d}" fill="none" stroke="#d62728" stroke-width="1.5" stroke-dasharray="4 3"/>`);
  }
  for (const p of points.filter((q) => !q.highlighted)) {
    const c = `cx="${x(p.x).toFixed(1)}" cy="${y(p.y).toFixed(1)}" r="3.5"`;
    parts.push(
      p.muted
        ? `<circle ${c} fill="none" stroke="#999"/>`
        : `<circle ${c} fill="#1f77b4" fill-opacity="0.55"/>`,
    );
  }
  for (const p of front) {
    const cx = x(p.x).toFixed(1);
    const cy = y(p.y).toFixed(1);
    parts.push(`<circle cx="${cx}" cy="${cy}" r="5" fill="#d62728" stroke="#fff" stroke-width="1"/>`);
    if (p.label) {
      // labels in the right half grow leftwards so they stay inside the chart
      const right = Number(cx) > (MARGIN.left + o.width - MARGIN.right) / 2;
      parts.push(
        `<text x="${Number(cx) + (right ? -8 : 8)}" y="${Number(cy) - 7}" font-size="10" fill="#222" text-anchor="${right ? 'end' : 'start'}">${escapeXml(p.label)}</text>`,
      );
    }
  }
  const items: [string, string][] = [
    ['#1f77b4', 'trial'],
    ['#d62728', 'Pareto front'],
  ];
  if (points.some((p) => p.muted)) items.push(['#999', 'pruned early (partial metrics)']);
  parts.push(legend(o.width, items));
  parts.push('</svg>');
  return parts.join('\n');
}

export interface LineSeries {
  name: string;
  points: { x: number; y: number }[];
  color?: string;
}

export function lineChartSvg(series: LineSeries[], options: ChartOptions): string {
  const o = withDefaults(options);
  const all = series.flatMap((s) => s.points);
  const x = linearScale(
    all.map((p) => p.x),
    [MARGIN.left, o.width - MARGIN.right],
    8,
    true,
  );
  const y = linearScale(
    all.map((p) => p.y),
    [o.height - MARGIN.bottom, MARGIN.top],
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
        series.map((s, i) => [s.color ?? palette[i % palette.length]!, s.name]),
      ),
    );
  parts.push('</svg>');
  return parts.join('\n');
}

/** Legend in one row in the top margin, right-aligned, so it never covers data. */
function legend(width: number, items: [string, string][]): string {
  const widths = items.map(([, name]) => 22 + name.length * 6.2);
  let x = width - MARGIN.right - widths.reduce((a, b) => a + b, 0);
  const y = MARGIN.top - 8;
  return items
    .map(([color, name], i) => {
      const out = `<circle cx="${x + 5}" cy="${y - 4}" r="5" fill="${color}"/><text x="${x + 14}" y="${y}" font-size="11">${escapeXml(name)}</text>`;
      x += widths[i]!;
      return out;
    })
    .join('\n');
}
