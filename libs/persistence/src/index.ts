export * from './types';
export {
  createDataSource,
  assertSchemaKnown,
  isTransientDbError,
  isConnectionError,
  Database,
  MIGRATIONS_TABLE,
  type DataSourceOptions,
  type DatabaseKind,
  type Sql,
  type Tx,
} from './data-source';
export {
  acquireHomeLock,
  readHomeLock,
  updateHomeLock,
  lockedError,
  lockPath,
  type HomeLockInfo,
} from './home-lock';
export { asBackgroundWork, isBackgroundWork } from './db-priority';
export { SearchRepository, isUuid, type ListSearchesQuery } from './search-repository';
export {
  TrialRepository,
  violationOf,
  type TrialLease,
  type TrialHistoryRow,
  type RungEntry,
  type ObjectiveHistoryRow,
  type PlotTrial,
  type TrialCurve,
  type WarmStartSource,
  type ReusedTrial,
  PLOT_FIELDS,
} from './trial-repository';
export { feasibilityOf } from './rows';
export {
  LEADERBOARD_FIELDS,
  encodeCursor,
  decodeCursor,
  resolveSort,
  RANK_TIERS,
  type LeaderboardTrial,
  type CursorPosition,
} from './leaderboard';
export { SupernetRepository, type SupernetMatch, type SupernetOutcome } from './supernet-repository';
export { WorkerRepository } from './worker-repository';
export { MeasurementRepository, measurementFromRow, type MeasurementOutcome } from './measurement-repository';
export { paretoFront, recomputeFront, nonDominated, OBJECTIVE_COLUMNS } from './pareto';
export { seedTrials, type SeedTrialsOptions } from './seed';
export { MIGRATIONS } from '../../../migrations';
