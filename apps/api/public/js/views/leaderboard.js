// The leaderboard: server-side order and filters, keyset pages of 50 light rows, CSV of the
// current view, rows to compare. Feasible completed trials first unless a column is chosen.
import { api, enc } from '../api.js';
import { esc, feasibleBadge, fmt, fmtCount, fmtMB, fmtMs, genomeLabel, statusBadge } from '../format.js';

const PAGE = 50;
const COLUMNS = [
  [
    'number',
    '#',
    (t) =>
      `${t.number}${t.onFront ? ' <span class="star" title="on the Pareto front">★</span>' : ''}` +
      (t.reused
        ? ' <span class="tag reused" title="reused from an earlier search (warm start): its mAP as trained there, latency for this profile">reused</span>'
        : ''),
  ],
  [null, 'status', (t) => statusBadge(t.status)],
  [null, 'feasible', (t) => feasibleBadge(t.feasible)],
  ['map50_95', 'mAP@.5:.95', (t) => fmt(t.map50_95)],
  ['latencyMs', 'latency', (t) => fmtMs(t.latencyMs)],
  ['map50', 'mAP@.5', (t) => fmt(t.map50)],
  ['params', 'params', (t) => fmtCount(t.params)],
  ['gflops', 'GFLOPs', (t) => fmt(t.gflops, 2)],
  ['sizeBytes', 'size', (t) => fmtMB(t.sizeBytes)],
  [null, 'epochs', (t) => `${t.epochsDone}/${t.epochs}`],
  [null, 'genome', (t) => `<code>${esc(genomeLabel(t.genome))}</code>`],
];

export function leaderboardHtml(statuses) {
  return `<div class="card-head"><h2>Leaderboard</h2>
      <label class="inline">status <select id="status-filter"><option value="">all</option>${statuses
        .map((s) => `<option>${esc(s)}</option>`)
        .join('')}</select></label>
      <label class="inline">feasible <select id="feasible-filter"><option value="">all</option><option value="true">yes</option><option value="false">no</option></select></label>
      <button class="secondary small" id="rank-order" title="feasible completed trials first, best mAP first">ranked order</button>
      <span class="spacer"></span>
      <a id="csv-link" class="button secondary small" download>CSV of this view</a>
      <span id="page-info" class="muted"></span>
      <button class="secondary small" id="prev-page">‹ prev</button><button class="secondary small" id="next-page">next ›</button>
    </div>
    <div class="table-wrap"><table id="leaderboard"></table></div>
    <p class="hint">Click a row to open the trial; tick up to four rows to compare them.</p>`;
}

