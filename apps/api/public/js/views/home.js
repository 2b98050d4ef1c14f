// Home: the launch form (optionally cloned from a search), the searches, and supernet training.
import { api, enc, optional } from '../api.js';
import { loadCatalog } from '../catalog.js';
import {
  esc,
  evaluatorHtml,
  fmt,
  fmtDate,
  fmtDuration,
  fmtMs,
  progressHtml,
  statusBadge,
} from '../format.js';
import { fillForm, launchFormHtml, wireLaunchForm } from './form.js';

const ENDED = new Set(['completed', 'cancelled', 'failed']);

export async function homePage(outlet, ctx, cloneId) {
  outlet.innerHTML = '<p class="muted loading">Loading searches…</p>';
  const [searches, catalog, datasets, clone, supernets] = await Promise.all([
    api('/searches', { signal: ctx.signal }),
    loadCatalog(),
    optional('/datasets', { signal: ctx.signal }).then((d) => d?.items ?? []),
    cloneId ? api(`/searches/${enc(cloneId)}`, { signal: ctx.signal }) : null,
    optional('/supernets', { signal: ctx.signal }),
  ]);
  if (!ctx.alive) return;
  outlet.innerHTML = `
    <section class="card" id="launch-card">
      <h1>${clone ? `Launch a copy of ${esc(clone.name)}` : 'Launch a search'}</h1>
      ${launchFormHtml(catalog, datasets)}
    </section>
    <section class="card" id="supernets-card" hidden><h1>Supernets</h1><div id="supernets"></div></section>
    <section class="card">
      <h1>Searches</h1>
      <div class="table-wrap"><table id="searches">
        <thead><tr><th>Name</th><th>Status</th><th>Progress</th><th>Strategy</th><th>Profile</th><th>Preset</th>
        <th>Evaluator</th><th class="num">Best mAP@.5:.95</th><th class="num">its latency</th><th class="num">Pareto</th><th>Created</th></tr></thead>
        <tbody></tbody>
      </table></div>
    </section>`;
  const form = outlet.querySelector('#launch');
  wireLaunchForm(form, catalog, ctx);
  if (clone) {
    fillForm(form, { ...clone, name: `${clone.name} (copy)` });
    form.scrollIntoView();
  }
  renderSearchRows(outlet, searches);
  outlet.querySelector('#searches tbody').addEventListener('click', (e) => {
    const tr = e.target.closest('tr[data-id]');
    if (tr && !e.target.closest('a')) location.hash = `#/searches/${tr.dataset.id}`;
  });
  if (supernets) renderSupernets(outlet, supernets.items ?? []);

  let latest = searches;
  let latestNets = supernets?.items ?? [];
  const busy = () =>
    latest.some((s) => !ENDED.has(s.status)) ||
    latestNets.some((n) => !['ready', 'failed', 'completed'].includes(n.status));
  const tick = async () => {
    if (!ctx.alive) return;
    try {
      latest = await api('/searches', { signal: ctx.signal });
      if (supernets) latestNets = (await optional('/supernets', { signal: ctx.signal }))?.items ?? [];
      if (!ctx.alive) return;
      renderSearchRows(outlet, latest);
      if (supernets) renderSupernets(outlet, latestNets);
    } catch {
      // The next tick tries again.
    }
    timer = setTimeout(tick, busy() ? 3000 : 15_000);
  };
  let timer = setTimeout(tick, busy() ? 3000 : 15_000);
  ctx.onLeave(() => clearTimeout(timer));
}

function renderSearchRows(outlet, searches) {
  const tbody = outlet.querySelector('#searches tbody');
  if (!tbody) return;
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

function renderSupernets(outlet, items) {
  const card = outlet.querySelector('#supernets-card');
  if (!card) return;
  card.hidden = false;
  outlet.querySelector('#supernets').innerHTML = items.length
    ? `<div class="table-wrap"><table><thead><tr><th>Status</th><th>Activation</th><th>Dataset</th><th>Training</th><th>Created</th></tr></thead><tbody>${items
        .map((n) => {
          const p = n.progress;
          const pct = p ? Math.round(100 * (p.fraction ?? 0)) : null;
          const training = p
            ? `<progress max="100" value="${pct}"></progress> ${pct}% · epoch ${esc(p.epoch)}/${esc(n.epochs)}${p.etaSeconds ? ` · ${fmtDuration(p.etaSeconds)} left` : ''}${p.message ? ` <span class="muted">${esc(p.message)}</span>` : ''}`
            : n.error
              ? `<span class="error">${esc(n.error)}</span>`
              : `${esc(n.epochs)} epochs`;
          return `<tr><td>${statusBadge(n.status)}</td><td>${esc(n.activation)}</td><td>${esc(n.dataset)}</td><td>${training}</td><td class="muted">${fmtDate(n.createdAt)}</td></tr>`;
        })
        .join('')}</tbody></table></div>`
    : '<p class="muted">No supernet trained yet.</p>';
}
