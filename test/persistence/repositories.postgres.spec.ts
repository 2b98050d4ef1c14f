import { describe, it } from 'vitest';
import { createDataSource } from '@detsearch/persistence';
import { DATABASE_URL, dropSchema, uniqueSchema } from './helpers';
import { repositoryContract } from './repository-contract';

const url = DATABASE_URL;
if (url) {
  const schema = uniqueSchema('repo');
  repositoryContract(
    'Postgres',
    () => createDataSource({ databaseUrl: url, schema }),
    () => dropSchema(url, schema),
  );
} else {
  describe('repositories on Postgres', () => {
    it.skip('needs DATABASE_URL', () => {});
  });
}
