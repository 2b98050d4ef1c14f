import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, Unique } from 'typeorm';

// The schema as TypeORM metadata. The migrations in /migrations are the source of truth for the
// database; a test checks that these entities and the migrated schema agree (no pending diff).

@Entity({ name: 'searches' })
@Check('searches_status_check', `status IN ('queued', 'running', 'completed', 'cancelled', 'failed')`)
@Index('searches_created_at_idx', ['createdAt'])
@Index('searches_status_idx', ['status'])
export class SearchEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text' })
  status!: string;

  @Column({ type: 'text' })
  strategy!: string;

  @Column({ type: 'jsonb' })
  objectives!: unknown;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  constraints!: unknown;

  @Column({ type: 'jsonb' })
  budget!: unknown;

  @Column({ type: 'integer' })
  seed!: number;

  @Column({ name: 'search_space', type: 'jsonb' })
  searchSpace!: unknown;

  @Column({ name: 'hardware_profile', type: 'text' })
  hardwareProfile!: string;

  @Column({ name: 'hardware_profile_spec', type: 'jsonb', nullable: true })
  hardwareProfileSpec!: unknown;

  @Column({ type: 'text', nullable: true })
  preset!: string | null;

  @Column({ type: 'text', nullable: true })
  dataset!: string | null;

  @Column({ type: 'jsonb' })
  fidelity!: unknown;

  @Column({ type: 'text' })
  evaluator!: string;

  @Column({ name: 'supernet_id', type: 'uuid', nullable: true })
  supernetId!: string | null;

  @Column({ name: 'fine_tune', type: 'jsonb', nullable: true })
  fineTune!: unknown;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  request!: unknown;

  @Column({ type: 'jsonb', nullable: true })
  best!: unknown;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ name: 'runner_id', type: 'text', nullable: true })
  runnerId!: string | null;

  @Column({ name: 'heartbeat_at', type: 'timestamptz', nullable: true })
  heartbeatAt!: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}

