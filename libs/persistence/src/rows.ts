import type { Genome } from '@detsearch/genome';
import type { Params } from '@detsearch/search-space';
import type {
  BestSoFar,
  EpochMetric,
  LatencySource,
  FineTuneSettings,
  ObjectiveName,
  Search,
  SearchBudget,
  SearchConstraints,
  SearchFidelity,
  SearchStatus,
  Supernet,
  SupernetProgress,
  SupernetStatus,
  Trial,
  TrialStatus,
} from './types';

// Raw rows (snake_case, as the SQL returns them) -> domain objects.

type Row = Record<string, unknown>;

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const date = (v: unknown): Date | null =>
  v === null || v === undefined ? null : v instanceof Date ? v : new Date(String(v));
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function searchFromRow(r: Row): Search {
  return {
    id: String(r.id),
    name: String(r.name),
    status: r.status as SearchStatus,
    strategy: String(r.strategy),
    objectives: r.objectives as ObjectiveName[],
    constraints: (r.constraints ?? {}) as SearchConstraints,
    budget: r.budget as SearchBudget,
    seed: Number(r.seed),
    searchSpace: r.search_space as Record<string, unknown>,
    hardwareProfile: String(r.hardware_profile),
    hardwareProfileSpec: (r.hardware_profile_spec ?? null) as Record<string, unknown> | null,
    preset: str(r.preset),
    dataset: str(r.dataset),
    fidelity: r.fidelity as SearchFidelity,
    evaluator: String(r.evaluator),
    request: (r.request ?? {}) as Record<string, unknown>,
    supernetId: str(r.supernet_id),
    fineTune: (r.fine_tune ?? null) as FineTuneSettings | null,
    warmStartKey: str(r.warm_start_key),
    reusedTrials: Number(r.reused_trials ?? 0),
    best: (r.best ?? null) as BestSoFar | null,
    error: str(r.error),
    runnerId: str(r.runner_id),
    heartbeatAt: date(r.heartbeat_at),
    createdAt: date(r.created_at)!,
    startedAt: date(r.started_at),
    finishedAt: date(r.finished_at),
    updatedAt: date(r.updated_at)!,
  };
}

export function supernetFromRow(r: Row): Supernet {
  return {
    id: String(r.id),
    status: r.status as SupernetStatus,
    activation: String(r.activation),
    datasetFingerprint: String(r.dataset_fingerprint),
    spaceFingerprint: String(r.space_fingerprint),
    dataset: str(r.dataset),
    searchSpace: (r.search_space ?? {}) as Record<string, unknown>,
    imageSizes: (r.image_sizes ?? []) as number[],
    budgetMinutes: num(r.budget_minutes),
    epochs: Number(r.epochs ?? 0),
    minutes: Number(r.minutes ?? 0),
    progress: (r.progress ?? null) as SupernetProgress | null,
    metrics: (r.metrics ?? null) as Record<string, unknown> | null,
    sizeBytes: num(r.size_bytes),
    artifactPath: str(r.artifact_path),
    artifactKey: str(r.artifact_key),
    error: str(r.error),
    runnerId: str(r.runner_id),
    heartbeatAt: date(r.heartbeat_at),
    createdAt: date(r.created_at)!,
    updatedAt: date(r.updated_at)!,
    finishedAt: date(r.finished_at),
  };
}

export function trialFromRow(r: Row): Trial {
  return {
    id: String(r.id),
    searchId: String(r.search_id),
    number: Number(r.number),
    genome: r.genome as Genome,
    genomeKey: String(r.genome_key),
    searchParams: r.search_params as Params,
    status: r.status as TrialStatus,
    epochs: Number(r.epochs),
    imageSize: num(r.image_size),
    rung: Number(r.rung ?? 0),
    epochsDone: Number(r.epochs_done ?? 0),
    epochMetrics: (r.epoch_metrics ?? []) as EpochMetric[],
    map50: num(r.map50),
    map50_95: num(r.map50_95),
    fp32Map50_95: num(r.fp32_map50_95),
    latencyMs: num(r.latency_ms),
    latencyPerProfile: (r.latency_per_profile ?? {}) as Record<string, number>,
    measuredLatencyMs: num(r.measured_latency_ms),
    latencySource: str(r.latency_source) as LatencySource | null,
    latencyProvenance: str(r.latency_provenance),
    params: num(r.params),
    gflops: num(r.gflops),
    sizeBytes: num(r.size_bytes),
    objectiveValues: (r.objective_values ?? null) as number[] | null,
    constraintValues: (r.constraint_values ?? null) as number[] | null,
    violation: num(r.violation),
    backend: str(r.backend),
    evaluator: str(r.evaluator),
    notes: str(r.notes),
    workerId: str(r.worker_id),
    attempts: Number(r.attempts ?? 0),
    heartbeatAt: date(r.heartbeat_at),
    createdAt: date(r.created_at)!,
    startedAt: date(r.started_at),
    finishedAt: date(r.finished_at),
    error: str(r.error),
    onnxPath: str(r.onnx_path),
    modelKey: str(r.model_key),
    weightsKey: str(r.weights_key),
    onFront: r.on_front === true,
    estimateMap50: num(r.estimate_map50),
    estimateMap50_95: num(r.estimate_map50_95),
    finetunedMap50: num(r.finetuned_map50),
    finetunedMap50_95: num(r.finetuned_map50_95),
    finetunedMap50Std: num(r.finetuned_map50_std),
    finetunedMap50_95Std: num(r.finetuned_map50_95_std),
    finetuneEpochs: num(r.finetune_epochs),
    finetuneSeeds: num(r.finetune_seeds),
    feasible: feasibilityOf(r.status as TrialStatus, num(r.violation)),
    reused: r.reused === true,
    reusedFromTrialId: str(r.reused_from_trial_id),
  };
}

/** Whether a trial is within its constraints: known once it has results (completed or pruned). */
export function feasibilityOf(status: TrialStatus, violation: number | null): boolean | null {
  if (status !== 'completed' && status !== 'pruned') return null;
  return (violation ?? 0) <= 0;
}

/** jsonb parameters go over the wire as JSON text (node-postgres would turn arrays into PG arrays). */
export const json = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));
