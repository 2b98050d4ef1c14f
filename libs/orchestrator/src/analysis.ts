import type { ObjectiveHistoryRow, PlotTrial, TrialCurve } from '@detsearch/persistence';
import {
  dimensionImportance,
  genomeFeatures,
  hypervolumeHistory,
  type DimensionImportance,
  type HypervolumeStep,
} from '@detsearch/report';

/** GET /searches/:id/hypervolume: the CLI's hypervolume history, only the steps where it changes. */
export interface HypervolumeView {
  searchId: string;
  /** Reference point: mAP 0 and this latency (1.1 x the slowest completed trial); null before any. */
  referenceLatencyMs: number | null;
  completed: number;
  steps: HypervolumeStep[];
}

export function hypervolumeView(searchId: string, rows: ObjectiveHistoryRow[]): HypervolumeView {
  return { searchId, ...hypervolumeHistory(rows, { changesOnly: true }) };
}

/** Objectives the importance can be asked for, as trial fields. */
export const IMPORTANCE_OBJECTIVES = ['map50_95', 'latencyMs', 'sizeBytes', 'params', 'gflops'] as const;
export type ImportanceObjective = (typeof IMPORTANCE_OBJECTIVES)[number];

/** GET /searches/:id/plot-trials: the trials the plots draw, and the genome dimensions' importance. */
export interface PlotTrialsView {
  searchId: string;
  /** Trials with results (completed, pruned) in the search. */
  total: number;
  /** True when `items` is a sample (the front and an even share of the rest). */
  sampled: boolean;
  /** Pass as finishedAfter to get only the trials finished since this answer. */
  asOf: string;
  /** Set when the answer is an increment (finishedAfter): only trials finished since then. */
  finishedAfter: string | null;
  items: PlotTrial[];
  /** Genome dimensions that vary among the items, flattened (quantization.precision, separable.count). */
  dimensions: string[];
  /** Over the whole sample; null in an increment. */
  importance: {
    objective: ImportanceObjective;
    method: string;
    /** Trials the estimate used. */
    trials: number;
    dimensions: DimensionImportance[];
  } | null;
}

export const IMPORTANCE_METHOD =
  'main-effect variance fraction (epsilon squared of a one-way ANOVA per dimension, numeric dimensions in ' +
  'up to 8 quantile bins) over the completed trials shown';

/** Below this many completed trials the importance also uses the pruned ones. */
const MIN_COMPLETED = 8;

export function plotTrialsView(
  searchId: string,
  sample: { total: number; asOf: Date; items: PlotTrial[] },
  objective: ImportanceObjective,
  finishedAfter?: Date,
): PlotTrialsView {
  const features = sample.items.map((t) => genomeFeatures(t.genome));
  const varying = new Set<string>();
  const first = new Map<string, unknown>();
  for (const f of features)
    for (const [k, v] of Object.entries(f)) {
      if (!first.has(k)) first.set(k, v);
      else if (first.get(k) !== v) varying.add(k);
    }
  // Completed trials; with fewer than MIN_COMPLETED, pruned ones too (their mAP is from partial
  // training, which the method text then says).
  const scored = sample.items.map((t, i) => ({ t, features: features[i]! }));
  const onlyCompleted = scored.filter(({ t }) => t.status === 'completed');
  const withPruned = onlyCompleted.length < MIN_COMPLETED;
  const completed = withPruned ? scored : onlyCompleted;
  return {
    searchId,
    total: sample.total,
    sampled: !finishedAfter && sample.items.length < sample.total,
    asOf: sample.asOf.toISOString(),
    finishedAfter: finishedAfter?.toISOString() ?? null,
    items: sample.items,
    dimensions: [...varying].sort(),
    importance: finishedAfter
      ? null
      : {
          objective,
          method: withPruned
            ? `${IMPORTANCE_METHOD}, pruned trials included (few completed)`
            : IMPORTANCE_METHOD,
          trials: completed.length,
          dimensions: dimensionImportance(
            completed.map(({ t, features: f }) => ({ features: f, value: t[objective] })),
          ).filter((d) => varying.has(d.name)),
        },
  };
}

/** GET /searches/:id/curves and GET /trials/:id/curves. */
export interface CurvesView {
  searchId: string;
  items: TrialCurve[];
}