@Entity({ name: 'trials' })
@Check('trials_status_check', `status IN ('queued', 'running', 'completed', 'pruned', 'failed')`)
@Check('trials_latency_source_check', `latency_source IS NULL OR latency_source IN ('measured', 'predicted')`)
@Unique('trials_search_number_key', ['searchId', 'number'])
@Index('trials_search_status_idx', ['searchId', 'status'])
@Index('trials_search_genome_key_idx', ['searchId', 'genomeKey'])
// Leaderboard orders. DESC NULLS LAST and partial indexes are written in the migration only;
// `synchronize: false` tells TypeORM they exist and are not its to manage.
@Index('trials_search_map50_95_idx', { synchronize: false })
@Index('trials_search_map50_idx', { synchronize: false })
@Index('trials_running_heartbeat_idx', { synchronize: false })
@Index('trials_search_front_idx', { synchronize: false })
@Index('trials_search_latency_idx', ['searchId', 'latencyMs', 'number'])
@Index('trials_search_params_idx', ['searchId', 'params', 'number'])
@Index('trials_search_gflops_idx', ['searchId', 'gflops', 'number'])
@Index('trials_search_size_idx', ['searchId', 'sizeBytes', 'number'])
// The other direction of each leaderboard sort (migration LeaderboardSortIndexes).
@Index('trials_search_map50_95_asc_idx', ['searchId', 'map50_95', 'number'])
@Index('trials_search_map50_asc_idx', ['searchId', 'map50', 'number'])
@Index('trials_search_created_idx', ['searchId', 'createdAt', 'number'])
@Index('trials_search_finished_idx', ['searchId', 'finishedAt', 'number'])
@Index('trials_search_latency_desc_idx', { synchronize: false })
@Index('trials_search_params_desc_idx', { synchronize: false })
@Index('trials_search_gflops_desc_idx', { synchronize: false })
@Index('trials_search_size_desc_idx', { synchronize: false })
@Index('trials_search_created_desc_idx', { synchronize: false })
@Index('trials_search_finished_desc_idx', { synchronize: false })
export class TrialEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'search_id', type: 'uuid' })
  searchId!: string;

  @ManyToOne(() => SearchEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'search_id', foreignKeyConstraintName: 'trials_search_id_fkey' })
  search?: SearchEntity;

  @Column({ type: 'integer' })
  number!: number;

  @Column({ type: 'jsonb' })
  genome!: unknown;

  @Column({ name: 'genome_key', type: 'text' })
  genomeKey!: string;

  @Column({ name: 'search_params', type: 'jsonb' })
  searchParams!: unknown;

  @Column({ type: 'text' })
  status!: string;

  @Column({ type: 'integer' })
  epochs!: number;

  @Column({ name: 'image_size', type: 'integer', nullable: true })
  imageSize!: number | null;

  @Column({ type: 'integer', default: 0 })
  rung!: number;

  @Column({ name: 'epochs_done', type: 'integer', default: 0 })
  epochsDone!: number;

  @Column({ name: 'epoch_metrics', type: 'jsonb', default: () => "'[]'" })
  epochMetrics!: unknown;

  @Column({ type: 'double precision', nullable: true })
  map50!: number | null;

  @Column({ name: 'map50_95', type: 'double precision', nullable: true })
  map50_95!: number | null;

  @Column({ name: 'fp32_map50_95', type: 'double precision', nullable: true })
  fp32Map50_95!: number | null;

  @Column({ name: 'latency_ms', type: 'double precision', nullable: true })
  latencyMs!: number | null;

  @Column({ name: 'latency_per_profile', type: 'jsonb', default: () => "'{}'" })
  latencyPerProfile!: unknown;

  @Column({ name: 'measured_latency_ms', type: 'double precision', nullable: true })
  measuredLatencyMs!: number | null;

  @Column({ name: 'latency_source', type: 'text', nullable: true })
  latencySource!: string | null;

  @Column({ name: 'latency_provenance', type: 'text', nullable: true })
  latencyProvenance!: string | null;

  @Column({ type: 'integer', nullable: true })
  params!: number | null;

  @Column({ type: 'double precision', nullable: true })
  gflops!: number | null;

  @Column({ name: 'size_bytes', type: 'integer', nullable: true })
  sizeBytes!: number | null;

  @Column({ name: 'objective_values', type: 'jsonb', nullable: true })
  objectiveValues!: unknown;

  @Column({ name: 'constraint_values', type: 'jsonb', nullable: true })
  constraintValues!: unknown;

  @Column({ type: 'double precision', nullable: true })
  violation!: number | null;

  @Column({ type: 'text', nullable: true })
  backend!: string | null;

  @Column({ type: 'text', nullable: true })
  evaluator!: string | null;

  @Column({ type: 'text', nullable: true })
  notes!: string | null;

  @Column({ name: 'worker_id', type: 'text', nullable: true })
  workerId!: string | null;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'heartbeat_at', type: 'timestamptz', nullable: true })
  heartbeatAt!: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ name: 'onnx_path', type: 'text', nullable: true })
  onnxPath!: string | null;

  @Column({ name: 'on_front', type: 'boolean', default: false })
  onFront!: boolean;

  @Column({ name: 'estimate_map50', type: 'double precision', nullable: true })
  estimateMap50!: number | null;

  @Column({ name: 'estimate_map50_95', type: 'double precision', nullable: true })
  estimateMap50_95!: number | null;

  @Column({ name: 'finetuned_map50', type: 'double precision', nullable: true })
  finetunedMap50!: number | null;

  @Column({ name: 'finetuned_map50_95', type: 'double precision', nullable: true })
  finetunedMap50_95!: number | null;

  @Column({ name: 'finetuned_map50_std', type: 'double precision', nullable: true })
  finetunedMap50Std!: number | null;

  @Column({ name: 'finetuned_map50_95_std', type: 'double precision', nullable: true })
  finetunedMap50_95Std!: number | null;

  @Column({ name: 'finetune_epochs', type: 'integer', nullable: true })
  finetuneEpochs!: number | null;

  @Column({ name: 'finetune_seeds', type: 'integer', nullable: true })
  finetuneSeeds!: number | null;
}

/** Trials per (search, status), maintained by triggers on trials (see the migrations). */
@Entity({ name: 'search_trial_counts' })
export class SearchTrialCountEntity {
  @PrimaryColumn({ name: 'search_id', type: 'uuid', primaryKeyConstraintName: 'search_trial_counts_pkey' })
  searchId!: string;

  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'search_trial_counts_pkey' })
  status!: string;

  @ManyToOne(() => SearchEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'search_id', foreignKeyConstraintName: 'search_trial_counts_search_id_fkey' })
  search?: SearchEntity;

  @Column({ type: 'integer', default: 0 })
  n!: number;
}

@Entity({ name: 'hardware_profiles' })
export class HardwareProfileEntity {
  @PrimaryColumn({ type: 'text' })
  name!: string;

  @Column({ type: 'text' })
  source!: string;

  @Column({ type: 'jsonb' })
  document!: unknown;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}

@Entity({ name: 'presets' })
export class PresetEntity {
  @PrimaryColumn({ type: 'text' })
  name!: string;

