// detsearch dashboard: a small hash-routed page over the REST API, charts by Chart.js,
// live updates from the server-sent events of /searches/:id/events.
const view = document.getElementById('view');
const keyInput = document.getElementById('api-key');
keyInput.value = localStorage.getItem('detsearch.apiKey') ?? '';
keyInput.addEventListener('change', () => localStorage.setItem('detsearch.apiKey', keyInput.value));

let cleanup = [];
const charts = {};

async function api(path, options = {}) {
  const headers = { 'content-type': 'application/json', ...(options.headers ?? {}) };
  if (keyInput.value) headers['x-api-key'] = keyInput.value;
  const res = await fetch(path, { ...options, headers });
  const text = await res.text();
  const body = text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
  if (!res.ok) {
    const msg = body && typeof body === 'object' ? [].concat(body.message).join('; ') : String(body);
    throw new Error(`${res.status}: ${msg}`);
  }
  return body;
}

const esc = (s) =>
  String(s ?? '').replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c],
  );
const fmt = (v, digits = 3) =>
  v === null || v === undefined || Number.isNaN(v)
    ? '–'
    : typeof v === 'number'
      ? Number(v.toFixed(digits)).toString()
      : esc(v);
const items = (r) => (Array.isArray(r) ? r : (r?.items ?? r?.data ?? []));
const mapOf = (t) => t.map50_95 ?? t.metrics?.map50_95 ?? null;
const latOf = (t) => t.latencyMs ?? t.metrics?.latencyMs ?? null;
const epochsOf = (t) => t.epochMetrics ?? t.epochs ?? t.metrics?.epochs ?? [];
const genomeLabel = (g) =>
  g
    ? `d${g.depthMultiple} w${g.widthMultiple} ${g.imageSize}px ${g.activation} ${g.quantization?.precision ?? 'fp32'}${g.separable?.length ? ` sep[${g.separable.join(',')}]` : ''}`
    : '';
const statusBadge = (s) => `<span class="status ${esc(s)}">${esc(s)}</span>`;
const progressBar = (done, total) =>
  `<span class="progress"><div style="width:${total ? Math.min(100, (100 * done) / total) : 0}%"></div></span> ${done}/${total}`;

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
  const m = location.hash.match(/^#\/searches\/([\w-]+)/);
  try {
    if (m) await searchPage(m[1]);
    else await homePage();
  } catch (err) {
    view.innerHTML = `<div class="card error">${esc(err.message)}</div>`;
  }
}
window.addEventListener('hashchange', route);
window.addEventListener('DOMContentLoaded', route);

