// One search: summary and actions, the leaderboard, the plots, live updates. The page loads its
// data once; the event stream then moves the progress at once, adds completed trials to the
// Pareto plot and epochs to the curves from the events themselves, and refetches only small
// things: the current leaderboard page and the hypervolume steps at most every 10 s, the trials
// finished since the last look (plot-trials?finishedAfter) and the curves at most every 30 s, and
// the whole plot sample with its importance every 5 minutes and when the search ends.
import { api, enc } from '../api.js';
import { destroyCharts } from '../charts.js';
import { cachedCatalog } from '../catalog.js';
import {
  esc,
  evaluatorHtml,
  feasibleBadge,
  fmt,
  fmtCount,
  fmtDate,
  fmtMB,
  fmtMs,
  genomeLabel,
  isNum,
  progressHtml,
  setHtml,
  statusBadge,
} from '../format.js';
import { createLeaderboard, leaderboardHtml } from './leaderboard.js';
import {
  OBJECTIVES,
  renderCurves,
  renderHypervolume,
  renderImportance,
  renderPareto,
  renderParallel,
  renderSlices,
} from './plots.js';

const ENDED = new Set(['completed', 'cancelled', 'failed']);
const EVENT_TYPES = ['snapshot', 'trial-started', 'trial-epoch', 'trial-completed', 'search-completed'];
const FAST_MS = 10_000;
const SLOW_MS = 30_000;
const FULL_MS = 300_000;
const DEFAULT_STATUSES = ['queued', 'running', 'completed', 'pruned', 'failed'];

export async function searchPage(outlet, ctx, id) {
  outlet.innerHTML = '<p class="muted loading">Loading the search…</p>';
  const base = `/searches/${enc(id)}`;
  const get = (path) => api(path, { signal: ctx.signal });
  // The first leaderboard page is asked for with the search itself; it renders once the table exists.
  const page = { search: null, plot: null, curves: [], hv: null, objective: 'map50_95', compare: [] };
  const open = (trialId) => (location.hash = `#/trials/${trialId}`);
  const board = createLeaderboard({
    searchId: id,
    ctx,
    onCompare: (ids) => {
      page.compare = ids;
      renderCompare(page, ctx);
    },
    anyTrials: () => (page.search?.progress?.total ?? 0) > 0,
  });
  const firstPage = board.reload();
  const search = await get(base);
  page.search = search;
  if (!ctx.alive) return;
  destroyCharts();
  ctx.onLeave(destroyCharts);
  const statuses = cachedCatalog()?.trialStatuses.map((s) => s.name) ?? DEFAULT_STATUSES;
  outlet.innerHTML = `
    <p class="crumbs"><a href="#/">← all searches</a></p>
    <section class="card" id="summary"></section>
    <section class="card" id="leaderboard-card">${leaderboardHtml(statuses)}</section>
    <section class="card" id="compare-card" hidden><h2>Trials side by side</h2><div id="compare"></div></section>
    <div class="grid">
      <section class="card"><h2>Pareto front: mAP@0.5:0.95 vs latency</h2>
        <div class="chart-box"><canvas id="pareto-chart" aria-label="Pareto scatter"></canvas></div>
        <p class="hint">Drag to zoom, double-click to reset; click a point to open its trial. <span id="sample-note"></span></p></section>
      <section class="card"><h2>Hypervolume vs completed trials</h2>
        <div class="chart-box"><canvas id="hv-chart" aria-label="Hypervolume history"></canvas></div>
        <p class="hint" id="hv-note"></p></section>
      <section class="card"><h2>Learning curves</h2>
        <div class="chart-box"><canvas id="curve-chart" aria-label="Learning curves"></canvas></div>
        <p class="hint">mAP@0.5:0.95 per epoch of the running trials (green) and the best ranked ones; pruned trials stop early.</p></section>
      <section class="card"><h2>Genome dimension importance</h2>
        <div class="chart-box"><canvas id="importance-chart" aria-label="Importance"></canvas></div>
        <p class="hint" id="importance-note"></p></section>
    </div>
    <section class="card"><div class="card-head"><h2>Parallel coordinates and slices</h2>
        <label class="inline">colour and y by <select id="objective-pick">${OBJECTIVES.map(([k, l]) => `<option value="${k}">${l}</option>`).join('')}</select></label></div>
      <div id="parcoords" class="parcoords-box"></div>
      <div id="slices" class="slices"></div></section>`;

  board.wire();
  renderSummary(page, ctx);

  let lastFull = 0;
  /** The plot sample with its importance, or (between full loads) the trials finished since. */
  const loadPlots = async ({ full = false } = {}) => {
    const increment = !full && page.plot && Date.now() - lastFull < FULL_MS;
    const q = increment ? `finishedAfter=${enc(page.plot.asOf)}&limit=1000` : `objective=${page.objective}`;
    const [plot, curves] = await Promise.all([
      get(`${base}/plot-trials?${q}`),
      get(`${base}/curves?limit=50`),
    ]);
    if (!ctx.alive) return;
    if (increment) {
      const byId = new Map(page.plot.items.map((t) => [t.id, t]));
      for (const t of plot.items) byId.set(t.id, t);
      page.plot = { ...page.plot, total: plot.total, asOf: plot.asOf, items: [...byId.values()] };
    } else {
      page.plot = plot;
      lastFull = Date.now();
    }
    page.curves = curves.items;
    drawPlots(page, open);
  };
  let hvAsked = 0;
  const loadFast = async ({ leaderboard = true } = {}) => {
    const mine = ++hvAsked;
    const [hv] = await Promise.all([get(`${base}/hypervolume`), leaderboard ? board.reload() : null]);
    // A slower, older response must not replace a newer one (the leaderboard guards itself).
    if (!ctx.alive || mine !== hvAsked) return;
    page.hv = hv;
    renderHypervolume(hv);
  };
  // The leaderboard first: the page is usable while the plots load.
  await firstPage;
  board.render();
  if (!ctx.alive) return;
  await Promise.all([loadFast({ leaderboard: false }), loadPlots()]);
  if (!ctx.alive) return;

  document.getElementById('objective-pick').addEventListener('change', async (e) => {
    page.objective = e.target.value;
    await loadPlots({ full: true });
  });

  if (ENDED.has(search.status)) return setLive('ended', 'the search has ended');
  follow(page, ctx, id, { loadFast, loadPlots, open });
}

