import type { Params, SearchSpace } from '@detsearch/search-space';
import { encodePoint, PointSet } from './space';
import type { AskInput, TrialRecord } from './types';

/** A completed trial in the form the strategies model. */
export interface Observation {
  params: Params;
  /** Encoded params; shared with the encoding cache, so copy before changing. */
  genes: readonly number[];
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
 * Completed trials with finite values, in history order (the `last` ones only when given). When the same params were evaluated at
 * several fidelities, only the highest (latest on ties) counts, at the position of that result.
 */
export function observations(input: AskInput, last = Infinity): Observation[] {
  const { space, history, objectives } = input;
  let usable: TrialRecord[] = [];
  if (last < history.length && sameFidelity(history)) {
    // Only the most recent ones are wanted: scan from the end.
    for (let i = history.length - 1; i >= 0 && usable.length < last; i--) {
      if (isUsable(history[i], objectives)) usable.push(history[i]);
    }
    usable.reverse();
  } else {
    usable = history.filter((t) => isUsable(t, objectives));
  }
  const fidelities = new Set(usable.map((t) => t.fidelity ?? 0));
  let kept = usable;
  if (fidelities.size > 1) {
    const best = new Map<string, number>();
    usable.forEach((t, i) => {
      const key = JSON.stringify(encodePoint(space, t.params).genes);
      const prev = best.get(key);
      if (prev === undefined || (usable[prev].fidelity ?? 0) <= (t.fidelity ?? 0)) best.set(key, i);
    });
    const keep = new Set(best.values());
    kept = usable.filter((_, i) => keep.has(i));
  }
  if (kept.length > last) kept = kept.slice(-last);
  return kept.map((t) => ({
    params: t.params,
    genes: encodePoint(space, t.params).genes,
    values: t.values!.slice(0, objectives),
    constraints: t.constraints ?? [],
    violation: totalViolation(t.constraints),
  }));
}

function sameFidelity(history: TrialRecord[]): boolean {
  for (const t of history) if ((t.fidelity ?? 0) !== (history[0].fidelity ?? 0)) return false;
  return true;
}

export function pendingParams(history: TrialRecord[]): Params[] {
  return history.filter((t) => t.status === 'queued' || t.status === 'running').map((t) => t.params);
}

const seenCache = new WeakMap<TrialRecord[], { space: SearchSpace; params: Params[]; set: PointSet }>();

/**
 * Points not to propose again: every trial so far, whatever its status; the caller adds its own
 * picks to the returned set. The part built from the history is memoized per history array and
 * reused while the array only grew (checked entry by entry), so asking after each appended trial
 * stays cheap; the answer is the same as building it afresh.
 */
export function seenPoints(space: SearchSpace, history: TrialRecord[]): PointSet {
  let cached = seenCache.get(history);
  const valid =
    cached !== undefined &&
    cached.space === space &&
    cached.params.length <= history.length &&
    cached.params.every((p, i) => history[i].params === p);
  if (!cached || !valid) {
    cached = { space, params: [], set: new PointSet(space) };
    seenCache.set(history, cached);
  }
  for (let i = cached.params.length; i < history.length; i++) {
    cached.set.addParams(history[i].params);
    cached.params.push(history[i].params);
  }
  return new PointSet(space, cached.set);
}
