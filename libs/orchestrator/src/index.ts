export * from './types';
export { SearchOrchestrator, type OrchestratorOptions, type CloseOptions } from './orchestrator';
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
  SurrogateEvaluator,
  surrogateEstimate,
  map50From,
  SURROGATE_NOTE,
  type SurrogateEstimate,
  type SurrogateOptions,
} from './evaluators/surrogate';