/**
 * Draws the plots one at a time, yielding to the browser between them so clicks and scrolling stay
 * answered; the parallel coordinates and slices (below the fold) only once scrolled into view.
 */
async function drawPlots(page, open) {
  const note = document.getElementById('sample-note');
  if (note && page.plot)
    note.textContent = page.plot.sampled
      ? `Showing the front and an even sample: ${page.plot.items.length} of ${page.plot.total} trials.`
      : '';
  const steps = [
    () => renderPareto(page.search, page.plot?.items ?? [], open),
    () => renderCurves('curve-chart', page.curves, { highlight: page.search.best?.trialId, onPick: open }),
    () => page.plot && renderImportance(page.plot),
  ];
  for (const step of steps) {
    await new Promise((r) => setTimeout(r, 0));
    step();
  }
  whenVisible('parcoords', () => {
    if (!page.plot) return;
    renderParallel(page.plot, page.objective, open);
    setTimeout(() => renderSlices(page.plot, page.objective, open), 0);
  });
}

/** Runs `draw` now if the element is on screen, else when it first scrolls into view. */
function whenVisible(id, draw) {
  const el = document.getElementById(id);
  if (!el) return;
  el.$draw = draw;
  if (el.$seen) return draw();
  if (el.$observer) return;
  el.$observer = new IntersectionObserver((entries) => {
    if (!entries.some((e) => e.isIntersecting)) return;
    el.$seen = true;
    el.$observer.disconnect();
    el.$draw();
  });
  el.$observer.observe(el);
}

/** Two refresh rates, each coalesced: at most one fetch in flight, then no sooner than `ms` later. */
function throttle(ms, run, ctx) {
  let last = 0;
  let timer = null;
  let running = false;
  const fire = async () => {
    timer = null;
    if (!ctx.alive) return;
    running = true;
    last = Date.now();
    await run().catch(() => {});
    running = false;
  };
  const schedule = () => {
    if (timer || running || !ctx.alive) return;
    timer = setTimeout(fire, Math.max(0, last + ms - Date.now()));
  };
  ctx.onLeave(() => clearTimeout(timer));
  return { schedule, now: () => (clearTimeout(timer), fire()) };
}

