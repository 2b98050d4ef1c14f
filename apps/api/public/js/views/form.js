// The launch form: choices from the catalog, checks per field before sending, the API's field
// errors shown next to the field they name, dataset choice below DATA_ROOT, and the server's
// duration estimate (when it offers one) before launch.
import { api, ApiError, optional } from '../api.js';
import { esc, fmtDuration } from '../format.js';

/** API field path -> form control name. */
const FIELD_OF = {
  name: 'name',
  preset: 'preset',
  strategy: 'strategy',
  hardwareProfile: 'hardwareProfile',
  'budget.trials': 'trials',
  budget: 'trials',
  'constraints.maxLatencyMs': 'maxLatencyMs',
  fidelity: 'epochs',
  'fidelity.epochs': 'epochs',
  'fidelity.minEpochs': 'epochs',
  seed: 'seed',
  objectives: 'objective',
  evaluator: 'evaluator',
  dataset: 'dataset',
};
const MAX_TRIALS = 100_000;

export function launchFormHtml(catalog, datasets) {
  const option = (value, label, selected = false) =>
    `<option value="${esc(value)}"${selected ? ' selected' : ''}>${esc(label ?? value)}</option>`;
  const field = (name, label, control, hint = '') =>
    `<label class="field" data-for="${name}">${label} ${control}${hint ? `<span class="hint">${hint}</span>` : ''}<span class="field-error" role="alert"></span></label>`;
  const evaluators = catalog.evaluators
    .map(
      (
        e,
        i,
      ) => `<label class="radio"><input type="radio" name="evaluator" value="${esc(e.name)}" ${i === 0 ? 'checked' : ''} />
      <span><strong>${esc(e.label)}</strong><br /><span class="muted">${esc(e.description)}</span></span></label>`,
    )
    .join('');
  const objectives = catalog.objectives
    .map(
      (o) =>
        `<label><input type="checkbox" name="objective" value="${esc(o.name)}" ${o.name === 'map50_95' ? 'checked disabled' : o.name === 'latency' ? 'checked' : ''} /> ${esc(o.label)}</label>`,
    )
    .join('');
  return `<form class="launch" id="launch" novalidate>
    <div class="fields">
      ${field(
        'preset',
        'Preset',
        `<select name="preset">${option('', '(none: choose everything below)')}${catalog.presets
          .map((p) => option(p.name, `${p.name} (${p.hardwareProfile})`))
          .join('')}</select>`,
        '<span id="preset-desc">A preset fills in the profile, latency budget, search space, strategy and budget.</span>',
      )}
      ${field('name', 'Name', '<input name="name" maxlength="200" placeholder="(generated)" />')}
      ${field('strategy', 'Strategy', `<select name="strategy">${catalog.strategies.map((s) => option(s.name, s.label)).join('')}</select>`)}
      ${field(
        'hardwareProfile',
        'Hardware profile',
        `<select name="hardwareProfile">${catalog.hardwareProfiles.map((p) => option(p.name, p.name, p.name === 'host')).join('')}</select>`,
      )}
      ${field('trials', 'Trials', `<input name="trials" type="number" inputmode="numeric" min="1" max="${MAX_TRIALS}" value="20" />`)}
      ${field('maxLatencyMs', 'Max latency (ms)', '<input name="maxLatencyMs" type="number" min="0" step="any" placeholder="(none)" />')}
      ${field('epochs', 'Epochs per trial', '<input name="epochs" type="number" inputmode="numeric" min="1" max="1000" placeholder="(default)" />')}
      ${field('seed', 'Seed', '<input name="seed" type="number" inputmode="numeric" min="0" placeholder="(random)" />')}
      ${field(
        'dataset',
        'Dataset',
        `<select name="dataset">${option('', '(synthetic shapes: no data needed)')}${datasets.map((d) => option(d.path)).join('')}</select>`,
        datasets.length ? 'data.yaml files below DATA_ROOT' : 'No data.yaml found below DATA_ROOT',
      )}
      <fieldset class="objectives field" data-for="objective"><legend>Objectives</legend>${objectives}<span class="field-error" role="alert"></span></fieldset>
    </div>
    <fieldset class="evaluator field" data-for="evaluator"><legend>Evaluator</legend>${evaluators}<span class="field-error" role="alert"></span></fieldset>
    <p class="estimate muted" id="estimate" aria-live="polite"></p>
    <div class="actions"><button type="submit" id="launch-button">Launch search</button></div>
    <div class="error" id="launch-error" role="alert"></div>
  </form>`;
}

/** The request body from the form; `errors` holds checks that failed here, by control name. */
function readForm(form, catalog) {
  const el = (name) => form.elements.namedItem(name);
  const errors = {};
  const text = (name) => el(name).value.trim();
  const int = (name, label, { min, max, required = false }) => {
    const raw = text(name);
    if (raw === '') {
      if (required) errors[name] = `${label}: required`;
      return undefined;
    }
    const v = Number(raw);
    if (!Number.isInteger(v)) errors[name] = `${label}: a whole number`;
    else if (v < min) errors[name] = `${label}: at least ${min}`;
    else if (max !== undefined && v > max) errors[name] = `${label}: at most ${max}`;
    return v;
  };
  const trials = int('trials', 'Trials', { min: 1, max: MAX_TRIALS, required: true });
  const epochs = int('epochs', 'Epochs per trial', { min: 1, max: 1000 });
  const seed = int('seed', 'Seed', { min: 0 });
  let maxLatencyMs;
  if (text('maxLatencyMs') !== '') {
    maxLatencyMs = Number(text('maxLatencyMs'));
    if (!(maxLatencyMs > 0))
      errors.maxLatencyMs = 'Max latency: a positive number of milliseconds, or empty for none';
  }
  const presetName = el('preset').value;
  const preset = catalog.presetDetails.find((p) => p.name === presetName);
  const body = {
    strategy: el('strategy').value,
    objectives: [...form.querySelectorAll('input[name=objective]:checked')].map((b) => b.value),
    budget: { trials },
    hardwareProfile: el('hardwareProfile').value || undefined,
    evaluator: form.querySelector('input[name=evaluator]:checked')?.value,
  };
  if (text('name')) body.name = text('name');
  if (preset) body.preset = preset.name;
  if (seed !== undefined) body.seed = seed;
  if (maxLatencyMs !== undefined) body.constraints = { maxLatencyMs };
  if (el('dataset').value) body.dataset = el('dataset').value;
  if (epochs !== undefined && epochs !== preset?.fidelity?.epochs) {
    // Keep the preset's successive-halving schedule where it fits the new epoch count.
    body.fidelity = { epochs, minEpochs: Math.min(epochs, preset?.fidelity?.minEpochs ?? 1) };
    if (preset?.fidelity?.eta) body.fidelity.eta = preset.fidelity.eta;
  }
  return { body, errors };
}

