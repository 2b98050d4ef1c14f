export * from './types';
export { SearchOrchestrator, type OrchestratorOptions, type CloseOptions } from './orchestrator';
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
  MAX_TRIALS,
  DEFAULT_EVALUATOR,
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
export { objectiveVector, constraintVector, type ObjectiveInputs } from './objectives';
export {
  EvaluatorRegistry,
  createEvaluatorRegistry,
  registerEvaluator,
  fullEvaluatorUnavailable,
  type EvaluatorLoader,
} from './evaluators/registry';
export {
  FullEvaluator,
  DEFAULT_SYNTHETIC,
  type FullEvaluatorOptions,
  type SyntheticDatasetOptions,
} from './evaluators/full';
export {
  SurrogateEvaluator,
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