function follow(page, ctx, id, { loadFast, loadPlots, open }) {
  const source = new EventSource(`/searches/${enc(id)}/events`);
  ctx.onLeave(() => source.close());
  setLive('connecting', 'opening the event stream');
  const fast = throttle(FAST_MS, loadFast, ctx);
  const slow = throttle(SLOW_MS, () => loadPlots(), ctx);
  const onEvent = (e) => {
    if (!ctx.alive) return source.close();
    const event = JSON.parse(e.data);
    setLive('live', `last event: ${event.type} at ${new Date().toLocaleTimeString()}`);
    const s = page.search;
    if (event.progress) s.progress = event.progress;
    if (event.best !== undefined) s.best = event.best;
    if (event.type === 'snapshot' || event.type === 'search-completed') s.status = event.status;
    renderProgress(page);
    if (event.type === 'trial-epoch') {
      let curve = page.curves.find((c) => c.trialId === event.trialId);
      if (!curve && page.curves.length < 60) {
        curve = { trialId: event.trialId, number: event.number, status: 'running', epochMetrics: [] };
        page.curves.unshift(curve);
      }
      if (curve && !curve.epochMetrics.some((m) => m.epoch === event.epoch.epoch)) {
        curve.epochMetrics.push(event.epoch);
        renderCurves('curve-chart', page.curves, { highlight: s.best?.trialId, onPick: open });
      }
    }
    if (event.type === 'trial-completed') {
      // The point joins the Pareto plot from the event; feasibility against the latency limit
      // until the next plot refresh brings the stored verdict.
      const limit = s.constraints?.maxLatencyMs;
      if (
        page.plot &&
        isNum(event.map50_95) &&
        isNum(event.latencyMs) &&
        !page.plot.items.some((t) => t.id === event.trialId)
      ) {
        page.plot.items.push({
          id: event.trialId,
          number: event.number,
          status: event.status,
          map50_95: event.map50_95,
          latencyMs: event.latencyMs,
          feasible: isNum(limit) ? event.latencyMs <= limit : true,
          onFront: false,
        });
        renderPareto(s, page.plot.items, open);
      }
      fast.schedule();
      slow.schedule();
    }
    const ended = event.type === 'search-completed' || (event.type === 'snapshot' && ENDED.has(event.status));
    if (ended) {
      source.close();
      setLive('ended', 'the search has ended');
      renderSummary(page, ctx);
      // The events carry status and progress, not the stored row's end time or error: read it once.
      api(`/searches/${enc(id)}`, { signal: ctx.signal })
        .then((stored) => {
          if (!ctx.alive) return;
          page.search = { ...page.search, ...stored };
          renderSummary(page, ctx);
        })
        .catch(() => {});
      fast.now();
      loadPlots({ full: true }).catch(() => {});
    }
  };
  for (const type of EVENT_TYPES) source.addEventListener(type, onEvent);
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) setLive('offline', 'event stream closed');
    else setLive('connecting', 'reconnecting to the event stream');
  });
}

function setLive(kind, title) {
  const el = document.getElementById('live');
  if (!el) return;
  el.className = `live state-${kind}`;
  el.textContent = { live: 'live', connecting: 'connecting…', ended: 'ended', offline: 'offline' }[kind];
  el.title = title;
}

const bestHtml = (b) =>
  b
    ? `${fmt(b.map50_95)} <span class="muted">(<a href="#/trials/${esc(b.trialId)}">trial #${b.number}</a>, ${fmtMs(b.latencyMs)}; Pareto front ${b.paretoSize})</span>`
    : '–';

function renderProgress(page) {
  const s = page.search;
  setHtml('search-progress', progressHtml(s.progress));
  setHtml('search-best', bestHtml(s.best));
  setHtml('search-status', statusBadge(s.status));
}

