import type { Params, SearchSpace } from '@detsearch/search-space';
import { observations, pendingParams, seenPoints, type Observation } from '../history';
import { mutateGene } from '../operators';
import { Rng } from '../rng';
import { decode, encode, ensureNew, geneFromUniform, isNumeric, sampleGenes, snapGene } from '../space';
import type { AskInput, Strategy } from '../types';
import { logExpectedImprovement, logNormCdf } from './acquisition';
import { fitHyperparameters, GaussianProcess } from './gp';

export interface BayesOptions {
  /** Space-filling design size before the model is used; default 2d+1 clamped to [5, 20]. */
  initialPoints?: number;
  /** Uniform random candidates per proposal; default 500 up to 10 dimensions, else 200 (few land well there). */
  randomCandidates?: number;
  /** Perturbations around each of the best observations per proposal. */
  perturbationsPerAnchor?: number;
  /** Best candidates refined by local search. */
  localStarts?: number;
  localSteps?: number;
  /** Cap on likelihood evaluations per hyperparameter fit; default adapts to the data size. */
  fitEvaluations?: number;
  /**
   * What the model assumes at pending points (trials still running, earlier picks of the same
   * ask): 'believer' (default), the GP's own posterior mean (Kriging believer); 'liar', the best
   * value observed so far (constant liar, CL-min), which pushes the next picks further away.
   */
  pending?: 'believer' | 'liar';
}

/** Inputs of the GP: numeric and boolean genes as one column, categorical ones one-hot. */
class Encoder {
  readonly columns: number;

  constructor(private readonly space: SearchSpace) {
    this.columns = space.dimensions.reduce(
      (c, d) => c + (d.type === 'categorical' ? d.choices.length : 1),
      0,
    );
  }

  encode(genes: ArrayLike<number>, out: Float64Array, offset = 0): void {
    let c = offset;
    this.space.dimensions.forEach((d, i) => {
      if (d.type === 'categorical') {
        for (let k = 0; k < d.choices.length; k++) out[c + k] = k === genes[i] ? 1 : 0;
        c += d.choices.length;
      } else {
        out[c++] = genes[i];
      }
    });
  }

  matrix(rows: ArrayLike<number>[]): Float64Array {
    const x = new Float64Array(rows.length * this.columns);
    rows.forEach((g, r) => this.encode(g, x, r * this.columns));
    return x;
  }
}

/** A GP on one standardized target, with the transform back to the target's scale. */
interface Surrogate {
  gp: GaussianProcess;
  mean: number;
  std: number;
}

interface Candidate {
  genes: number[];
  value: number;
}

/**
 * Gaussian-process Bayesian optimization. Matern 5/2 ARD kernel with MAP hyperparameters, log
 * expected improvement times the probability of feasibility of every constraint (one GP each),
 * ParEGO scalarization (augmented Chebyshev, weights drawn per ask) for several objectives.
 * Pending trials and earlier picks of the same batch enter as fantasies (Kriging believer by
 * default, constant liar as an option), so N parallel asks are N different points of high
 * acquisition rather than N copies of the same one; the fantasies are a function of the rows, so
 * the picks are reproducible per seed.
 */
export class BayesStrategy implements Strategy {
  readonly name = 'bayes';
  readonly defaultBatch = 1;
  private readonly options: BayesOptions;

  constructor(options: BayesOptions = {}) {
    this.options = { ...options };
  }

  initialPoints(space: SearchSpace): number {
    return this.options.initialPoints ?? Math.min(20, Math.max(5, 2 * space.dimensions.length + 1));
  }

  ask(input: AskInput, n: number): Params[] {
    const { space, history } = input;
    const rng = Rng.forAsk(input.seed, this.name, history.length);
    const seen = seenPoints(space, history);
    const out: Params[] = [];
    const push = (genes: number[]): void => {
      seen.addGenes(genes);
      out.push(decode(space, genes));
    };
    const random = (): number[] => sampleGenes(space, rng);

    // The design is a function of the seed alone; trial k of the search takes its k-th point.
    const initial = this.initialPoints(space);
    if (history.length < initial) {
      const design = latinHypercube(space, initial, new Rng(`bayes-design|${input.seed}`));
      while (out.length < n && history.length + out.length < initial) {
        push(ensureNew(space, seen, design[history.length + out.length], random, rng));
      }
    }
    if (out.length === n) return out;

    const obs = observations(input);
    if (obs.length < 3 || space.dimensions.length === 0) {
      while (out.length < n) push(ensureNew(space, seen, random(), random, rng));
      return out;
    }

    const model = this.fitModel(space, obs, input.objectives, rng);
    const liar = this.options.pending === 'liar';
    for (const p of pendingParams(history)) model.fantasize(encode(space, p), liar);
    while (out.length < n) {
      const ranked = this.optimizeAcquisition(space, model, obs, rng);
      const pick = ranked.find((c) => !seen.hasGenes(c.genes));
      const genes = pick ? pick.genes : ensureNew(space, seen, random(), random, rng);
      push(genes);
      if (out.length < n) model.fantasize(genes, liar);
    }
    return out;
  }

