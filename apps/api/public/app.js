// detsearch dashboard: hash-routed pages over the REST API (CONTRACT.md section 3), charts by
// Chart.js (served at /vendor), live updates from the server-sent events of /searches/:id/events.
// No framework and no build step: this file is served as it is.

const view = document.getElementById('view');
const keyInput = document.getElementById('api-key');
keyInput.value = localStorage.getItem('detsearch.apiKey') ?? '';
keyInput.addEventListener('change', () => localStorage.setItem('detsearch.apiKey', keyInput.value));
document.getElementById('key-form').addEventListener('submit', (e) => e.preventDefault());

/** Events the API streams (libs/orchestrator SearchEvent), besides the keep-alive 'heartbeat'. */
const EVENT_TYPES = ['snapshot', 'trial-started', 'trial-epoch', 'trial-completed', 'search-completed'];
const ENDED = new Set(['completed', 'cancelled', 'failed']);
const STRATEGIES = ['nsga2', 'evolution', 'bayes', 'random'];
/** Largest page GET /searches/:id/trials serves. */
const PAGE_MAX = 1000;

// ---------------------------------------------------------------- helpers

async function api(path, options = {}) {
  const headers = { ...(options.headers ?? {}) };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (keyInput.value && options.method && options.method !== 'GET') headers['x-api-key'] = keyInput.value;
  const res = await fetch(path, { ...options, headers });
  const text = await res.text();
  const json = text && res.headers.get('content-type')?.includes('json');
  const body = json ? JSON.parse(text) : text;
  if (!res.ok) {
    const msg = body && typeof body === 'object' ? [].concat(body.message).join('; ') : String(body);
    throw new Error(`${res.status} ${res.statusText}: ${msg}`);
  }
  return body;
}

const esc = (s) =>
  String(s ?? '').replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c],
  );
const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
const fmt = (v, digits = 3) => (isNum(v) ? v.toFixed(digits) : '–');
const fmtMs = (v) => (isNum(v) ? `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms` : '–');
const fmtCount = (v) =>
  isNum(v) ? (v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : `${(v / 1e3).toFixed(0)}k`) : '–';
const fmtMB = (v) => (isNum(v) ? `${(v / 2 ** 20).toFixed(2)} MB` : '–');
const fmtDate = (s) =>
  s
    ? new Date(s).toLocaleString(undefined, {
        month: 'short',
        day: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      })
    : '–';
const statusBadge = (s) => `<span class="status ${esc(s)}">${esc(s)}</span>`;

function precisionLabel(q) {
  if (!q) return 'fp32';
  if (q.precision !== 'int8') return q.precision;
  return ['int8', q.scheme, q.granularity].filter(Boolean).join(' ');
}

/** One-line genome: depth, width, input size, activation, precision, separable blocks. */
function genomeLabel(g) {
  if (!g) return '';
  const sep = g.separable?.length ? ` sep[${g.separable.join(',')}]` : '';
  return `d${g.depthMultiple} w${g.widthMultiple} ${g.imageSize}px ${g.activation} ${precisionLabel(g.quantization)}${sep}`;
}

function genomeLines(g) {
  if (!g) return [];
  return [
    `depth × ${g.depthMultiple}, width × ${g.widthMultiple}`,
    `input ${g.imageSize} px, ${g.numClasses} classes, ${g.activation}`,
    `precision ${precisionLabel(g.quantization)}`,
    `separable blocks: ${g.separable?.length ? g.separable.join(', ') : 'none'}`,
  ];
}

/** Finished trials (completed, pruned, failed) against the budget, with the running count. */
function progressHtml(p) {
  if (!p) return '';
  const done = p.completed + p.pruned + p.failed;
  const pct = Math.round(100 * Math.min(1, p.fraction ?? 0));
  const extra = [
    p.running ? `${p.running} running` : '',
    p.pruned ? `${p.pruned} pruned` : '',
    p.failed ? `${p.failed} failed` : '',
  ].filter(Boolean);
  return `<span class="progress" title="${pct}%"><span style="width:${pct}%"></span></span>
    <span class="progress-text">${done}/${p.budget}${extra.length ? ` <span class="muted">(${extra.join(', ')})</span>` : ''}</span>`;
}

const evaluatorHtml = (e) =>
  e === 'surrogate'
    ? '<span class="tag surrogate" title="analytic stand-in: no training">surrogate</span>'
    : esc(e);

// ---------------------------------------------------------------- routing

let generation = 0;
let cleanup = [];
const charts = {};

function destroyView() {
  for (const f of cleanup) f();
  cleanup = [];
  for (const k of Object.keys(charts)) {
    charts[k].destroy();
    delete charts[k];
  }
}