function renderSummary(page, ctx) {
  const s = page.search;
  const c = s.constraints ?? {};
  const constraints = [
    isNum(c.maxLatencyMs) && `latency ≤ ${c.maxLatencyMs} ms`,
    isNum(c.maxSizeBytes) && `size ≤ ${fmtMB(c.maxSizeBytes)}`,
    isNum(c.maxParams) && `params ≤ ${fmtCount(c.maxParams)}`,
    isNum(c.maxGflops) && `GFLOPs ≤ ${c.maxGflops}`,
  ].filter(Boolean);
  const f = s.fidelity ?? {};
  const fidelity = `${f.epochs} epochs${f.minEpochs && f.minEpochs < f.epochs ? `, ASHA from ${f.minEpochs} (η ${f.eta})` : ''}`;
  const prev = document.getElementById('live');
  const live = prev ? prev.outerHTML : '<span id="live" class="live state-connecting">connecting…</span>';
  const active = !ENDED.has(s.status);
  const box = document.getElementById('summary');
  if (!box) return;
  box.innerHTML = `
    <div class="card-head"><h1>${esc(s.name)}</h1> <span id="search-status">${statusBadge(s.status)}</span> ${live}
      <span class="spacer"></span>
      <span class="actions">
        <a class="button secondary" id="clone" href="#/clone/${esc(s.id)}">Clone</a>
        ${active ? '<button class="secondary" id="cancel">Cancel</button>' : ''}
        ${['cancelled', 'failed'].includes(s.status) ? '<button class="secondary" id="resume">Resume</button>' : ''}
        ${active ? '' : '<button class="danger" id="delete">Delete</button>'}
      </span>
    </div>
    ${s.evaluator === 'surrogate' ? '<p class="banner">Surrogate evaluator: mAP comes from an analytic stand-in (an estimate from the architecture), not from training. Use it for tests and demos; launch with the full evaluator for real results.</p>' : ''}
    ${s.error ? `<p class="error">${esc(s.error)}</p>` : ''}
    <div class="kv">
      <div><span>progress</span><span id="search-progress">${progressHtml(s.progress)}</span></div>
      <div><span>best mAP@.5:.95</span><span id="search-best">${bestHtml(s.best)}</span></div>
      <div><span>strategy</span>${esc(s.strategy)}</div>
      <div><span>objectives</span>${esc(s.objectives.join(', '))}</div>
      <div><span>profile</span>${esc(s.hardwareProfile)}</div>
      <div><span>preset</span>${esc(s.preset ?? '–')}</div>
      <div><span>evaluator</span>${evaluatorHtml(s.evaluator)}</div>
      <div><span>constraints</span>${esc(constraints.join(', ') || 'none')}</div>
      <div><span>fidelity</span>${esc(fidelity)}</div>
      <div><span>dataset</span>${esc(s.dataset ?? 'synthetic')}</div>
      <div><span>seed</span>${esc(s.seed)}</div>
      <div><span>started</span>${fmtDate(s.startedAt)}</div>
      <div><span>finished</span>${fmtDate(s.finishedAt)}</div>
    </div>
    <p class="links"><a href="/searches/${esc(s.id)}/pareto?format=csv" download>Pareto front CSV</a> ·
      <a href="/searches/${esc(s.id)}/pareto?format=json" target="_blank">JSON</a> ·
      <a href="/docs" target="_blank">API docs</a></p>
    <div class="error" id="page-error" role="alert"></div>`;
  const fail = (err) => setHtml('page-error', esc(err.message));
  const act = (path) => async (e) => {
    e.target.disabled = true;
    try {
      page.search = { ...page.search, ...(await api(`/searches/${enc(s.id)}/${path}`, { method: 'POST' })) };
      // A resumed search streams again: reload the page's view of it.
      if (path === 'resume') return window.dispatchEvent(new HashChangeEvent('hashchange'));
      renderSummary(page, ctx);
    } catch (err) {
      fail(err);
      e.target.disabled = false;
    }
  };
  document.getElementById('cancel')?.addEventListener('click', act('cancel'));
  document.getElementById('resume')?.addEventListener('click', act('resume'));
  document.getElementById('delete')?.addEventListener('click', async () => {
    if (
      !confirm(`Delete search "${s.name}" and its ${s.progress?.total ?? 0} trials? This cannot be undone.`)
    )
      return;
    try {
      await api(`/searches/${enc(s.id)}`, { method: 'DELETE' });
      location.hash = '#/';
    } catch (err) {
      fail(err);
    }
  });
}

async function renderCompare(page, ctx) {
  const card = document.getElementById('compare-card');
  if (!card) return;
  card.hidden = page.compare.length === 0;
  if (!page.compare.length) return;
  setHtml('compare', '<p class="muted loading">Loading…</p>');
  const trials = await Promise.all(
    page.compare.map((tid) => api(`/trials/${enc(tid)}`, { signal: ctx.signal })),
  );
  if (!ctx.alive) return;
  const rows = [
    ['trial', (t) => `<a href="#/trials/${esc(t.id)}">#${t.number}</a>`],
    ['status', (t) => statusBadge(t.status)],
    ['feasible', (t) => feasibleBadge(t.feasible)],
    ['mAP@.5:.95', (t) => fmt(t.map50_95)],
    ['mAP@.5', (t) => fmt(t.map50)],
    ['fp32 mAP@.5:.95', (t) => fmt(t.fp32Map50_95)],
    ['latency', (t) => fmtMs(t.latencyMs)],
    ['params', (t) => fmtCount(t.params)],
    ['GFLOPs', (t) => fmt(t.gflops, 2)],
    ['size', (t) => fmtMB(t.sizeBytes)],
    ['epochs', (t) => `${t.epochsDone}/${t.epochs}`],
    ['genome', (t) => `<code>${esc(genomeLabel(t.genome))}</code>`],
  ];
  setHtml(
    'compare',
    `<div class="table-wrap"><table class="compare"><tbody>${rows
      .map(([label, f]) => `<tr><th>${label}</th>${trials.map((t) => `<td>${f(t)}</td>`).join('')}</tr>`)
      .join('')}</tbody></table></div>`,
  );
}
