// The search page's plots, each a function of the data the page holds: Pareto front, hypervolume
// history, learning curves, parallel coordinates, dimension importance and slice plots.
import { fmt, fmtCount, fmtMs, genomeLines, isNum } from '../format.js';
import { latencyAxis, latencyLimitPlugin, parallelCoordinates, ramp, upsertChart } from '../charts.js';

const BASE = { animation: false, maintainAspectRatio: false, responsive: true };

/** `points`: trials with results ({id, number, status, feasible, onFront, map50_95, latencyMs, genome}). */
export function renderPareto(search, points, onPick) {
  const measured = points.filter((t) => isNum(t.map50_95) && isNum(t.latencyMs));
  const pt = (t) => ({ x: t.latencyMs, y: t.map50_95, id: t.id, t });
  const front = measured.filter((t) => t.onFront).sort((a, b) => a.latencyMs - b.latencyMs);
  const twoD = search.objectives.length === 2 && search.objectives.includes('latency');
  const groups = [
    {
      label: `Pareto front (${front.length})`,
      data: front.map(pt),
      backgroundColor: '#dc2626',
      borderColor: '#dc2626',
      pointRadius: 6,
      showLine: twoD,
      stepped: twoD ? 'before' : false,
      borderWidth: 1.5,
    },
    {
      label: 'feasible',
      data: measured.filter((t) => !t.onFront && t.status === 'completed' && t.feasible !== false).map(pt),
      backgroundColor: 'rgba(37, 99, 235, 0.6)',
      pointRadius: 4,
    },
    {
      label: 'infeasible (over a constraint)',
      data: measured.filter((t) => t.feasible === false).map(pt),
      backgroundColor: 'rgba(217, 119, 6, 0.7)',
      borderColor: 'rgba(217, 119, 6, 0.9)',
      pointStyle: 'crossRot',
      pointRadius: 6,
    },
    {
      label: 'pruned (partial training)',
      data: measured.filter((t) => !t.onFront && t.status === 'pruned' && t.feasible !== false).map(pt),
      backgroundColor: 'rgba(148, 163, 184, 0.25)',
      borderColor: 'rgba(100, 116, 139, 0.8)',
      pointRadius: 3.5,
    },
  ];
  return upsertChart('pareto-chart', {
    type: 'scatter',
    data: { datasets: groups },
    options: {
      ...BASE,
      onClick: (_e, els, chart) => {
        const raw = els[0] && chart.data.datasets[els[0].datasetIndex].data[els[0].index];
        if (raw) onPick(raw.id);
      },
      plugins: {
        latencyLimit: { value: search.constraints?.maxLatencyMs },
        legend: { labels: { filter: (item, data) => data.datasets[item.datasetIndex].data.length > 0 } },
        tooltip: {
          callbacks: {
            title: (items) => {
              const t = items[0]?.raw.t;
              return t ? `trial #${t.number} (${t.status}${t.onFront ? ', on the front' : ''})` : '';
            },
            label: (c) => {
              const t = c.raw.t;
              return [
                `mAP@.5:.95 ${fmt(c.raw.y)}, ${fmtMs(c.raw.x)} on ${search.hardwareProfile}`,
                ...(t.params !== undefined
                  ? [`${fmtCount(t.params)} params, ${fmt(t.gflops, 2)} GFLOPs`]
                  : []),
                ...genomeLines(t.genome),
              ];
            },
          },
        },
      },
      scales: {
        x: latencyAxis(
          measured.map((t) => t.latencyMs),
          `latency on ${search.hardwareProfile} (ms)`,
        ),
        y: { title: { display: true, text: 'mAP@0.5:0.95' }, beginAtZero: true },
      },
    },
    plugins: [latencyLimitPlugin],
  });
}