// ---------- home: searches list + launch form ----------
async function homePage() {
  const [searches, presets] = await Promise.all([api('/searches'), api('/presets').catch(() => [])]);
  const presetList = items(presets);
  view.innerHTML = `
    <div class="card">
      <h1>Launch a search</h1>
      <form class="launch" id="launch">
        <label>Name <input name="name" placeholder="my-search" /></label>
        <label>Preset <select name="preset"><option value="">(none)</option>${presetList
          .map((p) => `<option value="${esc(p.name)}">${esc(p.name)}</option>`)
          .join('')}</select></label>
        <label>Strategy <select name="strategy">${['nsga2', 'evolution', 'bayes', 'random']
          .map((s) => `<option>${s}</option>`)
          .join('')}</select></label>
        <label>Trials <input name="trials" type="number" min="1" max="10000" value="20" /></label>
        <label>Seed <input name="seed" type="number" value="0" /></label>
        <label>Evaluator <select name="evaluator"><option value="full">full (train, export, score)</option><option value="surrogate">surrogate (analytic stand-in, demo only)</option></select></label>
        <button type="submit">Launch</button>
      </form>
      <div class="error" id="launch-error"></div>
    </div>
    <div class="card">
      <h1>Searches</h1>
      <table id="searches"><thead><tr><th>Name</th><th>Status</th><th>Progress</th><th>Strategy</th><th>Profile</th><th>Evaluator</th><th>Best mAP@.5:.95</th><th>Created</th></tr></thead><tbody>
      ${
        items(searches)
          .map(
            (
              s,
            ) => `<tr class="clickable" data-id="${esc(s.id)}"><td>${esc(s.name ?? s.id)}</td><td>${statusBadge(s.status)}</td>
          <td>${progressBar(s.progress?.completed ?? s.trialsCompleted ?? 0, s.progress?.total ?? s.budget?.trials ?? 0)}</td>
          <td>${esc(s.strategy)}</td><td>${esc(s.hardwareProfile)}</td><td>${s.evaluator === 'surrogate' ? '<span class="warn">surrogate</span>' : esc(s.evaluator)}</td>
          <td>${fmt(s.best?.map50_95 ?? s.bestMap50_95)}</td><td class="muted">${esc((s.createdAt ?? '').replace('T', ' ').slice(0, 19))}</td></tr>`,
          )
          .join('') || '<tr><td colspan="8" class="muted">No searches yet.</td></tr>'
      }
      </tbody></table>
    </div>`;
  view
    .querySelectorAll('#searches tr.clickable')
    .forEach((tr) => tr.addEventListener('click', () => (location.hash = `#/searches/${tr.dataset.id}`)));
  document.getElementById('launch').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const body = {
      strategy: f.get('strategy'),
      budget: { trials: Number(f.get('trials')) },
      seed: Number(f.get('seed')),
      evaluator: f.get('evaluator'),
    };
    if (f.get('name')) body.name = f.get('name');
    if (f.get('preset')) body.preset = f.get('preset');
    try {
      const created = await api('/searches', { method: 'POST', body: JSON.stringify(body) });
      location.hash = `#/searches/${created.id}`;
    } catch (err) {
      document.getElementById('launch-error').textContent = err.message;
    }
  });
  const timer = setInterval(() => {
    if (!location.hash.startsWith('#/searches/'))
      api('/searches')
        .then(updateSearchRows)
        .catch(() => {});
  }, 3000);
  cleanup.push(() => clearInterval(timer));
}

function updateSearchRows(searches) {
  for (const s of items(searches)) {
    const tr = view.querySelector(`#searches tr[data-id="${CSS.escape(s.id)}"]`);
    if (!tr) return route();
    tr.children[1].innerHTML = statusBadge(s.status);
    tr.children[2].innerHTML = progressBar(
      s.progress?.completed ?? 0,
      s.progress?.total ?? s.budget?.trials ?? 0,
    );
    tr.children[6].textContent = fmt(s.best?.map50_95 ?? s.bestMap50_95);
  }
}

// ---------- one search: leaderboard, Pareto scatter, hypervolume, learning curves ----------
async function searchPage(id) {
  const state = { sort: '-map50_95', selected: null, trials: [], pareto: [] };
  view.innerHTML = `
    <div class="card" id="summary"></div>
    <div class="grid">
      <div class="card"><h2>Pareto front: mAP@0.5:0.95 vs latency</h2><div class="chart-box"><canvas id="pareto-chart"></canvas></div></div>
      <div class="card"><h2>Hypervolume vs trials</h2><div class="chart-box"><canvas id="hv-chart"></canvas></div></div>
    </div>
    <div class="grid">
      <div class="card"><h2>Learning curve <span id="curve-title" class="muted">(click a trial)</span></h2><div class="chart-box"><canvas id="curve-chart"></canvas></div><pre class="genome" id="genome"></pre></div>
      <div class="card"><h2>Leaderboard</h2><div style="overflow:auto;max-height:420px"><table id="leaderboard"></table></div></div>
    </div>`;

  const refresh = async () => {
    const [search, trials, pareto] = await Promise.all([
      api(`/searches/${id}`),
      api(`/searches/${id}/trials?sort=${encodeURIComponent(state.sort)}&limit=500`),
      api(`/searches/${id}/pareto?format=json`),
    ]);
    state.trials = items(trials);
    state.pareto = items(pareto);
    renderSummary(search);
    renderLeaderboard(state, refresh);
    renderPareto(state);
    renderHypervolume(state);
    if (state.selected) renderCurve(state.trials.find((t) => t.id === state.selected));
  };
  state.select = (trialId) => {
    state.selected = trialId;
    renderLeaderboard(state, refresh);
    renderCurve(state.trials.find((t) => t.id === trialId));
  };
  await refresh();

  let pending = null;
  const source = new EventSource(`/searches/${id}/events`);
  source.onmessage = () => {
    if (!pending) pending = setTimeout(() => ((pending = null), refresh().catch(() => {})), 500);
  };
  for (const type of [
    'trial',
    'trial-completed',
    'trial-started',
    'progress',
    'search-completed',
    'search',
  ]) {
    source.addEventListener(type, source.onmessage);
  }
  source.onerror = () => {
    // The stream ends with the search; one last refresh shows the final state.
    source.close();
    refresh().catch(() => {});
  };
  cleanup.push(
    () => source.close(),
    () => pending && clearTimeout(pending),
  );
}

