import { InitialSchema1764400000000 } from './1764400000000-InitialSchema';
import { ParetoFrontAndCounts1764500000000 } from './1764500000000-ParetoFrontAndCounts';
import { WorkersAndMeasurements1764600000000 } from './1764600000000-WorkersAndMeasurements';
import { LeaderboardSortIndexes1764700000000 } from './1764700000000-LeaderboardSortIndexes';
import { DropDocumentTables1764830000000 } from './1764830000000-DropDocumentTables';

/** Every migration, oldest first. Listed explicitly (no glob) so bundles and tests load the same set. */
export const MIGRATIONS = [
  InitialSchema1764400000000,
  ParetoFrontAndCounts1764500000000,
  WorkersAndMeasurements1764600000000,
  LeaderboardSortIndexes1764700000000,
  DropDocumentTables1764830000000,
];