export function renderHypervolume(hv) {
  const note = document.getElementById('hv-note');
  if (note)
    note.textContent = hv?.referenceLatencyMs
      ? `Area dominated by the ${hv.completed} completed trials in (mAP, latency), reference mAP 0 and ${fmtMs(hv.referenceLatencyMs)}, divided by ${fmtMs(hv.referenceLatencyMs)}.`
      : 'Appears when the first trial completes.';
  return upsertChart('hv-chart', {
    type: 'line',
    data: {
      datasets: [
        {
          label: 'hypervolume',
          data: hv?.steps ?? [],
          borderColor: '#16a34a',
          backgroundColor: 'rgba(22, 163, 74, 0.12)',
          fill: true,
          stepped: 'before',
          pointRadius: 2,
        },
      ],
    },
    options: {
      ...BASE,
      parsing: false,
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: {
            title: (i) => `after ${i[0].raw.x} completed trials (#${i[0].raw.number})`,
            label: (c) => `hypervolume ${fmt(c.raw.y, 4)}`,
          },
        },
      },
      scales: {
        x: { type: 'linear', title: { display: true, text: 'completed trials' }, ticks: { precision: 0 } },
        y: { title: { display: true, text: 'hypervolume (normalized)' } },
      },
    },
  });
}

/** `curves`: [{trialId, number, status, epochMetrics}]; `highlight`: a trial id drawn in colour. */
export function renderCurves(canvasId, curves, { highlight, onPick } = {}) {
  const series = (c, key) =>
    c.epochMetrics.filter((e) => isNum(e[key])).map((e) => ({ x: e.epoch, y: e[key] }));
  const datasets = [];
  for (const c of curves) {
    const mine = c.trialId === highlight || curves.length === 1;
    datasets.push({
      label: `#${c.number} mAP@.5:.95`,
      data: series(c, 'map50_95'),
      borderColor: mine
        ? '#dc2626'
        : c.status === 'running'
          ? 'rgba(22, 163, 74, 0.7)'
          : c.status === 'pruned'
            ? 'rgba(148, 163, 184, 0.55)'
            : 'rgba(37, 99, 235, 0.35)',
      borderWidth: mine ? 2.5 : 1,
      pointRadius: c.epochMetrics.length === 1 || mine ? 2 : 0,
      inLegend: mine,
      trialId: c.trialId,
    });
    if (mine) {
      datasets.push({
        label: `#${c.number} mAP@.5`,
        data: series(c, 'map50'),
        borderColor: '#f97316',
        borderWidth: 2,
        pointRadius: 2,
        inLegend: true,
        trialId: c.trialId,
      });
      datasets.push({
        label: `#${c.number} loss`,
        data: series(c, 'loss'),
        borderColor: '#0891b2',
        borderDash: [5, 3],
        borderWidth: 2,
        pointRadius: 2,
        yAxisID: 'loss',
        inLegend: true,
        trialId: c.trialId,
      });
    }
  }
  const anyLoss = datasets.some((d) => d.yAxisID === 'loss' && d.data.length);
  return upsertChart(canvasId, {
    type: 'line',
    data: { datasets },
    options: {
      ...BASE,
      parsing: false,
      interaction: { mode: 'nearest', intersect: false },
      onClick: (_e, els, chart) => {
        const ds = els[0] && chart.data.datasets[els[0].datasetIndex];
        if (ds?.trialId) onPick?.(ds.trialId);
      },
      plugins: {
        legend: { labels: { filter: (item, data) => data.datasets[item.datasetIndex].inLegend } },
        tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${fmt(c.raw.y)}` } },
      },
      scales: {
        x: { type: 'linear', title: { display: true, text: 'epoch' }, ticks: { precision: 0 } },
        y: { beginAtZero: true, title: { display: true, text: 'mAP' } },
        loss: {
          position: 'right',
          display: anyLoss,
          grid: { drawOnChartArea: false },
          title: { display: true, text: 'loss' },
        },
      },
    },
  });
}

/** Genome values of a plot trial by dimension name (dotted names for nested fields, lists by length). */
export function featuresOf(genome, prefix = '', out = {}) {
  for (const [k, v] of Object.entries(genome ?? {})) {
    const name = prefix ? `${prefix}.${k}` : k;
    if (['number', 'string', 'boolean'].includes(typeof v)) out[name] = v;
    else if (Array.isArray(v)) out[`${name}.count`] = v.length;
    else if (v && typeof v === 'object') featuresOf(v, name, out);
  }
  return out;
}

export const OBJECTIVES = [
  ['map50_95', 'mAP@0.5:0.95'],
  ['latencyMs', 'latency (ms)'],
  ['sizeBytes', 'size (bytes)'],
  ['params', 'params'],
];

export function renderParallel(plot, objective, onPick) {
  const box = document.getElementById('parcoords');
  if (!box) return;
  const label = OBJECTIVES.find(([k]) => k === objective)?.[1] ?? objective;
  parallelCoordinates(box, {
    rows: plot.items
      .filter((t) => isNum(t[objective]))
      .map((t) => ({
        id: t.id,
        values: featuresOf(t.genome),
        color: t[objective],
        title: `trial #${t.number}: ${label} ${fmt(t[objective])}`,
      })),
    dimensions: plot.dimensions,
    colorLabel: label,
    onPick: (row) => onPick(row.id),
  });
}

