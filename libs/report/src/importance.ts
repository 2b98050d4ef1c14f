/**
 * Hyper-parameter importance as main-effect variance fractions: for each genome dimension, the
 * share of the objective's variance explained by that dimension alone (a first-order functional
 * ANOVA, as fANOVA reports for its main effects, but estimated from the trials directly instead
 * of from a random forest). Categorical values group as they are; numeric dimensions with more
 * than `bins` distinct values are cut into quantile bins. The estimate is ε² (between-group sum of
 * squares less its expected value under no effect, over the total), clipped at 0, so a dimension
 * with many small groups does not look important by chance. Interactions are not attributed.
 */

export type FeatureValue = number | string | boolean;

export interface ImportanceRow {
  features: Record<string, FeatureValue | null | undefined>;
  value: number | null | undefined;
}

export interface DimensionImportance {
  name: string;
  /** Fraction of the objective's variance explained by this dimension's main effect, 0..1. */
  importance: number;
  /** Groups compared (distinct values or bins). */
  groups: number;
}

/** Genome fields flattened to one value per dimension: nested objects dotted, lists by length. */
export function genomeFeatures(genome: unknown, prefix = ''): Record<string, FeatureValue> {
  const out: Record<string, FeatureValue> = {};
  if (!genome || typeof genome !== 'object') return out;
  for (const [key, value] of Object.entries(genome as Record<string, unknown>)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean')
      out[name] = value;
    else if (Array.isArray(value)) out[`${name}.count`] = value.length;
    else if (value && typeof value === 'object') Object.assign(out, genomeFeatures(value, name));
  }
  return out;
}

export function dimensionImportance(rows: readonly ImportanceRow[], bins = 8): DimensionImportance[] {
  const usable = rows.filter((r) => typeof r.value === 'number' && Number.isFinite(r.value));
  if (usable.length < 3) return [];
  const values = usable.map((r) => r.value as number);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sst = values.reduce((a, v) => a + (v - mean) ** 2, 0);
  const names = [...new Set(usable.flatMap((r) => Object.keys(r.features)))].sort();
  const out: DimensionImportance[] = [];
  for (const name of names) {
    const keys = groupKeys(
      usable.map((r) => r.features[name]),
      bins,
    );
    const groups = new Map<string, { n: number; sum: number }>();
    keys.forEach((k, i) => {
      const g = groups.get(k) ?? { n: 0, sum: 0 };
      g.n++;
      g.sum += values[i]!;
      groups.set(k, g);
    });
    if (groups.size < 2) continue; // constant across the trials: nothing to attribute
    let ssb = 0;
    for (const g of groups.values()) ssb += g.n * (g.sum / g.n - mean) ** 2;
    const k = groups.size;
    const n = usable.length;
    const msw = n > k ? (sst - ssb) / (n - k) : 0;
    const importance = sst > 0 ? Math.max(0, Math.min(1, (ssb - (k - 1) * msw) / sst)) : 0;
    out.push({ name, importance, groups: k });
  }
  return out.sort((a, b) => b.importance - a.importance || a.name.localeCompare(b.name));
}

/** Group key per row: the value itself, or its quantile bin for a numeric dimension with many values. */
function groupKeys(values: (FeatureValue | null | undefined)[], bins: number): string[] {
  const numeric = values.every((v) => typeof v === 'number' || v === null || v === undefined);
  const distinct = new Set(values.map((v) => String(v)));
  if (!numeric || distinct.size <= bins) return values.map((v) => String(v));
  const sorted = values.filter((v): v is number => typeof v === 'number').sort((a, b) => a - b);
  const edges = Array.from(
    { length: bins - 1 },
    (_, i) => sorted[Math.floor(((i + 1) * sorted.length) / bins)]!,
  );
  return values.map((v) => {
    if (typeof v !== 'number') return 'none';
    let b = 0;
    while (b < edges.length && v >= edges[b]!) b++;
    return `bin${b}`;
  });
}
