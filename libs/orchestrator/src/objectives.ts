import type { ObjectiveName, SearchConstraints } from '@detsearch/persistence';

export interface ObjectiveInputs {
  map50_95: number;
  latencyMs: number;
  sizeBytes: number;
  params: number;
  gflops: number;
}

/** Objective values in the search's order, all minimized (mAP negated), as the strategies take them. */
export function objectiveVector(objectives: ObjectiveName[], m: ObjectiveInputs): number[] {
  return objectives.map((o) =>
    o === 'map50_95' ? -m.map50_95 : o === 'latency' ? m.latencyMs : m.sizeBytes,
  );
}

/** Constraint values, feasible when <= 0, in a fixed order of the constraints present. */
export function constraintVector(c: SearchConstraints, m: ObjectiveInputs): number[] {
  const v: number[] = [];
  if (c.maxLatencyMs !== undefined) v.push(m.latencyMs - c.maxLatencyMs);
  if (c.maxSizeBytes !== undefined) v.push(m.sizeBytes - c.maxSizeBytes);
  if (c.maxParams !== undefined) v.push(m.params - c.maxParams);
  if (c.maxGflops !== undefined) v.push(m.gflops - c.maxGflops);
  if (c.minMap50_95 !== undefined) v.push(c.minMap50_95 - m.map50_95);
  return v;
}