export function renderImportance(plot) {
  const imp = plot.importance;
  const note = document.getElementById('importance-note');
  if (note)
    note.textContent = imp.dimensions.length
      ? `${imp.method}; ${imp.trials} trials.`
      : 'Appears once at least three trials complete with different genomes.';
  return upsertChart('importance-chart', {
    type: 'bar',
    data: {
      labels: imp.dimensions.map((d) => d.name),
      datasets: [
        {
          label: `importance for ${imp.objective}`,
          data: imp.dimensions.map((d) => d.importance),
          backgroundColor: 'rgba(37, 99, 235, 0.7)',
        },
      ],
    },
    options: {
      ...BASE,
      indexAxis: 'y',
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { label: (c) => `${(100 * c.raw).toFixed(1)}% of the variance` } },
      },
      scales: { x: { min: 0, title: { display: true, text: 'share of variance (main effect)' } } },
    },
  });
}

/** One small scatter per genome dimension (the most important first): objective against its value. */
export function renderSlices(plot, objective, onPick) {
  const box = document.getElementById('slices');
  if (!box) return;
  const order = [...plot.importance.dimensions.map((d) => d.name), ...plot.dimensions];
  const dims = [...new Set(order)].filter((d) => plot.dimensions.includes(d)).slice(0, 6);
  const have = [...box.querySelectorAll('canvas')].map((c) => c.dataset.dim).join('|');
  if (have !== dims.join('|'))
    box.innerHTML = dims.length
      ? dims
          .map(
            (d, i) =>
              `<div class="slice"><canvas id="slice-${i}" data-dim="${d}" aria-label="slice ${d}"></canvas></div>`,
          )
          .join('')
      : '<p class="muted">Appears when trials with different genomes complete.</p>';
  const label = OBJECTIVES.find(([k]) => k === objective)?.[1] ?? objective;
  dims.forEach((dim, i) => {
    const rows = plot.items
      .filter((t) => isNum(t[objective]))
      .map((t) => ({ f: featuresOf(t.genome)[dim], t }));
    const numeric = rows.every((r) => r.f === undefined || isNum(r.f));
    const cats = numeric ? [] : [...new Set(rows.map((r) => String(r.f)))].sort();
    const vals = rows.map((r) => r.t[objective]);
    const lo = Math.min(...vals);
    const hi = Math.max(...vals);
    upsertChart(`slice-${i}`, {
      type: 'scatter',
      data: {
        datasets: [
          {
            data: rows.map((r) => ({
              x: numeric ? r.f : cats.indexOf(String(r.f)),
              y: r.t[objective],
              id: r.t.id,
              n: r.t.number,
            })),
            backgroundColor: rows.map((r) => ramp(hi > lo ? (r.t[objective] - lo) / (hi - lo) : 0.5)),
            pointRadius: 3,
          },
        ],
      },
      options: {
        ...BASE,
        onClick: (_e, els, chart) => {
          const raw = els[0] && chart.data.datasets[0].data[els[0].index];
          if (raw) onPick(raw.id);
        },
        plugins: {
          legend: { display: false },
          title: { display: true, text: dim },
          tooltip: { callbacks: { label: (c) => `#${c.raw.n}: ${label} ${fmt(c.raw.y)}` } },
        },
        scales: {
          x: numeric
            ? { type: 'linear', grace: '5%' }
            : {
                type: 'linear',
                min: -0.5,
                max: cats.length - 0.5,
                ticks: { stepSize: 1, callback: (v) => cats[v] ?? '' },
              },
          y: { title: { display: true, text: label } },
        },
      },
    });
  });
}
