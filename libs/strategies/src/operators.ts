import type { Dimension, SearchSpace } from '@detsearch/search-space';
import type { Rng } from './rng';
import { gridSteps, isNumeric, sampleGene } from './space';

/*
 * Variation operators on genes (see space.ts): numeric genes live in [0, 1], categorical genes
 * are choice indices, boolean genes 0 | 1.
 */

/** A categorical or boolean gene replaced by a different value. */
function resetDiscrete(d: Dimension, gene: number, rng: Rng): number {
  const k = d.type === 'categorical' ? d.choices.length : 2;
  if (k < 2) return gene;
  const r = rng.int(k - 1);
  return r >= gene ? r + 1 : r;
}

/**
 * Evolution's mutation of one gene: a Gaussian step whose scale is drawn log-uniformly from
 * 0.003 to 0.3 of the range (coarse and fine moves without tuning), sometimes a fresh uniform
 * draw; grid dimensions move at least one step.
 */
export function mutateGene(d: Dimension, gene: number, rng: Rng, sigma = mutationScale(rng)): number {
  if (!isNumeric(d)) return resetDiscrete(d, gene, rng);
  if (rng.uniform() < 0.1) return sampleGene(d, rng);
  const steps = gridSteps(d);
  if (d.type === 'float' || (d.type === 'int' && d.log)) {
    return Math.min(1, Math.max(0, gene + sigma * rng.normal()));
  }
  if (steps === 0) return gene;
  let delta = Math.round(sigma * steps * rng.normal());
  if (delta === 0) delta = rng.uniform() < 0.5 ? -1 : 1;
  let k = Math.round(gene * steps) + delta;
  if (k < 0 || k > steps) k = Math.round(gene * steps) - delta; // reflect at the ends
  return Math.min(steps, Math.max(0, k)) / steps;
}

function mutationScale(rng: Rng): number {
  return Math.pow(10, -2.5 + 2 * rng.uniform());
}

/** Mutates each gene with probability 1/d, and always at least one; one step scale per child. */
export function mutate(space: SearchSpace, genes: readonly number[], rng: Rng): number[] {
  const d = space.dimensions.length;
  const sigma = mutationScale(rng);
  const child = genes.slice();
  let changed = false;
  for (let i = 0; i < d; i++) {
    if (rng.uniform() < 1 / d) {
      child[i] = mutateGene(space.dimensions[i], child[i], rng, sigma);
      changed = true;
    }
  }
  if (!changed && d > 0) {
    const i = rng.int(d);
    child[i] = mutateGene(space.dimensions[i], child[i], rng, sigma);
  }
  return child;
}

/** Bounded simulated binary crossover (Deb & Agrawal 1995) on one numeric gene pair in [0, 1]. */
function sbxPair(x1: number, x2: number, eta: number, rng: Rng): [number, number] {
  if (Math.abs(x1 - x2) < 1e-14) return [x1, x2];
  const y1 = Math.min(x1, x2);
  const y2 = Math.max(x1, x2);
  const spread = (beta: number): number => {
    const alpha = 2 - Math.pow(beta, -(eta + 1));
    const u = rng.uniform();
    return u <= 1 / alpha ? Math.pow(u * alpha, 1 / (eta + 1)) : Math.pow(1 / (2 - u * alpha), 1 / (eta + 1));
  };
  const bq1 = spread(1 + (2 * y1) / (y2 - y1));
  const bq2 = spread(1 + (2 * (1 - y2)) / (y2 - y1));
  let c1 = 0.5 * (y1 + y2 - bq1 * (y2 - y1));
  let c2 = 0.5 * (y1 + y2 + bq2 * (y2 - y1));
  c1 = Math.min(1, Math.max(0, c1));
  c2 = Math.min(1, Math.max(0, c2));
  return rng.uniform() < 0.5 ? [c2, c1] : [c1, c2];
}

/**
 * NSGA-II crossover for mixed spaces: SBX per numeric gene (with probability 1/2), uniform swap
 * for categorical and boolean genes.
 */
export function crossover(
  space: SearchSpace,
  a: readonly number[],
  b: readonly number[],
  eta: number,
  rng: Rng,
): [number[], number[]] {
  const c1 = a.slice();
  const c2 = b.slice();
  space.dimensions.forEach((d, i) => {
    if (rng.uniform() >= 0.5) return;
    if (isNumeric(d)) [c1[i], c2[i]] = sbxPair(a[i], b[i], eta, rng);
    else [c1[i], c2[i]] = [b[i], a[i]];
  });
  return [c1, c2];
}

/** Bounded polynomial mutation (Deb's NSGA-II code) for numeric genes; reset for discrete ones. */
export function polynomialMutation(
  space: SearchSpace,
  genes: number[],
  eta: number,
  probability: number,
  rng: Rng,
): number[] {
  const out = genes.slice();
  space.dimensions.forEach((d, i) => {
    if (rng.uniform() >= probability) return;
    if (!isNumeric(d)) {
      out[i] = resetDiscrete(d, out[i], rng);
      return;
    }
    const y = out[i];
    const u = rng.uniform();
    const pow = 1 / (eta + 1);
    let dq: number;
    // The step shrinks towards the nearer bound, so a child never leaves [0, 1].
    if (u < 0.5) {
      const val = 2 * u + (1 - 2 * u) * Math.pow(1 - y, eta + 1);
      dq = Math.pow(val, pow) - 1;
    } else {
      const val = 2 * (1 - u) + 2 * (u - 0.5) * Math.pow(y, eta + 1);
      dq = 1 - Math.pow(val, pow);
    }
    out[i] = Math.min(1, Math.max(0, y + dq));
  });
  return out;
}
