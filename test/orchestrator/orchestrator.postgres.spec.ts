import { describe, it } from 'vitest';
import { DATABASE_URL, dropSchema, uniqueSchema } from '../persistence/helpers';
import { orchestratorSuite } from './orchestrator-suite';

const url = DATABASE_URL;
if (url) {
  const schema = uniqueSchema('orch');
  orchestratorSuite(
    'Postgres',
    () => ({ databaseUrl: url, schema }),
    () => dropSchema(url, schema),
  );
} else {
  describe('SearchOrchestrator on Postgres', () => {
    it.skip('needs DATABASE_URL', () => {});
  });
}
