// Chart helpers: one Chart.js instance per canvas updated in place, drag-to-zoom on any chart
// (double-click resets), the latency-limit line, and parallel coordinates drawn as SVG.
import { esc, isNum } from './format.js';

const charts = new Map();

/** Creates or updates the chart on canvas `id`; returns it (undefined when Chart.js is missing). */
export function upsertChart(id, config) {
  if (typeof Chart === 'undefined') return undefined;
  const canvas = document.getElementById(id);
  if (!canvas) return undefined;
  let chart = charts.get(id);
  if (chart && chart.canvas !== canvas) {
    chart.destroy();
    chart = undefined;
  }
  if (chart) {
    chart.data = config.data;
    chart.options = config.options;
    chart.$base = null;
    if (chart.$zoom) applyZoom(chart, chart.$zoom);
    chart.update('none');
    return chart;
  }
  chart = new Chart(canvas, { ...config, plugins: [...(config.plugins ?? []), zoomPlugin] });
  charts.set(id, chart);
  return chart;
}

export function destroyCharts() {
  for (const c of charts.values()) c.destroy();
  charts.clear();
}

/** Sets the axes' range (remembering the configured one), or restores it when `z` is null. */
function applyZoom(chart, z) {
  const scales = chart.config.options.scales;
  chart.$base ??= { x: [scales.x.min, scales.x.max], y: [scales.y.min, scales.y.max] };
  const [x, y] = z ? [z.x, z.y] : [chart.$base.x, chart.$base.y];
  [scales.x.min, scales.x.max, scales.y.min, scales.y.max] = [...x, ...y];
  if (!z) chart.$base = null;
}

/** Drag a rectangle to zoom into it; double-click to reset. */
const zoomPlugin = {
  id: 'dragZoom',
  afterInit(chart) {
    const canvas = chart.canvas;
    let start = null;
    const pos = (e) => {
      const r = canvas.getBoundingClientRect();
      return { x: e.clientX - r.left, y: e.clientY - r.top };
    };
    canvas.addEventListener('mousedown', (e) => {
      start = pos(e);
      chart.$drag = { ...start, x2: start.x, y2: start.y };
    });
    canvas.addEventListener('mousemove', (e) => {
      if (!start) return;
      const p = pos(e);
      chart.$drag = { ...start, x2: p.x, y2: p.y };
      chart.draw();
    });
    const finish = (e) => {
      if (!start) return;
      const p = pos(e);
      const d = {
        x1: Math.min(start.x, p.x),
        x2: Math.max(start.x, p.x),
        y1: Math.min(start.y, p.y),
        y2: Math.max(start.y, p.y),
      };
      start = null;
      chart.$drag = null;
      if (d.x2 - d.x1 < 8 || d.y2 - d.y1 < 8) return chart.draw();
      const { x, y } = chart.scales;
      const zoom = {
        x: [x.getValueForPixel(d.x1), x.getValueForPixel(d.x2)],
        y: [y.getValueForPixel(d.y2), y.getValueForPixel(d.y1)],
      };
      chart.$zoom = zoom;
      // The click that ends a drag is not a click on a point.
      chart.$justZoomed = true;
      setTimeout(() => (chart.$justZoomed = false), 0);
      applyZoom(chart, zoom);
      chart.update('none');
    };
    canvas.addEventListener('mouseup', finish);
    canvas.addEventListener('mouseleave', () => {
      start = null;
      chart.$drag = null;
    });
    canvas.addEventListener('dblclick', () => {
      if (!chart.$zoom) return;
      chart.$zoom = null;
      applyZoom(chart, null);
      chart.update('none');
    });
  },
  beforeEvent(chart, args) {
    if (args.event.type === 'click' && chart.$justZoomed) return false;
  },
  afterDraw(chart) {
    const d = chart.$drag;
    if (!d) return;
    const ctx = chart.ctx;
    ctx.save();
    ctx.fillStyle = 'rgba(37, 99, 235, 0.12)';
    ctx.strokeStyle = 'rgba(37, 99, 235, 0.6)';
    ctx.fillRect(d.x, d.y, d.x2 - d.x, d.y2 - d.y);
    ctx.strokeRect(d.x, d.y, d.x2 - d.x, d.y2 - d.y);
    ctx.restore();
  },
};

/** Draws a dashed vertical line at the latency limit when it falls inside the x range. */
export const latencyLimitPlugin = {
  id: 'latencyLimit',
  afterDatasetsDraw(chart, _args, options) {
    const limit = options?.value;
    const x = chart.scales.x;
    if (!isNum(limit) || limit < x.min || limit > x.max) return;
    const px = x.getPixelForValue(limit);
    const { top, bottom } = chart.chartArea;
    const ctx = chart.ctx;
    ctx.save();
    ctx.strokeStyle = '#b45309';
    ctx.setLineDash([6, 4]);
    ctx.beginPath();
    ctx.moveTo(px, top);
    ctx.lineTo(px, bottom);
    ctx.stroke();
    ctx.fillStyle = '#b45309';
    ctx.font = '11px sans-serif';
    ctx.textAlign = 'right';
    ctx.fillText(`limit ${limit} ms`, px - 4, top + 12);
    ctx.restore();
  },
};