/** State and behaviour of one leaderboard on the page; `reload()` fetches the current page again. */
export function createLeaderboard({ searchId, ctx, onCompare, anyTrials }) {
  const state = {
    sort: 'rank',
    status: '',
    feasible: '',
    cursors: [null],
    page: null,
    compare: new Set(),
    loading: false,
  };
  const query = (extra = {}) => {
    const q = new URLSearchParams({ sort: state.sort, ...extra });
    if (state.status) q.set('status', state.status);
    if (state.feasible) q.set('feasible', state.feasible);
    return q;
  };

  // Responses can arrive out of order (a refresh on a timer and one at the search's end): only the
  // latest request may render, or a stale page would overwrite a newer one and stay.
  let latest = 0;
  async function reload() {
    const mine = ++latest;
    const after = state.cursors.at(-1);
    const q = query({ limit: String(PAGE), ...(after ? { after } : {}) });
    state.loading = true;
    document.getElementById('leaderboard')?.classList.add('is-loading');
    try {
      const page = await api(`/searches/${enc(searchId)}/trials?${q}`, { signal: ctx.signal });
      if (!ctx.alive || mine !== latest) return;
      state.page = page;
      render();
    } finally {
      if (mine === latest) {
        state.loading = false;
        document.getElementById('leaderboard')?.classList.remove('is-loading');
      }
    }
  }

  function render() {
    const table = document.getElementById('leaderboard');
    const page = state.page;
    if (!table || !page) return;
    const arrow = (key) => (state.sort === key ? ' ▲' : state.sort === `-${key}` ? ' ▼' : '');
    const ariaSort = (key) =>
      state.sort === key ? 'ascending' : state.sort === `-${key}` ? 'descending' : 'none';
    const filtered = state.status || state.feasible;
    const empty = filtered
      ? 'No trials match these filters.'
      : anyTrials()
        ? 'No trials on this page.'
        : 'No trials yet: they appear here as the search runs.';
    table.innerHTML = `<thead><tr><th class="pick" title="compare">⇆</th>${COLUMNS.map(([key, label]) =>
      key
        ? `<th class="sortable" data-key="${key}" aria-sort="${ariaSort(key)}" title="sort by ${label}">${label}${arrow(key)}</th>`
        : `<th>${label}</th>`,
    ).join('')}</tr></thead>
      <tbody>${
        page.items
          .map(
            (t) => `<tr class="clickable" data-id="${esc(t.id)}" data-status="${esc(t.status)}">
              <td class="pick"><input type="checkbox" aria-label="compare trial ${t.number}" ${state.compare.has(t.id) ? 'checked' : ''} /></td>
              ${COLUMNS.map(([key, , f]) => `<td${key === 'number' ? '' : ''}>${f(t)}</td>`).join('')}</tr>`,
          )
          .join('') || `<tr><td colspan="${COLUMNS.length + 1}" class="muted empty">${empty}</td></tr>`
      }</tbody>`;
    const start = (state.cursors.length - 1) * PAGE;
    const info = document.getElementById('page-info');
    if (info)
      info.textContent = page.total ? `${start + 1}–${start + page.items.length} of ${page.total}` : '';
    const prev = document.getElementById('prev-page');
    const next = document.getElementById('next-page');
    if (prev) prev.disabled = state.cursors.length <= 1;
    if (next) next.disabled = !page.nextCursor;
    const csv = document.getElementById('csv-link');
    if (csv) {
      csv.href = `/searches/${enc(searchId)}/trials?${query({ format: 'csv' })}`;
      csv.setAttribute('download', `leaderboard-${searchId}.csv`);
    }
    document.getElementById('rank-order')?.toggleAttribute('disabled', state.sort === 'rank');
  }

  function restart() {
    state.cursors = [null];
    return reload();
  }

  function wire() {
    const table = document.getElementById('leaderboard');
    table.addEventListener('click', (e) => {
      const th = e.target.closest('th.sortable');
      if (th) {
        const key = th.dataset.key;
        state.sort = state.sort === `-${key}` ? key : `-${key}`;
        return restart();
      }
      const box = e.target.closest('td.pick input');
      const tr = e.target.closest('tbody tr[data-id]');
      if (box && tr) {
        if (box.checked && state.compare.size >= 4) box.checked = false;
        else if (box.checked) state.compare.add(tr.dataset.id);
        else state.compare.delete(tr.dataset.id);
        return onCompare([...state.compare]);
      }
      if (tr && !e.target.closest('td.pick')) location.hash = `#/trials/${tr.dataset.id}`;
    });
    document.getElementById('status-filter').addEventListener('change', (e) => {
      state.status = e.target.value;
      restart();
    });
    document.getElementById('feasible-filter').addEventListener('change', (e) => {
      state.feasible = e.target.value;
      restart();
    });
    document.getElementById('rank-order').addEventListener('click', () => {
      state.sort = 'rank';
      restart();
    });
    document.getElementById('prev-page').addEventListener('click', () => {
      if (state.cursors.length > 1) state.cursors.pop();
      reload();
    });
    document.getElementById('next-page').addEventListener('click', () => {
      if (!state.page?.nextCursor) return;
      state.cursors.push(state.page.nextCursor);
      reload();
    });
  }

  return { state, reload, render, wire };
}