function showErrors(form, errors) {
  for (const label of form.querySelectorAll('.field')) {
    const message = errors[label.dataset.for];
    label.classList.toggle('invalid', Boolean(message));
    label.querySelector('.field-error').textContent = message ?? '';
  }
}

/** The API's issues by control name; what names no control goes to the form-level box. */
function apiErrors(err) {
  const byControl = {};
  const rest = [];
  for (const issue of err.issues ?? []) {
    const control = FIELD_OF[issue.field] ?? FIELD_OF[String(issue.field).split('.')[0]];
    if (control) byControl[control] = [byControl[control], issue.message].filter(Boolean).join('; ');
    else rest.push(issue.message);
  }
  if (!err.issues?.length) rest.push(err.message);
  return { byControl, rest };
}

/** Fills the form from a search (clone) or a preset. */
export function fillForm(form, values) {
  const el = (name) => form.elements.namedItem(name);
  const set = (name, v) => {
    if (v !== undefined && el(name)) el(name).value = v ?? '';
  };
  set('preset', values.preset ?? '');
  set('name', values.name);
  set('strategy', values.strategy);
  set('hardwareProfile', values.hardwareProfile);
  set('trials', values.budget?.trials);
  set('maxLatencyMs', values.constraints?.maxLatencyMs ?? '');
  set('epochs', values.fidelity?.epochs ?? '');
  set('seed', values.seed ?? '');
  if (values.dataset && [...el('dataset').options].some((o) => o.value === values.dataset))
    set('dataset', values.dataset);
  if (values.objectives)
    for (const box of form.querySelectorAll('input[name=objective]:not([disabled])'))
      box.checked = values.objectives.includes(box.value);
  if (values.evaluator) {
    const radio = form.querySelector(`input[name=evaluator][value="${CSS.escape(values.evaluator)}"]`);
    if (radio) radio.checked = true;
  }
}

export function wireLaunchForm(form, catalog, ctx) {
  const el = (name) => form.elements.namedItem(name);
  el('preset').addEventListener('change', () => {
    const p = catalog.presetDetails.find((q) => q.name === el('preset').value);
    const desc = form.querySelector('#preset-desc');
    if (!p) {
      desc.textContent = 'No preset: the default YOLOv5 search space, with the choices below.';
      return;
    }
    desc.textContent = p.description ?? '';
    fillForm(form, {
      preset: p.name,
      strategy: p.strategy,
      hardwareProfile: p.hardwareProfile,
      budget: p.budget,
      constraints: { maxLatencyMs: p.latencyBudgetMs ?? '' },
      fidelity: { epochs: p.fidelity?.epochs ?? '' },
      objectives: p.objectives,
    });
    estimate();
  });

  // The estimate follows the form, a moment after the last change; hidden when the server has none.
  let timer = null;
  let seq = 0;
  const box = form.querySelector('#estimate');
  const estimate = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const { body, errors } = readForm(form, catalog);
      const mine = ++seq;
      if (Object.keys(errors).length) return void (box.textContent = '');
      try {
        const e = await optional('/searches/estimate', { method: 'POST', body, signal: ctx.signal });
        if (mine !== seq || !ctx.alive) return;
        box.textContent = e
          ? `Estimated duration: about ${fmtDuration(e.seconds)}${e.maxSeconds > e.seconds ? ` (at most ${fmtDuration(e.maxSeconds)} without pruning)` : ''}. ${e.basis ?? ''}`
          : '';
      } catch {
        if (mine === seq) box.textContent = '';
      }
    }, 400);
  };
  ctx.onLeave(() => clearTimeout(timer));
  form.addEventListener('input', (e) => {
    // A field the user edits loses its error at once.
    const label = e.target.closest('.field');
    if (label) {
      label.classList.remove('invalid');
      label.querySelector('.field-error').textContent = '';
    }
    estimate();
  });
  form.addEventListener('change', estimate);
  estimate();

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const errorBox = form.querySelector('#launch-error');
    errorBox.textContent = '';
    const { body, errors } = readForm(form, catalog);
    showErrors(form, errors);
    if (Object.keys(errors).length)
      return form.querySelector('.field.invalid input, .field.invalid select')?.focus();
    const button = form.querySelector('#launch-button');
    button.disabled = true;
    button.textContent = 'Launching…';
    try {
      const created = await api('/searches', { method: 'POST', body });
      location.hash = `#/searches/${created.id}`;
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const { byControl, rest } = apiErrors(err);
      showErrors(form, byControl);
      errorBox.textContent = rest.join('; ');
    } finally {
      button.disabled = false;
      button.textContent = 'Launch search';
    }
  });
}
