import { describe, it } from 'vitest';
import { DATABASE_URL, dropSchema, uniqueSchema } from '../persistence/helpers';
import { orchestratorSuite } from './orchestrator-suite';

if (DATABASE_URL) {
  const schema = uniqueSchema('orch');
  orchestratorSuite(
    'Postgres',
    () => ({ databaseUrl: DATABASE_URL, schema }),
    () => dropSchema(DATABASE_URL, schema),
  );
} else {
  describe('SearchOrchestrator on Postgres', () => {
    it.skip('needs DATABASE_URL', () => {});
  });
}
