// Formatting and HTML escaping shared by the views.

export const esc = (s) =>
  String(s ?? '').replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c],
  );
export const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
export const fmt = (v, digits = 3) => (isNum(v) ? v.toFixed(digits) : '–');
export const fmtMs = (v) => (isNum(v) ? `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms` : '–');
export const fmtCount = (v) =>
  isNum(v) ? (v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : `${(v / 1e3).toFixed(0)}k`) : '–';
export const fmtMB = (v) => (isNum(v) ? `${(v / 2 ** 20).toFixed(2)} MB` : '–');
export const fmtPct = (v) => (isNum(v) ? `${(100 * v).toFixed(1)}%` : '–');
export const fmtDate = (s) =>
  s
    ? new Date(s).toLocaleString(undefined, {
        month: 'short',
        day: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      })
    : '–';
export function fmtDuration(seconds) {
  if (!isNum(seconds)) return '–';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
export const statusBadge = (s) => `<span class="status ${esc(s)}">${esc(s)}</span>`;
export const feasibleBadge = (f) =>
  f === true
    ? '<span class="feas yes" title="within every constraint">yes</span>'
    : f === false
      ? '<span class="feas no" title="over a constraint">no</span>'
      : '<span class="muted">–</span>';

/** Precision as libs/genome's precisionLabel writes it (a spec holds the two equal). */
export function precisionLabel(q) {
  if (!q || q.precision !== 'int8') return q?.precision ?? 'fp32';
  const parts = ['int8', q.scheme ?? 'static', q.granularity ?? 'per-channel'];
  if (q.calibration && q.calibration !== 'minmax') parts.push(q.calibration);
  if (q.floatLayers?.length) parts.push(`fp32[${q.floatLayers.join(',')}]`);
  if (q.autoFloatLayers) parts.push(`+${q.autoFloatLayers} fp32`);
  return parts.join(' ');
}

/** One-line genome as libs/genome's genomeLabel writes it (a spec holds the two equal). */
export function genomeLabel(g) {
  if (!g) return '';
  const parts = [`d${g.depthMultiple}`, `w${g.widthMultiple}`, `${g.imageSize}px`, g.activation, precisionLabel(g.quantization)];
  if (g.separable?.length) parts.push(`sep[${g.separable.join(',')}]`);
  if (g.stageDepth) parts.push(`stage-d[${g.stageDepth.join(',')}]`);
  if (g.stageWidth) parts.push(`stage-w[${g.stageWidth.join(',')}]`);
  return parts.join(' ');
}

export function genomeLines(g) {
  if (!g) return [];
  return [
    `depth × ${g.depthMultiple}, width × ${g.widthMultiple}`,
    `input ${g.imageSize} px, ${g.numClasses} classes, ${g.activation}`,
    `precision ${precisionLabel(g.quantization)}`,
    `separable blocks: ${g.separable?.length ? g.separable.join(', ') : 'none'}`,
  ];
}

/** Finished trials (completed, pruned, failed) against the budget, with the running count. */
export function progressHtml(p) {
  if (!p) return '';
  const done = p.completed + p.pruned + p.failed;
  const pct = Math.round(100 * Math.min(1, p.fraction ?? 0));
  const extra = [
    p.running ? `${p.running} running` : '',
    p.pruned ? `${p.pruned} pruned` : '',
    p.failed ? `${p.failed} failed` : '',
  ].filter(Boolean);
  return `<progress max="100" value="${pct}" title="${pct}%"></progress>
    <span class="progress-text">${done}/${p.budget}${extra.length ? ` <span class="muted">(${extra.join(', ')})</span>` : ''}</span>`;
}

export const evaluatorHtml = (e) =>
  e === 'surrogate'
    ? '<span class="tag surrogate" title="analytic stand-in: no training">surrogate</span>'
    : esc(e);

/** Fills an element (by id, within `root`) if it is still there. */
export function setHtml(id, html, root = document) {
  const el = root.getElementById ? root.getElementById(id) : root.querySelector(`#${id}`);
  if (el) el.innerHTML = html;
  return el;
}