  private fitModel(space: SearchSpace, obs: Observation[], objectives: number, rng: Rng): AcquisitionModel {
    const encoder = new Encoder(space);
    const x = encoder.matrix(obs.map((o) => o.genes));
    const target = objectives > 1 ? parego(obs, rng.simplex(objectives)) : obs.map((o) => o.values[0]);
    const fit = (y: number[]): Surrogate => this.surrogate(x, encoder.columns, y, rng);
    const objective = fit(target);
    const nc = obs.reduce((m, o) => Math.max(m, o.constraints.length), 0);
    const constraints: Surrogate[] = [];
    for (let c = 0; c < nc; c++) constraints.push(fit(obs.map((o) => o.constraints[c] ?? 0)));
    let best = Infinity;
    obs.forEach((o, i) => {
      if (o.violation === 0) best = Math.min(best, target[i]);
    });
    return new AcquisitionModel(encoder, objective, constraints, best, target);
  }

  private surrogate(x: Float64Array, d: number, yRaw: number[], rng: Rng): Surrogate {
    const n = yRaw.length;
    const mean = yRaw.reduce((a, b) => a + b, 0) / n;
    const variance = yRaw.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    const std = variance > 1e-24 ? Math.sqrt(variance) : 1;
    const y = Float64Array.from(yRaw, (v) => (v - mean) / std);
    const data = { x, y, n, d };
    // Likelihood evaluations cost O(n^3 + n^2 d): fewer of them as the data grows keeps an ask
    // near a fixed time without making the result depend on the clock.
    const budget =
      this.options.fitEvaluations ?? Math.round(Math.min(60, Math.max(8, 1e8 / (n * n * n + 2 * n * n * d))));
    const theta = fitHyperparameters(data, rng, { maxEvaluations: budget, restarts: 4 });
    return { gp: new GaussianProcess(data, theta), mean, std };
  }

  /** Best candidates first: random points, perturbations of the best trials, then local search. */
  private optimizeAcquisition(
    space: SearchSpace,
    model: AcquisitionModel,
    obs: Observation[],
    rng: Rng,
  ): Candidate[] {
    const o = this.options;
    const localStarts = o.localStarts ?? 5;
    const localSteps = o.localSteps ?? 60;
    const perAnchor = o.perturbationsPerAnchor ?? 60;
    const all: Candidate[] = [];
    const evaluate = (genes: number[]): Candidate => {
      const value = model.logAcquisition(genes);
      const c = { genes, value: Number.isNaN(value) ? -Infinity : value }; // NaN would break the sort
      all.push(c);
      return c;
    };
    const randomCount = o.randomCandidates ?? (space.dimensions.length <= 10 ? 500 : 200);
    for (let r = 0; r < randomCount; r++) evaluate(sampleGenes(space, rng));
    const scales = [0.01, 0.03, 0.1, 0.3];
    for (const anchor of model.anchors(obs, 5)) {
      for (let t = 0; t < perAnchor; t++) evaluate(perturb(space, anchor, scales[t % 4], rng));
    }
    const starts = all
      .slice()
      .sort((a, b) => b.value - a.value)
      .slice(0, localStarts);
    for (const start of starts) {
      let current = start;
      let scale = 0.05;
      for (let s = 0; s < localSteps; s++) {
        const c = evaluate(perturb(space, current.genes, scale, rng));
        if (c.value > current.value) {
          current = c;
          scale = Math.min(0.3, scale * 1.5);
        } else {
          scale = Math.max(1e-4, scale * 0.85);
        }
      }
    }
    return all.sort((a, b) => b.value - a.value);
  }
}

class AcquisitionModel {
  private readonly buf: Float64Array;

  constructor(
    private readonly encoder: Encoder,
    private readonly objective: Surrogate,
    private readonly constraints: Surrogate[],
    /** Best feasible target value, Infinity when nothing is feasible yet. */
    private best: number,
    /** Target value of each observation, in observation order. */
    private readonly targets: number[],
  ) {
    this.buf = new Float64Array(encoder.columns);
  }