  @Column({ type: 'text' })
  source!: string;

  @Column({ type: 'jsonb' })
  document!: unknown;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}

/** Worker processes and their last sign of life (distributed trials, device measurement). */
@Entity({ name: 'workers' })
@Check('workers_kind_check', `kind IN ('trials', 'measure')`)
@Index('workers_heartbeat_idx', ['heartbeatAt'])
export class WorkerEntity {
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ type: 'text' })
  host!: string;

  @Column({ type: 'integer' })
  pid!: number;

  @Column({ type: 'text' })
  kind!: string;

  @Column({ type: 'text', nullable: true })
  profile!: string | null;

  @Column({ type: 'integer' })
  concurrency!: number;

  @Column({ name: 'started_at', type: 'timestamptz', default: () => 'now()' })
  startedAt!: Date;

  @Column({ name: 'heartbeat_at', type: 'timestamptz', default: () => 'now()' })
  heartbeatAt!: Date;
}

/** A genome's latency measured on a device for one hardware profile (see the migration). */
@Entity({ name: 'latency_measurements' })
@Check('latency_measurements_status_check', `status IN ('queued', 'running', 'done', 'failed')`)
@Index('latency_measurements_profile_status_idx', ['profile', 'status'])
@Index('latency_measurements_trial_idx', ['trialId'])
export class LatencyMeasurementEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'text' })
  profile!: string;

  @Column({ name: 'trial_id', type: 'uuid', nullable: true })
  trialId!: string | null;

  @ManyToOne(() => TrialEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'trial_id', foreignKeyConstraintName: 'latency_measurements_trial_id_fkey' })
  trial?: TrialEntity;

  @Column({ type: 'jsonb' })
  genome!: unknown;

  @Column({ name: 'genome_key', type: 'text' })
  genomeKey!: string;

  @Column({ type: 'text' })
  status!: string;

  @Column({ name: 'worker_id', type: 'text', nullable: true })
  workerId!: string | null;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'median_ms', type: 'double precision', nullable: true })
  medianMs!: number | null;

  @Column({ name: 'p90_ms', type: 'double precision', nullable: true })
  p90Ms!: number | null;

  @Column({ type: 'integer', nullable: true })
  runs!: number | null;

  @Column({ type: 'integer', nullable: true })
  threads!: number | null;

  @Column({ name: 'onnx_bytes', type: 'integer', nullable: true })
  onnxBytes!: number | null;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}

@Entity({ name: 'supernets' })
@Check('supernets_status_check', `status IN ('training', 'ready', 'failed', 'cancelled')`)
@Index('supernets_match_idx', ['datasetFingerprint', 'spaceFingerprint', 'activation', 'status'])
@Index('supernets_created_at_idx', ['createdAt'])
export class SupernetEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'text' })
  status!: string;

  @Column({ type: 'text' })
  activation!: string;

  @Column({ name: 'dataset_fingerprint', type: 'text' })
  datasetFingerprint!: string;

  @Column({ name: 'space_fingerprint', type: 'text' })
  spaceFingerprint!: string;

  @Column({ type: 'text', nullable: true })
  dataset!: string | null;

  @Column({ name: 'search_space', type: 'jsonb' })
  searchSpace!: unknown;

  @Column({ name: 'image_sizes', type: 'jsonb', default: () => "'[]'" })
  imageSizes!: unknown;

  @Column({ name: 'budget_minutes', type: 'double precision', nullable: true })
  budgetMinutes!: number | null;

  /** Epochs trained, fractional: a time budget may end one mid-way. */
  @Column({ type: 'double precision', default: 0 })
  epochs!: number;

  @Column({ type: 'double precision', default: 0 })
  minutes!: number;

  @Column({ type: 'jsonb', nullable: true })
  progress!: unknown;

  @Column({ type: 'jsonb', nullable: true })
  metrics!: unknown;

  @Column({ name: 'size_bytes', type: 'bigint', nullable: true })
  sizeBytes!: string | null;

  @Column({ name: 'artifact_path', type: 'text', nullable: true })
  artifactPath!: string | null;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ name: 'runner_id', type: 'text', nullable: true })
  runnerId!: string | null;

  @Column({ name: 'heartbeat_at', type: 'timestamptz', nullable: true })
  heartbeatAt!: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}

export const ENTITIES = [
  SearchEntity,
  TrialEntity,
  SearchTrialCountEntity,
  HardwareProfileEntity,
  PresetEntity,
  WorkerEntity,
  LatencyMeasurementEntity,
  SupernetEntity,
];
