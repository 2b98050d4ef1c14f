export * from './types';
export {
  SearchOrchestrator,
  type OrchestratorOptions,
  type CloseOptions,
  type SearchEstimate,
  type TrialModelDownload,
  type SearchArtifactsView,
  type GcReport,
} from './orchestrator';
export * from './estimate';
export { storedThroughput, probeThroughput, measuredThroughput, recordTrialThroughput } from './throughput';
export {
  IMPORTANCE_OBJECTIVES,
  IMPORTANCE_METHOD,
  type ImportanceObjective,
  type HypervolumeView,
  type PlotTrialsView,
  type CurvesView,
} from './analysis';
export {
  launchRequestSchema,
  fidelitySchema,
  resolveLaunch,
  parseLaunchRequest,
  MAX_TRIALS,
  MAX_NAME_LENGTH,
  isStorableText,
  DEFAULT_EVALUATOR,
  DEFAULT_FINE_TUNE_TOP_K,
  DEFAULT_SUPERNET_ADAPT_STEPS,
  MAX_SUPERNET_ADAPT_STEPS,
  supernetAdaptSteps,
  DEFAULT_FIDELITY,
  DEFAULT_HARDWARE_PROFILE,
  type LaunchRequest,
  type LaunchDeps,
} from './launch';
export {
  SearchRunner,
  CANCELLED_REASON,
  progressOf,
  type TrialDispatcher,
  type RunnerDeps,
} from './search-runner';
export { SearchEventBus, searchEventStream } from './events';
export { rungEpochs, rungIndex, promotes, rungVector, type RungCompetitor } from './asha';
export { objectiveVector, constraintVector, type ObjectiveMetrics } from '@detsearch/domain';
export {
  EvaluatorRegistry,
  BUILT_IN_EVALUATORS,
  createEvaluatorRegistry,
  evaluatorInfos,
  registerEvaluator,
  fullEvaluatorUnavailable,
  type EvaluatorLoader,
} from './evaluators/registry';
export {
  FullEvaluator,
  fullTrainingKey,
  sharedSyntheticDataset,
  fullEvaluator,
  DEFAULT_SYNTHETIC,
  type FullEvaluatorOptions,
  type SyntheticDatasetOptions,
} from './evaluators/full';
export {
  SurrogateEvaluator,
  surrogateEvaluator,
  surrogateEstimate,
  map50From,
  SURROGATE_NOTE,
  type SurrogateEstimate,
  type SurrogateOptions,
} from './evaluators/surrogate';
export {
  TrialJobHandler,
  resultOf,
  type EventSink,
  type TrialJobDeps,
  type TrialJobContext,
  type TrialJobOutcome,
} from './trial-job';
export { type QueueMode } from './search-runner';
export { PgNotifier, channelFor, type QueueMessage } from './queue/notifier';
export {
  PgBossQueue,
  PgBossDispatcher,
  TRIAL_QUEUE,
  measurementQueue,
  type PgBossQueueOptions,
  type TrialJobData,
  type MeasurementJobData,
} from './queue/pg-boss-queue';
export {
  TrialReaper,
  DEFAULT_STALE_MS,
  DEFAULT_MAX_ATTEMPTS,
  type ReaperOptions,
  type ReapResult,
} from './queue/reaper';
export {
  QueueWorker,
  newWorkerId,
  DEFAULT_HEARTBEAT_MS,
  type QueueWorkerOptions,
  type WorkerStats,
} from './queue/worker';
export {
  requestMeasurements,
  trialsToMeasure,
  runMeasurement,
  type MeasureSettings,
} from './queue/measurements';
export {
  SupernetService,
  supernetRequestSchema,
  DEFAULT_SUPERNET_MINUTES,
  type SupernetRequest,
  type ResolvedSupernet,
  type SupernetServiceOptions,
} from './supernets/supernet-service';
export { toSupernetView, type SupernetView } from './supernets/view';
export { warmStart, warmStartKey, warmStartEnabled, type WarmStartDeps } from './warm-start';
export {
  datasetFingerprint,
  spaceFingerprint,
  syntheticFingerprint,
  canonicalJson,
} from './supernets/fingerprint';
export {
  SupernetEvaluator,
  supernetEvaluator,
  INHERITED_WEIGHTS,
  type SupernetEvaluatorOptions,
} from './evaluators/supernet';
export { runFinalStage, finalists, meanAndSpread, type FinalStageDeps } from './final-stage';