/** A linear or (past a decade of spread) logarithmic latency axis with a margin. */
export function latencyAxis(lats, title) {
  const vals = lats.filter((v) => isNum(v) && v > 0);
  if (!vals.length) return { type: 'linear', title: { display: true, text: title } };
  const lo = Math.min(...vals);
  const hi = Math.max(...vals);
  if (hi / lo > 10)
    return {
      type: 'logarithmic',
      title: { display: true, text: `${title}, log scale` },
      min: lo / 1.15,
      max: hi * 1.15,
    };
  return { type: 'linear', title: { display: true, text: title }, grace: '5%' };
}

/** Colour along a blue (low) to red (high) ramp. */
export function ramp(t) {
  const u = Math.max(0, Math.min(1, isNum(t) ? t : 0));
  const r = Math.round(37 + u * (220 - 37));
  const g = Math.round(99 + u * (38 - 99));
  const b = Math.round(235 + u * (38 - 235));
  return `rgb(${r},${g},${b})`;
}

/**
 * Parallel coordinates as SVG: one vertical axis per dimension (numeric scaled to its range,
 * categorical spread evenly), one polyline per trial coloured by `colorBy`. Click a line to
 * open its trial.
 */
export function parallelCoordinates(container, { rows, dimensions, colorBy, colorLabel, onPick }) {
  const width = Math.max(320, container.clientWidth || 600);
  const height = 300;
  const pad = { l: 30, r: 30, t: 34, b: 20 };
  if (!rows.length || !dimensions.length) {
    container.innerHTML = '<p class="muted">Appears when trials complete.</p>';
    return;
  }
  const axes = dimensions.map((name) => {
    const values = rows.map((r) => r.values[name]);
    const numeric = values.every((v) => v === undefined || isNum(v));
    if (numeric) {
      const nums = values.filter(isNum);
      const lo = Math.min(...nums);
      const hi = Math.max(...nums);
      return {
        name,
        pos: (v) => (isNum(v) ? (hi > lo ? (v - lo) / (hi - lo) : 0.5) : null),
        ticks: [
          [lo, 0],
          [hi, 1],
        ],
      };
    }
    const cats = [...new Set(values.map(String))].sort();
    const at = (v) => (cats.length > 1 ? cats.indexOf(String(v)) / (cats.length - 1) : 0.5);
    return { name, pos: at, ticks: cats.map((c) => [c, at(c)]) };
  });
  const xs = axes.map((_, i) => pad.l + (i * (width - pad.l - pad.r)) / Math.max(1, axes.length - 1));
  const y = (t) => pad.t + (1 - t) * (height - pad.t - pad.b);
  const cvals = rows.map((r) => r.color).filter(isNum);
  const cmin = Math.min(...cvals);
  const cmax = Math.max(...cvals);
  const lines = rows
    .map((r, k) => {
      const pts = axes.map((a, i) => {
        const t = a.pos(r.values[a.name]);
        return t === null ? null : `${xs[i].toFixed(1)},${y(t).toFixed(1)}`;
      });
      if (pts.includes(null)) return '';
      const c = isNum(r.color) ? ramp(cmax > cmin ? (r.color - cmin) / (cmax - cmin) : 0.5) : '#94a3b8';
      return `<polyline data-k="${k}" points="${pts.join(' ')}" stroke="${c}"><title>${esc(r.title)}</title></polyline>`;
    })
    .join('');
  const axisSvg = axes
    .map(
      (a, i) => `<g class="pc-axis"><line x1="${xs[i]}" x2="${xs[i]}" y1="${y(0)}" y2="${y(1)}" />
      <text x="${xs[i]}" y="${pad.t - 18}" text-anchor="middle" class="pc-name">${esc(a.name)}</text>
      ${a.ticks
        .map(
          ([label, t]) =>
            `<text x="${xs[i] + 4}" y="${y(t) + 4}" class="pc-tick">${esc(isNum(label) ? +label.toFixed(3) : label)}</text>`,
        )
        .join('')}</g>`,
    )
    .join('');
  container.innerHTML = `<svg class="parcoords" viewBox="0 0 ${width} ${height}" width="100%" role="img"
      aria-label="Parallel coordinates of ${rows.length} trials over ${axes.length} genome dimensions, coloured by ${esc(colorLabel)}">
      <g class="pc-lines">${lines}</g>${axisSvg}</svg>
    <p class="hint">Colour: ${esc(colorLabel)} from ${isNum(cmin) ? +cmin.toFixed(3) : '–'} (blue) to ${isNum(cmax) ? +cmax.toFixed(3) : '–'} (red). Click a line to open its trial.</p>`;
  container.querySelector('.pc-lines').addEventListener('click', (e) => {
    const k = e.target.closest('polyline')?.dataset.k;
    if (k !== undefined) onPick?.(rows[Number(k)]);
  });
  void colorBy;
}
