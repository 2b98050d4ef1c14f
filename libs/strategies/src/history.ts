import type { Params, SearchSpace } from '@detsearch/search-space';
import { encode, pointSetOf, type PointSet } from './space';
import type { AskInput, TrialRecord } from './types';

/** A completed trial in the form the strategies model. */
export interface Observation {
  params: Params;
  genes: number[];
  values: number[];
  constraints: number[];
  /** Sum of positive constraint values; 0 when feasible. */
  violation: number;
}

export function totalViolation(constraints: readonly number[] | undefined): number {
  let v = 0;
  for (const c of constraints ?? []) v += c > 0 ? c : Number.isNaN(c) ? Infinity : 0;
  return v;
}

function isUsable(t: TrialRecord, objectives: number): boolean {
  if (t.status !== 'completed' || !t.values || t.values.length < objectives) return false;
  for (let j = 0; j < objectives; j++) if (!Number.isFinite(t.values[j])) return false;
  return true;
}

/**
 * Completed trials with finite values, in history order. When the same params were evaluated at
 * several fidelities, only the highest (latest on ties) counts, at the position of that result.
 */
export function observations(input: AskInput): Observation[] {
  const { space, history, objectives } = input;
  const usable = history.filter((t) => isUsable(t, objectives));
  const fidelities = new Set(usable.map((t) => t.fidelity ?? 0));
  let kept = usable;
  if (fidelities.size > 1) {
    const best = new Map<string, number>();
    usable.forEach((t, i) => {
      const key = JSON.stringify(encode(space, t.params));
      const prev = best.get(key);
      if (prev === undefined || (usable[prev].fidelity ?? 0) <= (t.fidelity ?? 0)) best.set(key, i);
    });
    const keep = new Set(best.values());
    kept = usable.filter((_, i) => keep.has(i));
  }
  return kept.map((t) => ({
    params: t.params,
    genes: encode(space, t.params),
    values: t.values!.slice(0, objectives),
    constraints: t.constraints ?? [],
    violation: totalViolation(t.constraints),
  }));
}

export function pendingParams(history: TrialRecord[]): Params[] {
  return history.filter((t) => t.status === 'queued' || t.status === 'running').map((t) => t.params);
}

/** Points not to propose again: every trial so far, whatever its status. */
export function seenPoints(space: SearchSpace, history: TrialRecord[]): PointSet {
  return pointSetOf(
    space,
    history.map((t) => t.params),
  );
}
