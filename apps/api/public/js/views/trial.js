// One trial: metrics, latency with where it comes from, quantization cost, genome, learning
// curve, downloads and notes. Opened cold from its URL it fetches everything it shows.
import { api, enc } from '../api.js';
import { destroyCharts } from '../charts.js';
import {
  esc,
  evaluatorHtml,
  feasibleBadge,
  fmt,
  fmtCount,
  fmtDate,
  fmtMB,
  fmtMs,
  isNum,
  precisionLabel,
  statusBadge,
} from '../format.js';
import { renderCurves } from './plots.js';

export async function trialPage(outlet, ctx, id) {
  outlet.innerHTML = '<p class="muted loading">Loading the trial…</p>';
  const get = (path) => api(path, { signal: ctx.signal });
  const t = await get(`/trials/${enc(id)}`);
  const [search, curves] = await Promise.all([
    get(`/searches/${enc(t.searchId)}`),
    get(`/trials/${enc(id)}/curves`),
  ]);
  if (!ctx.alive) return;
  destroyCharts();
  ctx.onLeave(destroyCharts);
  const g = t.genome ?? {};
  const genomeRows = Object.entries(g)
    .map(
      ([k, v]) =>
        `<div><span>${esc(k)}</span><code>${esc(k === 'quantization' ? precisionLabel(v) : typeof v === 'object' ? JSON.stringify(v) : v)}</code></div>`,
    )
    .join('');
  outlet.innerHTML = `
    <p class="crumbs"><a href="#/">all searches</a> › <a href="#/searches/${esc(search.id)}">${esc(search.name)}</a> › trial #${t.number}</p>
    <section class="card" id="trial-summary">
      <div class="card-head"><h1>Trial #${t.number}</h1> ${statusBadge(t.status)} ${t.onFront ? '<span class="star">★ Pareto front</span>' : ''}</div>
      ${t.evaluator === 'surrogate' ? '<p class="banner">Surrogate evaluator: these metrics are an analytic estimate for tests and demos, not a trained model.</p>' : ''}
      ${t.error ? `<p class="error">${esc(t.error)}</p>` : ''}
      <div class="kv">
        <div><span>mAP@.5:.95</span>${fmt(t.map50_95)}</div>
        <div><span>mAP@.5</span>${fmt(t.map50)}</div>
        <div><span>feasible</span>${feasibleBadge(t.feasible)}${isNum(t.violation) && t.violation > 0 ? ` <span class="muted">(over by ${fmt(t.violation, 3)})</span>` : ''}</div>
        <div><span>params</span>${fmtCount(t.params)}</div>
        <div><span>GFLOPs</span>${fmt(t.gflops, 2)}</div>
        <div><span>size</span>${fmtMB(t.sizeBytes)}</div>
        <div><span>epochs</span>${t.epochsDone}/${t.epochs}</div>
        <div><span>evaluator</span>${evaluatorHtml(t.evaluator)} <span class="muted">${esc(t.backend ?? '')}</span></div>
        <div><span>started</span>${fmtDate(t.startedAt)}</div>
        <div><span>finished</span>${fmtDate(t.finishedAt)}</div>
      </div>
    </section>
    <div class="grid">
      <section class="card" id="latency"><h2>Latency</h2>${latencyHtml(t, search)}</section>
      <section class="card" id="quantization"><h2>Quantization cost</h2>${quantHtml(t)}</section>
      <section class="card"><h2>Learning curve</h2>
        <div class="chart-box"><canvas id="trial-curve" aria-label="Learning curve"></canvas></div>
        <p class="hint">${curves.items[0]?.epochMetrics.length ? 'mAP@0.5:0.95, mAP@0.5 and loss per epoch; drag to zoom.' : 'No epochs recorded (the surrogate evaluator trains nothing).'}</p></section>
      <section class="card"><h2>Genome</h2><div class="kv two genome">${genomeRows}</div></section>
    </div>
    <section class="card"><h2>Files</h2><p class="links" id="files">
      <a href="/trials/${esc(t.id)}" target="_blank">trial JSON</a>
      ${t.onnxPath ? ` · <a href="/trials/${esc(t.id)}/model.onnx" download>model.onnx</a>` : ' · <span class="muted">no exported model (nothing trained, or the export failed)</span>'}
    </p></section>
    <section class="card"><h2>Notes and log</h2>${t.notes ? `<pre class="notes">${esc(t.notes)}</pre>` : '<p class="muted">No notes.</p>'}
      <p class="muted">worker ${esc(t.workerId ?? '–')}, ${t.attempts} attempt${t.attempts === 1 ? '' : 's'}</p></section>`;
  renderCurves('trial-curve', curves.items, { highlight: t.id });
}

/**
 * One latency per quantity: the figure ranked on (on the search's profile) with its source and
 * provenance, the host measurement when there is one (a different machine, said so), and the
 * predictions for other profiles.
 */
function latencyHtml(t, search) {
  const profile = search.hardwareProfile;
  const source = t.latencySource ? `<span class="tag">${esc(t.latencySource)}</span>` : '';
  const others = Object.entries(t.latencyPerProfile ?? {}).filter(([name]) => name !== profile);
  return `<div class="kv">
      <div><span>on ${esc(profile)} (ranked)</span>${fmtMs(t.latencyMs)} ${source}</div>
      ${t.latencyProvenance ? `<div class="wide"><span>provenance</span>${esc(t.latencyProvenance)}</div>` : ''}
      ${isNum(t.measuredLatencyMs) && profile !== 'host' ? `<div><span>measured on the evaluating host</span>${fmtMs(t.measuredLatencyMs)} <span class="muted">(this machine, not ${esc(profile)})</span></div>` : ''}
      ${others.map(([name, ms]) => `<div><span>predicted on ${esc(name)}</span>${fmtMs(ms)}</div>`).join('')}
    </div>${isNum(search.constraints?.maxLatencyMs) ? `<p class="hint">Limit: ${search.constraints.maxLatencyMs} ms on ${esc(profile)}.</p>` : ''}`;
}

function quantHtml(t) {
  const precision = precisionLabel(t.genome?.quantization);
  if (!isNum(t.fp32Map50_95) || !isNum(t.map50_95))
    return `<p class="muted">Deployed as ${esc(precision)}; ${precision === 'fp32' ? 'no quantization' : 'no fp32 score recorded'}.</p>`;
  const cost = t.fp32Map50_95 - t.map50_95;
  return `<div class="kv">
    <div><span>fp32 mAP@.5:.95</span>${fmt(t.fp32Map50_95)}</div>
    <div><span>deployed (${esc(precision)})</span>${fmt(t.map50_95)}</div>
    <div><span>cost</span>${fmt(cost)} mAP${t.fp32Map50_95 > 0 ? ` (${((100 * cost) / t.fp32Map50_95).toFixed(1)}%)` : ''}</div>
  </div>`;
}