  /** log EI + sum of log P(feasible); only the feasibility term until something is feasible. */
  logAcquisition(genes: ArrayLike<number>): number {
    this.encoder.encode(genes, this.buf);
    let value = 0;
    for (const c of this.constraints) {
      const p = c.gp.predict(this.buf);
      value += logNormCdf((-c.mean / c.std - p.mean) / Math.sqrt(p.variance));
    }
    if (this.best === Infinity) return value;
    const p = this.objective.gp.predict(this.buf);
    const bestStd = (this.best - this.objective.mean) / this.objective.std;
    return value + logExpectedImprovement(p.mean, Math.sqrt(p.variance), bestStd);
  }

  /**
   * Kriging believer: conditions every GP on its own posterior mean at `genes`. Constant liar:
   * the objective GP on the best target observed instead (constraints stay believed).
   */
  fantasize(genes: ArrayLike<number>, liar = false): void {
    this.encoder.encode(genes, this.buf);
    const x = this.buf.slice();
    let feasible = true;
    for (const c of this.constraints) {
      const m = c.gp.predict(x).mean;
      if (m * c.std + c.mean > 0) feasible = false;
      c.gp.extend(x, m);
    }
    const m = liar ? this.lie() : this.objective.gp.predict(x).mean;
    this.objective.gp.extend(x, m);
    if (feasible) this.best = Math.min(this.best, m * this.objective.std + this.objective.mean);
  }

  /** The lowest observed target, standardized (the CL-min lie). */
  private lie(): number {
    let min = Infinity;
    for (const t of this.targets) min = Math.min(min, t);
    return (min - this.objective.mean) / this.objective.std;
  }

  /** The k best observed points (feasible by target, else by violation) to search around. */
  anchors(obs: Observation[], k: number): (readonly number[])[] {
    const scored = obs.map((o, i) => ({ o, i, y: this.targets[i] }));
    scored.sort((a, b) => a.o.violation - b.o.violation || a.y - b.y || a.i - b.i);
    return scored.slice(0, k).map((s) => s.o.genes);
  }
}

/**
 * ParEGO (Knowles 2006): objectives normalized to [0, 1] over the observations, then the
 * augmented Chebyshev scalarization max_j w_j f_j + 0.05 sum_j w_j f_j.
 */
export function parego(obs: Observation[], weights: number[]): number[] {
  const m = weights.length;
  const lo = new Array<number>(m).fill(Infinity);
  const hi = new Array<number>(m).fill(-Infinity);
  for (const o of obs) {
    for (let j = 0; j < m; j++) {
      lo[j] = Math.min(lo[j], o.values[j]);
      hi[j] = Math.max(hi[j], o.values[j]);
    }
  }
  return obs.map((o) => {
    let max = -Infinity;
    let sum = 0;
    for (let j = 0; j < m; j++) {
      const f = hi[j] > lo[j] ? (o.values[j] - lo[j]) / (hi[j] - lo[j]) : 0;
      max = Math.max(max, weights[j] * f);
      sum += weights[j] * f;
    }
    return max + 0.05 * sum;
  });
}

/** Latin hypercube in gene space: each dimension's range cut into `count` equal strata. */
export function latinHypercube(space: SearchSpace, count: number, rng: Rng): number[][] {
  const points = Array.from({ length: count }, () => new Array<number>(space.dimensions.length));
  space.dimensions.forEach((d, i) => {
    const strata = rng.sample(count, count);
    for (let k = 0; k < count; k++) points[k][i] = geneFromUniform(d, (strata[k] + rng.uniform()) / count);
  });
  return points;
}

/**
 * A neighbour for the acquisition search: half the time a few genes (about two), otherwise every
 * numeric gene, moved by Gaussian steps of `scale`; discrete genes are sometimes reset.
 */
function perturb(space: SearchSpace, genes: readonly number[], scale: number, rng: Rng): number[] {
  const dims = space.dimensions;
  const child = genes.slice();
  const dense = rng.uniform() < 0.5;
  const p = Math.min(1, 2 / dims.length);
  let changed = false;
  dims.forEach((d, i) => {
    if (isNumeric(d)) {
      if (!dense && rng.uniform() >= p) return;
      child[i] = snapGene(d, child[i] + scale * rng.normal());
    } else if (rng.uniform() < (dense ? 1 / dims.length : p / 2)) {
      child[i] = mutateGene(d, child[i], rng);
    }
    if (child[i] !== genes[i]) changed = true;
  });
  if (!changed) {
    const i = rng.int(dims.length);
    child[i] = snapGene(dims[i], mutateGene(dims[i], child[i], rng));
  }
  return child;
}
