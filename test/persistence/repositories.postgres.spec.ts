import { describe, it } from 'vitest';
import { createDataSource } from '@detsearch/persistence';
import { DATABASE_URL, dropSchema, uniqueSchema } from './helpers';
import { repositoryContract } from './repository-contract';

if (DATABASE_URL) {
  const schema = uniqueSchema('repo');
  repositoryContract(
    'Postgres',
    () => createDataSource({ databaseUrl: DATABASE_URL, schema }),
    () => dropSchema(DATABASE_URL, schema),
  );
} else {
  describe('repositories on Postgres', () => {
    it.skip('needs DATABASE_URL', () => {});
  });
}