function renderSummary(s) {
  const total = s.progress?.total ?? s.budget?.trials ?? 0;
  const done = s.progress?.completed ?? 0;
  document.getElementById('summary').innerHTML = `
    <h1>${esc(s.name ?? s.id)} ${statusBadge(s.status)}</h1>
    ${s.evaluator === 'surrogate' ? '<p class="warn">Surrogate evaluator: metrics come from an analytic stand-in for tests and demos, not from training.</p>' : ''}
    <div class="kv">
      <div><span>progress</span>${progressBar(done, total)}</div>
      <div><span>strategy</span>${esc(s.strategy)}</div>
      <div><span>profile</span>${esc(s.hardwareProfile)}</div>
      <div><span>preset</span>${esc(s.preset ?? '–')}</div>
      <div><span>best mAP@.5:.95</span>${fmt(s.best?.map50_95 ?? s.bestMap50_95)}</div>
      <div><span>Pareto size</span>${fmt(s.progress?.paretoSize ?? s.paretoSize, 0)}</div>
      <div><a href="/searches/${esc(s.id)}/pareto?format=csv">Pareto CSV</a></div>
    </div>
    ${['running', 'queued'].includes(s.status) ? '<button class="secondary" id="cancel">Cancel</button>' : ''}
    ${['cancelled', 'failed'].includes(s.status) ? '<button class="secondary" id="resume">Resume</button>' : ''}`;
  document
    .getElementById('cancel')
    ?.addEventListener('click', () =>
      api(`/searches/${s.id}/cancel`, { method: 'POST' }).then(route, alertError),
    );
  document
    .getElementById('resume')
    ?.addEventListener('click', () =>
      api(`/searches/${s.id}/resume`, { method: 'POST' }).then(route, alertError),
    );
}
const alertError = (e) => alert(e.message);

const COLUMNS = [
  ['number', '#', (t) => t.number ?? ''],
  ['status', 'status', (t) => statusBadge(t.status)],
  ['map50_95', 'mAP@.5:.95', (t) => fmt(mapOf(t))],
  ['map50', 'mAP@.5', (t) => fmt(t.map50)],
  ['latencyMs', 'latency ms', (t) => fmt(latOf(t), 2)],
  ['params', 'params', (t) => (t.params ? (t.params / 1e6).toFixed(2) + 'M' : '–')],
  ['gflops', 'GFLOPs', (t) => fmt(t.gflops, 2)],
  [null, 'genome', (t) => esc(genomeLabel(t.genome))],
];

function renderLeaderboard(state, refresh) {
  const table = document.getElementById('leaderboard');
  const arrow = (key) => (state.sort === key ? ' ▲' : state.sort === `-${key}` ? ' ▼' : '');
  table.innerHTML = `<thead><tr>${COLUMNS.map(([key, label]) => (key ? `<th class="sortable" data-key="${key}">${label}${arrow(key)}</th>` : `<th>${label}</th>`)).join('')}</tr></thead>
    <tbody>${state.trials
      .map(
        (t) =>
          `<tr class="clickable ${t.id === state.selected ? 'selected' : ''}" data-id="${esc(t.id)}">${COLUMNS.map(([, , f]) => `<td>${f(t)}</td>`).join('')}</tr>`,
      )
      .join('')}</tbody>`;
  table.querySelectorAll('th.sortable').forEach((th) =>
    th.addEventListener('click', () => {
      const key = th.dataset.key;
      state.sort = state.sort === `-${key}` ? key : `-${key}`;
      refresh();
    }),
  );
  table
    .querySelectorAll('tbody tr')
    .forEach((tr) => tr.addEventListener('click', () => state.select(tr.dataset.id)));
}

