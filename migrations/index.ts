import { InitialSchema1764400000000 } from './1764400000000-InitialSchema';
import { ParetoFrontAndCounts1764500000000 } from './1764500000000-ParetoFrontAndCounts';
import { WorkersAndMeasurements1764600000000 } from './1764600000000-WorkersAndMeasurements';
import { LeaderboardSortIndexes1764700000000 } from './1764700000000-LeaderboardSortIndexes';
import { Supernets1764800000000 } from './1764800000000-Supernets';
import { DropDocumentTables1764830000000 } from './1764830000000-DropDocumentTables';
import { LatencyProvenance1764840000000 } from './1764840000000-LatencyProvenance';
import { LeaderboardRankTier1764860000000 } from './1764860000000-LeaderboardRankTier';
import { ArtifactStore1764900000000 } from './1764900000000-ArtifactStore';
import { WarmStart1764920000000 } from './1764920000000-WarmStart';

/** Every migration, oldest first. Listed explicitly (no glob) so bundles and tests load the same set. */
export const MIGRATIONS = [
  InitialSchema1764400000000,
  ParetoFrontAndCounts1764500000000,
  WorkersAndMeasurements1764600000000,
  LeaderboardSortIndexes1764700000000,
  Supernets1764800000000,
  DropDocumentTables1764830000000,
  LatencyProvenance1764840000000,
  LeaderboardRankTier1764860000000,
  ArtifactStore1764900000000,
  WarmStart1764920000000,
];
