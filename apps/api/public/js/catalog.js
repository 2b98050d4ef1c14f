// The launch form's choices: GET /catalog where the server has it, else assembled from the older
// routes (presets, hardware profiles, health's evaluators). Cached for the page's lifetime.
import { api, optional } from './api.js';

let cached = null;

const FALLBACK_STRATEGIES = [
  {
    name: 'nsga2',
    label: 'NSGA-II',
    description: 'Multi-objective evolution (Pareto ranks, crowding).',
    multiObjective: true,
  },
  {
    name: 'evolution',
    label: 'Regularized evolution',
    description: 'Aging evolution on mAP.',
    multiObjective: false,
  },
  {
    name: 'bayes',
    label: 'Bayesian optimization',
    description: 'Model-based search.',
    multiObjective: false,
  },
  {
    name: 'random',
    label: 'Random search',
    description: 'Uniform samples of the space.',
    multiObjective: true,
  },
];
const FALLBACK_OBJECTIVES = [
  { name: 'map50_95', label: 'mAP@0.5:0.95', column: 'map50_95', direction: 'maximize', unit: '' },
  { name: 'latency', label: 'latency', column: 'latencyMs', direction: 'minimize', unit: 'ms' },
  { name: 'size', label: 'model size', column: 'sizeBytes', direction: 'minimize', unit: 'bytes' },
];
const EVALUATOR_TEXT = {
  full: 'Trains each candidate on the dataset, exports it to ONNX and scores mAP. Real results; minutes per trial.',
  surrogate:
    'mAP is estimated from the architecture by a formula and latency predicted on the profile; nothing is trained. For tests and demos only.',
};

/** The catalog if a page already loaded it (pages that only need its lists fall back to defaults). */
export const cachedCatalog = () => cached;

export async function loadCatalog() {
  if (cached) return cached;
  const fromServer = await optional('/catalog');
  const [presets, profiles, health] = await Promise.all([
    api('/presets').catch(() => []),
    fromServer ? null : api('/hardware-profiles').catch(() => []),
    fromServer ? null : api('/health').catch(() => null),
  ]);
  if (fromServer) {
    // The catalog's presets list names and summaries; the full ones carry the form's values.
    cached = { ...fromServer, presetDetails: presets };
    return cached;
  }
  const evaluators = (health?.evaluators ?? ['full', 'surrogate']).map((name) => ({
    name,
    label: name === 'surrogate' ? 'surrogate: analytic stand-in' : name,
    description: EVALUATOR_TEXT[name] ?? '',
    trains: name !== 'surrogate',
    analytic: name === 'surrogate',
  }));
  cached = {
    strategies: FALLBACK_STRATEGIES,
    evaluators,
    objectives: FALLBACK_OBJECTIVES,
    constraints: [],
    genomeDimensions: [],
    trialStatuses: ['queued', 'running', 'completed', 'pruned', 'failed'].map((name) => ({
      name,
      terminal: ['completed', 'pruned', 'failed'].includes(name),
    })),
    presets: presets.map((p) => ({
      name: p.name,
      description: p.description,
      hardwareProfile: p.hardwareProfile,
      strategy: p.strategy,
    })),
    hardwareProfiles: profiles.map((p) => ({ name: p.name, description: p.description ?? p.device ?? '' })),
    presetDetails: presets,
  };
  return cached;
}
