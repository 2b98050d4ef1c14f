import { createDataSource } from '@detsearch/persistence';
import { repositoryContract } from './repository-contract';

repositoryContract(
  'PGlite (in memory)',
  () => createDataSource({ inMemory: true }),
  async () => {},
);
