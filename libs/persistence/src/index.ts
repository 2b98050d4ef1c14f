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
} from './trial-repository';
export {
  LEADERBOARD_FIELDS,
  encodeCursor,
  decodeCursor,
  resolveSort,
  type LeaderboardTrial,
  type CursorPosition,
} from './leaderboard';
export { DocumentRepository } from './document-repository';
export { WorkerRepository } from './worker-repository';
export { MeasurementRepository, measurementFromRow, type MeasurementOutcome } from './measurement-repository';
export {
  paretoFront,
  recomputeFront,
  nonDominated,
  dominates,
  OBJECTIVE_COLUMNS,
  type ObjectiveColumn,
} from './pareto';
export { seedTrials, type SeedTrialsOptions } from './seed';
export {
  ENTITIES,
  SearchEntity,
  TrialEntity,
  SearchTrialCountEntity,
  HardwareProfileEntity,
  PresetEntity,
  WorkerEntity,
  LatencyMeasurementEntity,
} from './entities';
export { MIGRATIONS } from '../../../migrations';