async function route() {
  destroyView();
  const gen = ++generation;
  const alive = () => gen === generation;
  const m = location.hash.match(/^#\/searches\/([\w-]+)/);
  try {
    if (m) await searchPage(decodeURIComponent(m[1]), alive);
    else await homePage(alive);
  } catch (err) {
    if (alive()) view.innerHTML = `<div class="card error">${esc(err.message)}</div>`;
  }
}
window.addEventListener('hashchange', route);
route();

/** Calls `tick` every `intervalMs(…)` ms until the view changes; the first call is delayed. */
function poll(alive, intervalMs, tick) {
  let timer;
  const loop = () => {
    timer = setTimeout(async () => {
      if (!alive()) return;
      await tick().catch(() => {});
      if (alive()) loop();
    }, intervalMs());
  };
  loop();
  cleanup.push(() => clearTimeout(timer));
}

// ---------------------------------------------------------------- home: launch form, searches

async function homePage(alive) {
  const [searches, presets, profiles, health] = await Promise.all([
    api('/searches'),
    api('/presets').catch(() => []),
    api('/hardware-profiles').catch(() => []),
    api('/health').catch(() => null),
  ]);
  if (!alive()) return;
  const evaluators = health?.evaluators ?? ['full', 'surrogate'];
  view.innerHTML = `
    <section class="card">
      <h1>Launch a search</h1>
      ${launchFormHtml(presets, profiles, evaluators)}
      <div class="error" id="launch-error" role="alert"></div>
    </section>
    <section class="card">
      <h1>Searches</h1>
      <div class="table-wrap"><table id="searches">
        <thead><tr><th>Name</th><th>Status</th><th>Progress</th><th>Strategy</th><th>Profile</th><th>Preset</th>
        <th>Evaluator</th><th class="num">Best mAP@.5:.95</th><th class="num">its latency</th><th class="num">Pareto</th><th>Created</th></tr></thead>
        <tbody></tbody>
      </table></div>
    </section>`;
  renderSearchRows(searches);
  wireLaunchForm(presets);
  view.querySelector('#searches tbody').addEventListener('click', (e) => {
    const tr = e.target.closest('tr[data-id]');
    if (tr && !e.target.closest('a')) location.hash = `#/searches/${tr.dataset.id}`;
  });
  let latest = searches;
  const active = () => latest.some((s) => !ENDED.has(s.status));
  poll(
    alive,
    () => (active() ? 2000 : 10_000),
    async () => {
      latest = await api('/searches');
      if (alive()) renderSearchRows(latest);
    },
  );
}

function renderSearchRows(searches) {
  const tbody = view.querySelector('#searches tbody');
  tbody.innerHTML =
    searches
      .map(
        (s) => `<tr class="clickable" data-id="${esc(s.id)}" data-status="${esc(s.status)}">
          <td><a href="#/searches/${esc(s.id)}">${esc(s.name)}</a></td>
          <td>${statusBadge(s.status)}</td>
          <td class="progress-cell">${progressHtml(s.progress)}</td>
          <td>${esc(s.strategy)}</td>
          <td>${esc(s.hardwareProfile)}</td>
          <td>${esc(s.preset ?? '–')}</td>
          <td>${evaluatorHtml(s.evaluator)}</td>
          <td class="num">${fmt(s.best?.map50_95)}</td>
          <td class="num">${fmtMs(s.best?.latencyMs)}</td>
          <td class="num">${s.best ? s.best.paretoSize : '–'}</td>
          <td class="muted">${fmtDate(s.createdAt)}</td></tr>`,
      )
      .join('') || '<tr><td colspan="11" class="muted">No searches yet: launch one above.</td></tr>';
}

function launchFormHtml(presets, profiles, evaluators) {
  const option = (value, label, extra = '') =>
    `<option value="${esc(value)}" ${extra}>${esc(label ?? value)}</option>`;
  const evaluatorRadio = (value, title, detail) => {
    const off = !evaluators.includes(value);
    return `<label class="radio ${off ? 'disabled' : ''}">
      <input type="radio" name="evaluator" value="${value}" ${value === 'full' && !off ? 'checked' : ''} ${off ? 'disabled' : ''} />
      <span><strong>${title}</strong><br /><span class="muted">${detail}${off ? ' Not available on this server.' : ''}</span></span></label>`;
  };
  return `<form class="launch" id="launch" novalidate>
    <div class="fields">
      <label class="wide">Preset
        <select name="preset">${option('', '(none: choose everything below)')}${presets
          .map((p) => option(p.name, `${p.name} (${p.hardwareProfile})`))
          .join('')}</select>
        <span class="hint" id="preset-desc">A preset fills in the profile, latency budget, search space, strategy and budget.</span>
      </label>
      <label>Name <input name="name" maxlength="200" placeholder="(generated)" /></label>
      <label>Strategy <select name="strategy">${STRATEGIES.map((s) => option(s)).join('')}</select></label>
      <label>Hardware profile <select name="hardwareProfile">${profiles
        .map((p) => option(p.name, p.name, p.name === 'host' ? 'selected' : ''))
        .join('')}</select></label>
      <label>Trials <input name="trials" type="number" min="1" max="100000" value="20" required /></label>
      <label>Max latency (ms) <input name="maxLatencyMs" type="number" min="0" step="any" placeholder="(none)" /></label>
      <label>Epochs per trial <input name="epochs" type="number" min="1" max="1000" placeholder="(default)" /></label>
      <label>Seed <input name="seed" type="number" min="0" placeholder="(random)" /></label>
      <fieldset class="objectives"><legend>Objectives</legend>
        <label><input type="checkbox" checked disabled /> mAP@0.5:0.95</label>
        <label><input type="checkbox" name="objective" value="latency" checked /> latency</label>
        <label><input type="checkbox" name="objective" value="size" /> model size</label>
      </fieldset>
    </div>
    <fieldset class="evaluator"><legend>Evaluator</legend>
      ${evaluatorRadio('full', 'full', 'Trains each candidate on the dataset, exports it to ONNX and scores mAP. Real results; minutes per trial.')}
      ${evaluatorRadio('surrogate', 'surrogate: analytic stand-in', 'mAP is estimated from the architecture by a formula and latency predicted on the profile; nothing is trained. For tests and demos only.')}
    </fieldset>
    <div class="actions"><button type="submit" id="launch-button">Launch search</button></div>
  </form>`;
}

function wireLaunchForm(presets) {
  const form = document.getElementById('launch');
  const el = (name) => form.elements.namedItem(name);
  if (!form.querySelector('input[name=evaluator]:checked'))
    form.querySelector('input[name=evaluator]:not([disabled])')?.setAttribute('checked', '');
  const presetOf = () => presets.find((p) => p.name === el('preset').value);

  el('preset').addEventListener('change', () => {
    const p = presetOf();
    const desc = document.getElementById('preset-desc');
    if (!p) {
      desc.textContent = 'No preset: the default YOLOv5 search space, with the choices below.';
      return;
    }
    desc.textContent = p.description ?? '';
    if (p.strategy) el('strategy').value = p.strategy;
    if (p.budget?.trials) el('trials').value = p.budget.trials;
    if (p.hardwareProfile) el('hardwareProfile').value = p.hardwareProfile;
    el('maxLatencyMs').value = p.latencyBudgetMs ?? '';
    el('epochs').value = p.fidelity?.epochs ?? '';
    const objectives = p.objectives ?? ['map50_95', 'latency'];
    for (const box of form.querySelectorAll('input[name=objective]'))
      box.checked = objectives.includes(box.value);
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const errorBox = document.getElementById('launch-error');
    errorBox.textContent = '';
    const p = presetOf();
    const num = (name) => (el(name).value.trim() === '' ? undefined : Number(el(name).value));
    const body = {
      strategy: el('strategy').value,
      objectives: [
        'map50_95',
        ...[...form.querySelectorAll('input[name=objective]:checked')].map((b) => b.value),
      ],
      budget: { trials: num('trials') },
      hardwareProfile: el('hardwareProfile').value || undefined,
      evaluator: form.querySelector('input[name=evaluator]:checked')?.value,
    };
    if (el('name').value.trim()) body.name = el('name').value.trim();
    if (p) body.preset = p.name;
    if (num('seed') !== undefined) body.seed = num('seed');
    if (num('maxLatencyMs') !== undefined) body.constraints = { maxLatencyMs: num('maxLatencyMs') };
    const epochs = num('epochs');
    if (epochs !== undefined && epochs !== p?.fidelity?.epochs) {
      // Keep the preset's successive-halving schedule (first rung, eta) where it fits.
      body.fidelity = { epochs, minEpochs: Math.min(epochs, p?.fidelity?.minEpochs ?? 1) };
      if (p?.fidelity?.eta) body.fidelity.eta = p.fidelity.eta;
    }
    const button = document.getElementById('launch-button');
    button.disabled = true;
    try {
      const created = await api('/searches', { method: 'POST', body: JSON.stringify(body) });
      location.hash = `#/searches/${created.id}`;
    } catch (err) {
      errorBox.textContent = err.message;
    } finally {
      button.disabled = false;
    }
  });
}

// ---------------------------------------------------------------- one search

const TRIAL_STATUSES = ['queued', 'running', 'completed', 'pruned', 'failed'];

async function searchPage(id, alive) {
  const state = {
    id,
    search: null,
    sort: '-map50_95',
    status: '',
    offset: 0,
    limit: 50,
    page: null,
    all: [],
    byId: new Map(),
    front: null,
    selected: null,
  };
  view.innerHTML = `
    <p class="crumbs"><a href="#/">← all searches</a></p>
    <section class="card" id="summary"></section>
    <div class="grid">
      <section class="card"><h2>Pareto front: mAP@0.5:0.95 vs latency</h2>
        <div class="chart-box"><canvas id="pareto-chart" aria-label="Pareto scatter"></canvas></div>
        <p class="hint">Hover a point for its genome; click it to see its learning curve.</p></section>
      <section class="card"><h2>Hypervolume vs completed trials</h2>
        <div class="chart-box"><canvas id="hv-chart" aria-label="Hypervolume history"></canvas></div>
        <p class="hint" id="hv-note"></p></section>
    </div>
    <section class="card">
      <div class="card-head"><h2>Leaderboard</h2>
        <label class="inline">status <select id="status-filter"><option value="">all</option>${TRIAL_STATUSES.map(
          (s) => `<option>${s}</option>`,
        ).join('')}</select></label>
        <span class="spacer"></span><span id="page-info" class="muted"></span>
        <button class="secondary small" id="prev-page">‹ prev</button><button class="secondary small" id="next-page">next ›</button>
      </div>
      <div class="table-wrap"><table id="leaderboard"></table></div>
    </section>
    <div class="grid">
      <section class="card"><h2>Learning curves <span id="curve-title" class="muted"></span></h2>
        <div class="chart-box"><canvas id="curve-chart" aria-label="Learning curves"></canvas></div>
        <p class="hint">Every trial's mAP@0.5:0.95 per epoch (pruned trials stop early); the selected trial in colour, with its loss.</p></section>
      <section class="card" id="trial-detail"><h2>Trial</h2><p class="muted">Select a trial in the leaderboard or a chart.</p></section>
    </div>`;

  const leaderboardQuery = () => {
    const q = new URLSearchParams({
      sort: state.sort,
      limit: String(state.limit),
      offset: String(state.offset),
    });
    if (state.status) q.set('status', state.status);
    return `/searches/${encodeURIComponent(id)}/trials?${q}`;
  };
  // Every trial with every field (view=full): the curves need epochMetrics, the detail panel notes
  // and per-profile latencies, which the default leaderboard rows leave out.
  const loadAll = async () => {
    const all = [];
    for (let offset = 0; ; offset += PAGE_MAX) {
      const page = await api(
        `/searches/${encodeURIComponent(id)}/trials?sort=number&view=full&limit=${PAGE_MAX}&offset=${offset}`,
      );
      all.push(...page.items);
      if (page.items.length < PAGE_MAX || all.length >= page.total) return all;
    }
  };

  const renderAll = () => {
    renderSummary(state);
    renderLeaderboard(state);
    renderPareto(state);
    renderHypervolume(state);
    renderCurves(state);
    renderTrialDetail(state);
  };
  const load = async () => {
    const [search, page, all, front] = await Promise.all([
      api(`/searches/${encodeURIComponent(id)}`),
      api(leaderboardQuery()),
      loadAll(),
      api(`/searches/${encodeURIComponent(id)}/pareto?format=json`),
    ]);
    if (!alive()) return;
    Object.assign(state, { search, page, all, front, byId: new Map(all.map((t) => [t.id, t])) });
    state.selected ??= search.best?.trialId ?? page.items[0]?.id ?? null;
    renderAll();
  };

  // Refreshes coalesce: at most one in flight, one queued, and not more often than every 600 ms.
  let running = null;
  let queued = false;
  let timer = null;
  const refresh = async () => {
    if (running) {
      queued = true;
      return running;
    }
    running = load().finally(() => (running = null));
    await running;
    if (queued && alive()) {
      queued = false;
      await refresh();
    }
  };
  const scheduleRefresh = () => {
    timer ??= setTimeout(() => {
      timer = null;
      if (alive()) refresh().catch(showError);
    }, 600);
  };
  const showError = (err) => {
    const box = document.getElementById('page-error');
    if (box) box.textContent = err.message;
  };
  cleanup.push(() => timer && clearTimeout(timer));
  state.select = (trialId) => {
    state.selected = trialId;
    renderLeaderboard(state);
    renderCurves(state);
    renderTrialDetail(state);
  };
  state.reloadLeaderboard = async () => {
    state.page = await api(leaderboardQuery());
    if (alive()) renderLeaderboard(state);
  };

  await load();
  if (!alive()) return;
  wireLeaderboard(state);
  if (!ENDED.has(state.search.status)) follow(state, alive, scheduleRefresh);
  else setLive('ended', 'the search has ended');
}

/** Follows the search's event stream: progress at once, the rest through a coalesced refresh. */
function follow(state, alive, scheduleRefresh) {
  const source = new EventSource(`/searches/${encodeURIComponent(state.id)}/events`);
  cleanup.push(() => source.close());
  setLive('connecting', 'opening the event stream');
  const onEvent = (e) => {
    if (!alive()) return source.close();
    const event = JSON.parse(e.data);
    setLive('live', `last event: ${event.type} at ${new Date().toLocaleTimeString()}`);
    if (event.progress && state.search) {
      state.search.progress = event.progress;
      if (event.best !== undefined) state.search.best = event.best;
      // A trial-completed event's status is the trial's; snapshots and search-completed carry the search's.
      if (event.type === 'snapshot' || event.type === 'search-completed') state.search.status = event.status;
      renderProgress(state);
    }
    if (event.type === 'trial-epoch') {
      // Grow the trial's curve at once; the refresh brings the rest.
      const trial = state.byId.get(event.trialId);
      if (trial && !trial.epochMetrics.some((m) => m.epoch === event.epoch.epoch)) {
        trial.epochMetrics.push(event.epoch);
        renderCurves(state);
      }
    }
    const ended = event.type === 'search-completed' || (event.type === 'snapshot' && ENDED.has(event.status));
    if (ended) {
      source.close();
      setLive('ended', 'the search has ended');
    }
    scheduleRefresh();
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

function renderSummary(state) {
  const s = state.search;
  const c = s.constraints ?? {};
  const constraints = [
    isNum(c.maxLatencyMs) && `latency ≤ ${c.maxLatencyMs} ms`,
    isNum(c.maxSizeBytes) && `size ≤ ${fmtMB(c.maxSizeBytes)}`,
    isNum(c.maxParams) && `params ≤ ${fmtCount(c.maxParams)}`,
    isNum(c.maxGflops) && `GFLOPs ≤ ${c.maxGflops}`,
    isNum(c.minMap50_95) && `mAP ≥ ${c.minMap50_95}`,
  ].filter(Boolean);
  const f = s.fidelity ?? {};
  const fidelity =
    `${f.epochs} epochs` +
    (f.minEpochs && f.minEpochs < f.epochs ? `, ASHA from ${f.minEpochs} (η ${f.eta})` : '') +
    (f.imageSize ? `, ${f.imageSize} px` : '');
  const prev = document.getElementById('live');
  const live = prev ? prev.outerHTML : '<span id="live" class="live state-connecting">connecting…</span>';
  document.getElementById('summary').innerHTML = `
    <div class="card-head"><h1>${esc(s.name)}</h1> <span id="search-status">${statusBadge(s.status)}</span> ${live}
      <span class="spacer"></span>
      ${!ENDED.has(s.status) ? '<button class="secondary" id="cancel">Cancel</button>' : ''}
      ${['cancelled', 'failed'].includes(s.status) ? '<button class="secondary" id="resume">Resume</button>' : ''}
    </div>
    ${
      s.evaluator === 'surrogate'
        ? `<p class="banner">Surrogate evaluator: mAP comes from an analytic stand-in (an estimate from the
          architecture), not from training. Use it for tests and demos; launch with the full evaluator for real results.</p>`
        : ''
    }
    ${s.error ? `<p class="error">${esc(s.error)}</p>` : ''}
    <div class="kv">
      <div><span>progress</span><span id="search-progress">${progressHtml(s.progress)}</span></div>
      <div><span>best mAP@.5:.95</span><span id="search-best">${bestHtml(s.best)}</span></div>
      <div><span>strategy</span>${esc(s.strategy)}</div>
      <div><span>objectives</span>${esc(s.objectives.join(', '))}</div>
      <div><span>profile</span><span title="${esc(s.hardwareProfileSpec?.device ?? '')}">${esc(s.hardwareProfile)}</span></div>
      <div><span>preset</span>${esc(s.preset ?? '–')}</div>
      <div><span>evaluator</span>${evaluatorHtml(s.evaluator)}</div>
      <div><span>constraints</span>${esc(constraints.join(', ') || 'none')}</div>
      <div><span>fidelity</span>${esc(fidelity)}</div>
      <div><span>seed</span>${esc(s.seed)}</div>
      <div><span>started</span>${fmtDate(s.startedAt)}</div>
      <div><span>finished</span>${fmtDate(s.finishedAt)}</div>
    </div>
    <p class="links"><a href="/searches/${esc(s.id)}/pareto?format=csv">Pareto front CSV</a> ·
      <a href="/searches/${esc(s.id)}/pareto?format=json" target="_blank">JSON</a> ·
      <a href="/docs" target="_blank">API docs</a></p>
    <div class="error" id="page-error" role="alert"></div>`;
  const act = (path) => () =>
    api(`/searches/${encodeURIComponent(s.id)}/${path}`, { method: 'POST' }).then(route, (err) => {
      document.getElementById('page-error').textContent = err.message;
    });
  document.getElementById('cancel')?.addEventListener('click', act('cancel'));
  document.getElementById('resume')?.addEventListener('click', act('resume'));
}

const bestHtml = (b) =>
  b
    ? `${fmt(b.map50_95)} <span class="muted">(trial #${b.number}, ${fmtMs(b.latencyMs)}; Pareto front ${b.paretoSize})</span>`
    : '–';

function renderProgress(state) {
  const s = state.search;
  const set = (id, html) => {
    const el = document.getElementById(id);
    if (el) el.innerHTML = html;
  };
  set('search-progress', progressHtml(s.progress));
  set('search-best', bestHtml(s.best));
  set('search-status', statusBadge(s.status));
}

// ---------------------------------------------------------------- leaderboard

const COLUMNS = [
  [
    'number',
    '#',
    (t) => `${t.number}${t.onFront ? ' <span class="star" title="on the Pareto front">★</span>' : ''}`,
  ],
  [null, 'status', (t) => statusBadge(t.status)],
  ['map50_95', 'mAP@.5:.95', (t) => fmt(t.map50_95)],
  ['map50', 'mAP@.5', (t) => fmt(t.map50)],
  ['latencyMs', 'latency', (t) => fmtMs(t.latencyMs)],
  ['params', 'params', (t) => fmtCount(t.params)],
  ['gflops', 'GFLOPs', (t) => fmt(t.gflops, 2)],
  ['sizeBytes', 'size', (t) => fmtMB(t.sizeBytes)],
  [null, 'epochs', (t) => `${t.epochsDone}/${t.epochs}`],
  [null, 'genome', (t) => `<code>${esc(genomeLabel(t.genome))}</code>`],
];

function renderLeaderboard(state) {
  const table = document.getElementById('leaderboard');
  const page = state.page;
  if (!table || !page) return;
  const arrow = (key) => (state.sort === key ? ' ▲' : state.sort === `-${key}` ? ' ▼' : '');
  const ariaSort = (key) =>
    state.sort === key ? 'ascending' : state.sort === `-${key}` ? 'descending' : 'none';
  table.innerHTML = `<thead><tr>${COLUMNS.map(([key, label]) =>
    key
      ? `<th class="sortable" data-key="${key}" aria-sort="${ariaSort(key)}" title="sort by ${label}">${label}${arrow(key)}</th>`
      : `<th>${label}</th>`,
  ).join('')}</tr></thead>
    <tbody>${
      page.items
        .map(
          (t) =>
            `<tr class="clickable ${t.id === state.selected ? 'selected' : ''}" data-id="${esc(t.id)}" data-status="${esc(t.status)}">${COLUMNS.map(
              ([, , f]) => `<td>${f(t)}</td>`,
            ).join('')}</tr>`,
        )
        .join('') || `<tr><td colspan="${COLUMNS.length}" class="muted">No trials yet.</td></tr>`
    }</tbody>`;
  const last = Math.min(page.total, state.offset + page.items.length);
  document.getElementById('page-info').textContent = page.total
    ? `${state.offset + 1}–${last} of ${page.total}`
    : '';
  document.getElementById('prev-page').disabled = state.offset === 0;
  document.getElementById('next-page').disabled = last >= page.total;
}

function wireLeaderboard(state) {
  const table = document.getElementById('leaderboard');
  const reload = () => state.reloadLeaderboard().catch((err) => alert(err.message));
  table.addEventListener('click', (e) => {
    const th = e.target.closest('th.sortable');
    if (th) {
      const key = th.dataset.key;
      // Descending first (best mAP, or biggest), then ascending.
      state.sort = state.sort === `-${key}` ? key : `-${key}`;
      state.offset = 0;
      return reload();
    }
    const tr = e.target.closest('tbody tr[data-id]');
    if (tr) state.select(tr.dataset.id);
  });
  document.getElementById('status-filter').addEventListener('change', (e) => {
    state.status = e.target.value;
    state.offset = 0;
    reload();
  });
  document.getElementById('prev-page').addEventListener('click', () => {
    state.offset = Math.max(0, state.offset - state.limit);
    reload();
  });
  document.getElementById('next-page').addEventListener('click', () => {
    state.offset += state.limit;
    reload();
  });
}

// ---------------------------------------------------------------- charts

function upsertChart(name, canvasId, config) {
  if (typeof Chart === 'undefined') return;
  const chart = charts[name];
  if (chart) {
    chart.data = config.data;
    chart.options = config.options;
    chart.update('none');
    return;
  }
  charts[name] = new Chart(document.getElementById(canvasId), config);
}

/** Draws a dashed vertical line at the latency limit when it falls inside the x range. */
const latencyLimitPlugin = {
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

/** 1, 2 and 5 times a power of ten: the labelled ticks of a log axis. */
function niceTick(v) {
  if (!isNum(v) || v <= 0) return false;
  const mantissa = v / 10 ** Math.floor(Math.log10(v) + 1e-9);
  return [1, 2, 5].some((m) => Math.abs(mantissa - m) < 1e-6);
}

/**
 * Latency spans orders of magnitude across a whole search space: past a decade a log axis keeps the
 * fast end readable. Either way a margin keeps the fastest and slowest points from being cut in half.
 */
function latencyAxis(lats, title) {
  if (!lats.length) return { type: 'linear', title: { display: true, text: title } };
  const lo = Math.min(...lats);
  const hi = Math.max(...lats);
  if (hi / lo > 10)
    return {
      type: 'logarithmic',
      title: { display: true, text: `${title}, log scale` },
      min: lo / 1.15,
      max: hi * 1.15,
      ticks: { autoSkip: false, callback: (v) => (niceTick(v) ? String(v) : '') },
      grid: { color: (c) => (niceTick(c.tick?.value) ? 'rgba(0, 0, 0, 0.1)' : 'rgba(0, 0, 0, 0.03)') },
    };
  return { type: 'linear', title: { display: true, text: title }, grace: '5%' };
}

const measured = (t) => isNum(t.map50_95) && isNum(t.latencyMs);

function renderPareto(state) {
  const s = state.search;
  const frontIds = new Set((state.front?.points ?? []).map((p) => p.trialId));
  const point = (t) => ({ x: t.latencyMs, y: t.map50_95, id: t.id });
  const done = state.all.filter(measured);
  const infeasible = (t) => isNum(t.violation) && t.violation > 0;
  const completed = done.filter((t) => t.status === 'completed' && !frontIds.has(t.id));
  const front = (state.front?.points ?? [])
    .map((p) => ({ x: p.latencyMs, y: p.map50_95, id: p.trialId }))
    .sort((a, b) => a.x - b.x);
  // With two objectives the front is a staircase; with size as a third, its projection is not.
  const twoD = s.objectives.length === 2 && s.objectives.includes('latency');
  const lats = done.map((t) => t.latencyMs).filter((v) => v > 0);
  upsertChart('pareto', 'pareto-chart', {
    type: 'scatter',
    data: {
      datasets: [
        {
          label: `Pareto front (${front.length})`,
          data: front,
          backgroundColor: '#dc2626',
          borderColor: '#dc2626',
          pointRadius: 6,
          pointHoverRadius: 8,
          showLine: twoD,
          stepped: twoD ? 'before' : false,
          borderWidth: 1.5,
          order: 0,
        },
        {
          label: 'completed',
          data: completed.filter((t) => !infeasible(t)).map(point),
          backgroundColor: 'rgba(37, 99, 235, 0.6)',
          pointRadius: 4,
          order: 1,
        },
        {
          label: 'infeasible',
          data: completed.filter(infeasible).map(point),
          backgroundColor: 'rgba(217, 119, 6, 0.7)',
          borderColor: 'rgba(217, 119, 6, 0.9)',
          pointStyle: 'crossRot',
          pointRadius: 5,
          order: 2,
        },
        {
          label: 'pruned (partial training)',
          data: done.filter((t) => t.status === 'pruned').map(point),
          backgroundColor: 'rgba(148, 163, 184, 0.25)',
          borderColor: 'rgba(100, 116, 139, 0.8)',
          pointRadius: 3.5,
          order: 3,
        },
      ],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      onClick: (_e, els, chart) => {
        const raw = els[0] && chart.data.datasets[els[0].datasetIndex].data[els[0].index];
        if (raw) state.select(raw.id);
      },
      plugins: {
        latencyLimit: { value: s.constraints?.maxLatencyMs },
        legend: { labels: { filter: (item, data) => data.datasets[item.datasetIndex].data.length > 0 } },
        tooltip: {
          callbacks: {
            title: (items) => {
              const t = state.byId.get(items[0]?.raw.id);
              return t ? `trial #${t.number} (${t.status}${frontIds.has(t.id) ? ', on the front' : ''})` : '';
            },
            label: (ctx) => {
              const t = state.byId.get(ctx.raw.id);
              const p = (state.front?.points ?? []).find((q) => q.trialId === ctx.raw.id);
              const genome = t?.genome ?? p?.genome;
              return [
                `mAP@.5:.95 ${fmt(ctx.raw.y)}, ${fmtMs(ctx.raw.x)} on ${s.hardwareProfile}`,
                `${fmtCount(t?.params ?? p?.params)} params, ${fmt(t?.gflops ?? p?.gflops, 2)} GFLOPs`,
                ...genomeLines(genome),
              ];
            },
          },
        },
      },
      scales: {
        x: latencyAxis(lats, `latency on ${s.hardwareProfile} (ms)`),
        y: { title: { display: true, text: 'mAP@0.5:0.95' }, beginAtZero: true },
      },
    },
    plugins: [latencyLimitPlugin],
  });
}

/**
 * 2-D hypervolume of (maximize mAP, minimize latency) after each completed trial in trial order,
 * against (mAP 0, 1.1 x the slowest latency seen), divided by that latency: the same measure as the
 * CLI's hypervolume.png.
 */
function hypervolumeHistory(trials) {
  const done = trials
    .filter((t) => t.status === 'completed' && measured(t))
    .sort((a, b) => a.number - b.number);
  if (!done.length) return { ref: null, points: [] };
  const ref = 1.1 * Math.max(...done.map((t) => t.latencyMs));
  const front = []; // non-dominated [latency, mAP], sorted by latency
  return {
    ref,
    points: done.map((t, i) => {
      const p = [t.latencyMs, t.map50_95];
      if (!front.some(([l, m]) => l <= p[0] && m >= p[1])) {
        const kept = front.filter(([l, m]) => !(p[0] <= l && p[1] >= m));
        kept.push(p);
        kept.sort((a, b) => a[0] - b[0]);
        front.splice(0, front.length, ...kept);
      }
      // Along increasing latency mAP increases on the front: point k adds the slab between the
      // previous point's mAP and its own, from its latency to the reference.
      let hv = 0;
      for (let k = 0; k < front.length; k++)
        hv += (ref - front[k][0]) * (front[k][1] - (k ? front[k - 1][1] : 0));
      return { x: i + 1, y: hv / ref, number: t.number };
    }),
  };
}

function renderHypervolume(state) {
  const { ref, points } = hypervolumeHistory(state.all);
  const note = document.getElementById('hv-note');
  if (note)
    note.textContent = ref
      ? `Area dominated by the completed trials in (mAP, latency), reference mAP 0 and ${fmtMs(ref)}, divided by ${fmtMs(ref)}.`
      : 'Appears when the first trial completes.';
  upsertChart('hv', 'hv-chart', {
    type: 'line',
    data: {
      datasets: [
        {
          label: 'hypervolume',
          data: points,
          borderColor: '#16a34a',
          backgroundColor: 'rgba(22, 163, 74, 0.12)',
          fill: true,
          pointRadius: 3,
        },
      ],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      parsing: false,
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: {
            title: (items) => `after ${items[0].raw.x} completed trials (last: #${items[0].raw.number})`,
            label: (ctx) => `hypervolume ${fmt(ctx.raw.y, 4)}`,
          },
        },
      },
      scales: {
        x: { type: 'linear', title: { display: true, text: 'completed trials' }, ticks: { precision: 0 } },
        y: { title: { display: true, text: 'hypervolume (mAP × latency, normalized)' } },
      },
    },
  });
}

function renderCurves(state) {
  const selected = state.byId.get(state.selected);
  const title = document.getElementById('curve-title');
  if (title) title.textContent = selected ? `(trial #${selected.number} highlighted)` : '';
  const series = (t, key) =>
    t.epochMetrics.filter((e) => isNum(e[key])).map((e) => ({ x: e.epoch, y: e[key] }));
  const others = state.all
    .filter((t) => t.id !== state.selected && t.epochMetrics.length)
    .map((t) => ({
      label: `#${t.number}`,
      data: series(t, 'map50_95'),
      borderColor: t.status === 'pruned' ? 'rgba(148, 163, 184, 0.55)' : 'rgba(37, 99, 235, 0.35)',
      borderWidth: 1,
      pointRadius: t.epochMetrics.length === 1 ? 2 : 0,
      inLegend: false,
      trialId: t.id,
    }));
  const mine = selected
    ? [
        {
          label: `#${selected.number} mAP@.5:.95`,
          data: series(selected, 'map50_95'),
          borderColor: '#dc2626',
          backgroundColor: '#dc2626',
          borderWidth: 2.5,
          pointRadius: 3,
          inLegend: true,
          trialId: selected.id,
        },
        {
          label: `#${selected.number} mAP@.5`,
          data: series(selected, 'map50'),
          borderColor: '#f97316',
          backgroundColor: '#f97316',
          borderWidth: 2,
          pointRadius: 2,
          inLegend: true,
          trialId: selected.id,
        },
        {
          label: `#${selected.number} loss`,
          data: series(selected, 'loss'),
          borderColor: '#0891b2',
          backgroundColor: '#0891b2',
          borderDash: [5, 3],
          borderWidth: 2,
          pointRadius: 2,
          yAxisID: 'loss',
          inLegend: true,
          trialId: selected.id,
        },
      ]
    : [];
  upsertChart('curves', 'curve-chart', {
    type: 'line',
    data: { datasets: [...mine, ...others] },
    options: {
      animation: false,
      maintainAspectRatio: false,
      parsing: false,
      interaction: { mode: 'nearest', intersect: false },
      onClick: (_e, els, chart) => {
        const ds = els[0] && chart.data.datasets[els[0].datasetIndex];
        if (ds?.trialId) state.select(ds.trialId);
      },
      plugins: {
        legend: {
          labels: { usePointStyle: true, filter: (item, data) => data.datasets[item.datasetIndex].inLegend },
        },
        tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${fmt(ctx.raw.y)}` } },
      },
      scales: {
        x: { type: 'linear', title: { display: true, text: 'epoch' }, ticks: { precision: 0 } },
        y: { beginAtZero: true, title: { display: true, text: 'mAP' } },
        loss: {
          position: 'right',
          display: Boolean(selected),
          grid: { drawOnChartArea: false },
          title: { display: true, text: 'loss' },
        },
      },
    },
  });
}

function renderTrialDetail(state) {
  const box = document.getElementById('trial-detail');
  const t = state.byId.get(state.selected);
  if (!box || !t) return;
  const g = t.genome ?? {};
  const latencies = Object.entries(t.latencyPerProfile ?? {})
    .map(([name, ms]) => `${esc(name)} ${fmtMs(ms)}`)
    .join(', ');
  box.innerHTML = `<h2>Trial #${t.number} ${statusBadge(t.status)}${t.onFront ? ' <span class="star">★ Pareto front</span>' : ''}</h2>
    <div class="kv two">
      <div><span>mAP@.5:.95</span>${fmt(t.map50_95)}</div>
      <div><span>mAP@.5</span>${fmt(t.map50)}</div>
      <div><span>latency</span>${fmtMs(t.latencyMs)} <span class="muted">${latencies ? `(${latencies})` : ''}</span></div>
      <div><span>params</span>${fmtCount(t.params)}</div>
      <div><span>GFLOPs</span>${fmt(t.gflops, 2)}</div>
      <div><span>size</span>${fmtMB(t.sizeBytes)}</div>
      <div><span>epochs</span>${t.epochsDone}/${t.epochs}</div>
      <div><span>evaluator</span>${evaluatorHtml(t.evaluator)} <span class="muted">${esc(t.backend ?? '')}</span></div>
    </div>
    <h3>Genome</h3>
    <div class="kv two genome">
      <div><span>depth multiple</span>${esc(g.depthMultiple)}</div>
      <div><span>width multiple</span>${esc(g.widthMultiple)}</div>
      <div><span>input size</span>${esc(g.imageSize)} px</div>
      <div><span>activation</span>${esc(g.activation)}</div>
      <div><span>precision</span>${esc(precisionLabel(g.quantization))}</div>
      <div><span>separable blocks</span>${esc(g.separable?.length ? g.separable.join(', ') : 'none')}</div>
    </div>
    ${t.error ? `<p class="error">${esc(t.error)}</p>` : ''}
    ${t.notes ? `<p class="hint">${esc(t.notes)}</p>` : ''}
    <p class="links"><a href="/trials/${esc(t.id)}" target="_blank">trial JSON</a>${
      t.onnxPath ? ` · <a href="/trials/${esc(t.id)}/model.onnx">model.onnx</a>` : ''
    }</p>`;
}
