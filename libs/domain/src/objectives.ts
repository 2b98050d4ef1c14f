import { namesOf } from './names';
/**
 * What a search can optimize and limit. Each entry names the trial column that stores its value,
 * so persistence, the scheduler, the strategies' vectors and the API read one table.
 */

/** The measured quantities of a trial that objectives and constraints are computed from. */
export interface ObjectiveMetrics {
  map50_95?: number | null;
  latencyMs?: number | null;
  sizeBytes?: number | null;
  params?: number | null;
  gflops?: number | null;
}

export interface ObjectiveDefinition {
  name: string;
  label: string;
  /** Column of the trials table holding the value. */
  column: string;
  direction: 'minimize' | 'maximize';
  unit: string;
  value(m: ObjectiveMetrics): number | null | undefined;
}

export interface ConstraintDefinition {
  /** The key in a search's `constraints` object. */
  name: string;
  label: string;
  column: string;
  unit: string;
  /** 'max': the value must not exceed the limit; 'min': it must reach it. */
  bound: 'max' | 'min';
  value(m: ObjectiveMetrics): number | null | undefined;
}

const objective = <const N extends string>(d: ObjectiveDefinition & { name: N }) => d;
const constraint = <const N extends string>(d: ConstraintDefinition & { name: N }) => d;

export const OBJECTIVE_TABLE = [
  objective({
    name: 'map50_95',
    label: 'mAP@0.5:0.95',
    column: 'map50_95',
    direction: 'maximize',
    unit: '',
    value: (m) => m.map50_95,
  }),
  objective({
    name: 'latency',
    label: 'Latency',
    column: 'latency_ms',
    direction: 'minimize',
    unit: 'ms',
    value: (m) => m.latencyMs,
  }),
  objective({
    name: 'size',
    label: 'Model size',
    column: 'size_bytes',
    direction: 'minimize',
    unit: 'bytes',
    value: (m) => m.sizeBytes,
  }),
] as const;

export type ObjectiveName = (typeof OBJECTIVE_TABLE)[number]['name'];
export const OBJECTIVES = namesOf(OBJECTIVE_TABLE);

/** Order matters: a trial's constraint vector lists the constraints present in this order. */
export const CONSTRAINT_TABLE = [
  constraint({
    name: 'maxLatencyMs',
    label: 'Max latency',
    column: 'latency_ms',
    unit: 'ms',
    bound: 'max',
    value: (m) => m.latencyMs,
  }),
  constraint({
    name: 'maxSizeBytes',
    label: 'Max model size',
    column: 'size_bytes',
    unit: 'bytes',
    bound: 'max',
    value: (m) => m.sizeBytes,
  }),
  constraint({
    name: 'maxParams',
    label: 'Max parameters',
    column: 'params',
    unit: 'params',
    bound: 'max',
    value: (m) => m.params,
  }),
  constraint({
    name: 'maxGflops',
    label: 'Max GFLOPs',
    column: 'gflops',
    unit: 'GFLOPs',
    bound: 'max',
    value: (m) => m.gflops,
  }),
  constraint({
    name: 'minMap50_95',
    label: 'Min mAP@0.5:0.95',
    column: 'map50_95',
    unit: '',
    bound: 'min',
    value: (m) => m.map50_95,
  }),
] as const;

export type ConstraintName = (typeof CONSTRAINT_TABLE)[number]['name'];
export const CONSTRAINTS = namesOf(CONSTRAINT_TABLE);
/** Limits a trial must meet to be feasible, keyed by constraint name. */
export type SearchConstraints = Partial<Record<ConstraintName, number>>;

export function isObjectiveName(name: string): name is ObjectiveName {
  return (OBJECTIVES as readonly string[]).includes(name);
}

export function objectiveDefinition(name: ObjectiveName): ObjectiveDefinition {
  const d = OBJECTIVE_TABLE.find((o) => o.name === name);
  if (!d) throw new Error(`unknown objective '${name}'`);
  return d;
}

/** A value turned into one to minimize (maximized objectives negated); a missing value is the worst. */
export function toMinimized(
  direction: ObjectiveDefinition['direction'],
  value: number | null | undefined,
): number {
  if (value === null || value === undefined) return Infinity;
  return direction === 'maximize' ? -value : value;
}

/** Objective values in the search's order, all minimized, as the strategies take them. */
export function objectiveVector(objectives: readonly ObjectiveName[], m: ObjectiveMetrics): number[] {
  return objectives.map((name) => {
    const d = objectiveDefinition(name);
    return toMinimized(d.direction, d.value(m));
  });
}

/** Objective values in natural units (mAP as a fraction, latency in ms, ...), keyed by name. */
export function objectiveValues(
  objectives: readonly ObjectiveName[],
  m: ObjectiveMetrics,
): Partial<Record<ObjectiveName, number>> {
  const out: Partial<Record<ObjectiveName, number>> = {};
  for (const name of objectives) {
    const v = objectiveDefinition(name).value(m);
    if (v !== null && v !== undefined) out[name] = v;
  }
  return out;
}

/** Constraint values, feasible when <= 0, in table order of the constraints present. */
export function constraintVector(c: SearchConstraints, m: ObjectiveMetrics): number[] {
  const v: number[] = [];
  for (const d of CONSTRAINT_TABLE) {
    const limit = c[d.name];
    if (limit === undefined) continue;
    const x = d.value(m) ?? NaN;
    v.push(d.bound === 'max' ? x - limit : limit - x);
  }
  return v;
}