function upsertChart(name, canvasId, config) {
  if (charts[name]) {
    charts[name].data = config.data;
    charts[name].update('none');
    return;
  }
  charts[name] = new Chart(document.getElementById(canvasId), config);
}

function renderPareto(state) {
  const onFront = new Set(state.pareto.map((t) => t.id ?? t.trialId));
  const done = state.trials.filter((t) => mapOf(t) !== null && latOf(t) !== null);
  const point = (t) => ({ x: latOf(t), y: mapOf(t), trial: t });
  const front = done
    .filter((t) => onFront.has(t.id))
    .map(point)
    .sort((a, b) => a.x - b.x);
  upsertChart('pareto', 'pareto-chart', {
    type: 'scatter',
    data: {
      datasets: [
        {
          label: 'Pareto front',
          data: front,
          backgroundColor: '#d62728',
          pointRadius: 6,
          showLine: true,
          stepped: 'after',
          borderColor: '#d62728',
          borderDash: [4, 3],
        },
        {
          label: 'trials',
          data: done.filter((t) => !onFront.has(t.id)).map(point),
          backgroundColor: 'rgba(31,119,180,0.55)',
          pointRadius: 4,
        },
      ],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      onClick: (_e, els) => els[0] && state.select(els[0].element.$context.raw.trial.id),
      plugins: {
        tooltip: {
          callbacks: {
            label: (ctx) => {
              const t = ctx.raw.trial;
              return [
                `#${t.number ?? ''} mAP ${fmt(mapOf(t))}, ${fmt(latOf(t), 2)} ms`,
                genomeLabel(t.genome),
              ];
            },
          },
        },
      },
      scales: {
        x: { title: { display: true, text: 'latency (ms, search profile)' } },
        y: { title: { display: true, text: 'mAP@0.5:0.95' } },
      },
    },
  });
}

/** 2-D hypervolume of (maximize mAP, minimize latency) against (mAP 0, the largest latency seen x 1.1). */
function hypervolumeHistory(trials) {
  const done = trials
    .filter((t) => mapOf(t) !== null && latOf(t) !== null && t.status === 'completed')
    .sort((a, b) => (a.number ?? 0) - (b.number ?? 0));
  const ref = Math.max(1e-9, ...done.map(latOf)) * 1.1;
  const history = [];
  const seen = [];
  for (const t of done) {
    seen.push([latOf(t), mapOf(t)]);
    const sorted = [...seen].sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    let hv = 0;
    let best = 0;
    for (const [lat, map] of sorted) {
      if (map > best) {
        hv += (ref - lat) * (map - best);
        best = map;
      }
    }
    history.push({ x: history.length + 1, y: hv / ref });
  }
  return history;
}

function renderHypervolume(state) {
  upsertChart('hv', 'hv-chart', {
    type: 'line',
    data: {
      datasets: [
        {
          label: 'hypervolume (normalized by reference latency)',
          data: hypervolumeHistory(state.trials),
          borderColor: '#2ca02c',
          pointRadius: 2,
        },
      ],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      parsing: false,
      scales: {
        x: { type: 'linear', title: { display: true, text: 'completed trials' } },
        y: { beginAtZero: true },
      },
    },
  });
}

function renderCurve(trial) {
  if (!trial) return;
  document.getElementById('curve-title').textContent = `trial #${trial.number ?? ''} (${trial.status})`;
  document.getElementById('genome').textContent = JSON.stringify(trial.genome, null, 2);
  const epochs = epochsOf(trial);
  const series = (key, color, axis) => ({
    label: key,
    data: epochs
      .filter((e) => e[key] !== undefined && e[key] !== null)
      .map((e) => ({ x: e.epoch, y: e[key] })),
    borderColor: color,
    yAxisID: axis,
    pointRadius: 2,
  });
  upsertChart('curve', 'curve-chart', {
    type: 'line',
    data: {
      datasets: [
        series('map50_95', '#d62728', 'y'),
        series('map50', '#ff7f0e', 'y'),
        series('loss', '#1f77b4', 'loss'),
      ],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      parsing: false,
      scales: {
        x: { type: 'linear', title: { display: true, text: 'epoch' } },
        y: { beginAtZero: true, title: { display: true, text: 'mAP' } },
        loss: { position: 'right', grid: { drawOnChartArea: false }, title: { display: true, text: 'loss' } },
      },
    },
  });
}
