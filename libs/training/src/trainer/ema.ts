import type { WeightMap } from '@detsearch/genome';

/**
 * Ultralytics' ModelEMA: an exponential moving average of every float state entry (weights and
 * BatchNorm running statistics) with a decay that ramps up, d = decay * (1 - exp(-updates / tau)),
 * so early averages are not dominated by the random initialization. Ultralytics' tau 2000 suits
 * 300-epoch runs; short runs need a tau of a few hundred updates or less.
 *
 * Kept on canonical WeightMaps in plain JS: it needs only the detector's public exportWeights(), and
 * one multiply-add over a yolov5n-sized model costs a few ms per optimizer step.
 */
export class ModelEma {
  private readonly shadow: WeightMap = new Map();
  updates = 0;

  constructor(
    initial: WeightMap,
    readonly decay = 0.9999,
    readonly tau = 2000,
  ) {
    for (const [name, w] of initial) this.shadow.set(name, new Float32Array(w));
  }

  /** Decay used at update number `updates`. */
  decayAt(updates: number): number {
    return this.decay * (1 - Math.exp(-updates / this.tau));
  }

  update(state: WeightMap): void {
    this.updates++;
    const d = this.decayAt(this.updates);
    const e = 1 - d;
    for (const [name, v] of this.shadow) {
      const cur = state.get(name);
      if (!cur || cur.length !== v.length) throw new Error(`ema: state entry '${name}' missing or resized`);
      for (let i = 0; i < v.length; i++) v[i] = v[i]! * d + cur[i]! * e;
    }
  }

  /** A copy of the averaged weights. */
  weights(): WeightMap {
    const out: WeightMap = new Map();
    for (const [name, v] of this.shadow) out.set(name, new Float32Array(v));
    return out;
  }
}

/**
 * EMA ramp for a run of `updates` optimizer steps: the averaging window at the end, about
 * exp(updates / tau), is a tenth of the run (never more than Ultralytics' 2000).
 */
export function defaultEmaTau(updates: number): number {
  return Math.min(2000, Math.max(1, updates / Math.log(Math.max(updates / 10, Math.E))));
}
