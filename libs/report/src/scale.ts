/** Linear scale with "nice" tick values (1, 2, 5 x 10^k steps), as plotting libraries choose them. */
export interface LinearScale {
  (v: number): number;
  ticks: number[];
  /** One label per tick, all distinct, with the same number of decimals. */
  labels: string[];
  domain: [number, number];
}

export interface TickOptions {
  /** About how many ticks to aim for (default 6). */
  target?: number;
  /** Whole numbers only (counts: "completed trials"); the step is at least 1. */
  integer?: boolean;
}

export interface Ticks {
  ticks: number[];
  labels: string[];
  step: number;
  /** The domain the ticks cover: the data range widened to whole steps. */
  domain: [number, number];
}

export function niceStep(span: number, targetTicks: number): number {
  const raw = span / Math.max(1, targetTicks);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

/** Decimals that show a multiple of `step` exactly (0.05 -> 2, 20 -> 0). */
export function stepDecimals(step: number): number {
  for (let d = 0; d <= 15; d++) if (Math.abs(Number(step.toFixed(d)) - step) <= step * 1e-9) return d;
  return 15;
}

/**
 * Ticks for a data range: a 1/2/5 x 10^k step, tick values on multiples of it, and labels with
 * exactly the decimals the step needs, so neighbouring labels always differ (0.001, 0.0015 ...
 * can never print as 0.001, 0.001). Degenerate ranges are widened around the value.
 */
export function niceTicks(lo: number, hi: number, options: TickOptions = {}): Ticks {
  const target = options.target ?? 6;
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [0, 1];
  if (lo > hi) [lo, hi] = [hi, lo];
  if (hi === lo) {
    const pad = options.integer ? 1 : Math.abs(hi) * 0.1 || 1;
    lo -= pad;
    hi += pad;
  }
  let step = niceStep(hi - lo, target);
  if (options.integer) step = Math.max(1, Math.round(step));
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const decimals = options.integer ? 0 : stepDecimals(step);
  const ticks: number[] = [];
  for (let k = first; k <= last; k++) ticks.push(Number((k * step).toFixed(decimals)));
  let labels = ticks.map((t) => t.toFixed(decimals));
  // Rounding cannot merge labels with the step's own decimals; this guards float surprises anyway.
  for (let d = decimals + 1; new Set(labels).size < labels.length && d <= 15; d++)
    labels = ticks.map((t) => t.toFixed(d));
  labels = labels.map((l) => (/^-0(\.0+)?$/.test(l) ? l.slice(1) : l));
  return { ticks, labels, step, domain: [ticks[0]!, ticks[ticks.length - 1]!] };
}

export function linearScale(
  values: number[],
  range: [number, number],
  targetTicks = 6,
  includeZero = false,
  options: Omit<TickOptions, 'target'> = {},
): LinearScale {
  const finite = values.filter(Number.isFinite);
  let lo = finite.length ? Math.min(...finite) : 0;
  const hi = finite.length ? Math.max(...finite) : 1;
  if (includeZero) lo = Math.min(lo, 0);
  const t = niceTicks(lo, hi, { ...options, target: targetTicks });
  const [d0, d1] = t.domain;
  const f = ((v: number) => range[0] + ((v - d0) / (d1 - d0)) * (range[1] - range[0])) as LinearScale;
  f.ticks = t.ticks;
  f.labels = t.labels;
  f.domain = t.domain;
  return f;
}
