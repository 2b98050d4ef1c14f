/**
 * Every domain error code and the HTTP status it maps to: the one place adapters read statuses
 * from. A code missing from the table is bad input (400); the error-codes spec keeps the table
 * complete by scanning the sources for code literals.
 */
export const ERROR_CODES = {
  'BACKEND.UNAVAILABLE': 400,
  'BACKEND.UNKNOWN': 400,
  'CONFIG.INVALID': 400,
  'DATABASE.INVALID_SCHEMA': 400,
  'DATABASE.MIGRATIONS_PENDING': 400,
  'DATABASE.SCHEMA_TOO_NEW': 400,
  'DATABASE.UNAVAILABLE': 503,
  'DATASET.INVALID_YAML': 400,
  'DATASET.NOT_FOUND': 404,
  'DATASET.OUTSIDE_ROOT': 400,
  'DATASET.OUT_NOT_EMPTY': 400,
  'DATASET.ROOT_NOT_FOUND': 404,
  'EVAL.BAD_OUTPUT': 400,
  'EVAL.INVALID_PREDICTIONS': 400,
  'EVAL.LABELS_NOT_FOUND': 404,
  'EVALUATOR.UNAVAILABLE': 400,
  'EVALUATOR.UNKNOWN': 400,
  'GENOME.INVALID': 400,
  'GENOME.UNKNOWN_MODEL': 400,
  'LATENCY.INVALID_PREDICTION': 400,
  'LATENCY.INVALID_SAMPLE': 400,
  'LATENCY.NO_SAMPLES': 400,
  'LATENCY.UNSUPPORTED_PRECISION': 400,
  'MEASUREMENT.NOTHING_TO_MEASURE': 400,
  'MODEL.NOT_FOUND': 404,
  'ORCHESTRATOR.DISTRIBUTED_NEEDS_POSTGRES': 400,
  'ORCHESTRATOR.UNAVAILABLE': 503,
  'PRESET.INVALID': 400,
  'PRESET.NOT_FOUND': 404,
  'PRESET.UNKNOWN': 400,
  'PROFILE.INVALID': 400,
  'PROFILE.UNKNOWN': 400,
  'SEARCH.CONFLICT_STATE': 409,
  'SEARCH.INVALID': 400,
  'SEARCH.INVALID_DATASET': 400,
  'SEARCH.INVALID_STATE': 409,
  'SEARCH.NOT_FOUND': 404,
  'SEARCH.UNKNOWN_PRESET': 400,
  'SEARCH.UNKNOWN_STRATEGY': 400,
  'SEARCH_SPACE.INVALID': 400,
  'SEARCH_SPACE.INVALID_YAML': 400,
  'SEARCH_SPACE.MISSING_PARAM': 400,
  'TRIAL.FAILED': 400,
  'TRIAL.NOT_FOUND': 404,
  'TRIALS.INVALID_CURSOR': 400,
  'TRIALS.INVALID_PAGINATION': 400,
  'TRIALS.INVALID_SORT': 400,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.prototype.hasOwnProperty.call(ERROR_CODES, code);
}

/** The HTTP status of a domain error code; unknown codes are the caller's bad input. */
export function httpStatusFor(code: string): number {
  return isErrorCode(code) ? ERROR_CODES[code] : 400;
}
