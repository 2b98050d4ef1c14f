import { describe, it } from 'vitest';
import { DATABASE_URL, dropSchema, uniqueSchema } from '../persistence/helpers';
import { warmStartSuite } from './warm-start.suite';

if (DATABASE_URL) {
  const schema = uniqueSchema('warm');
  warmStartSuite(
    'Postgres',
    () => ({ databaseUrl: DATABASE_URL!, schema }),
    () => dropSchema(DATABASE_URL!, schema),
  );
} else {
  describe('warm starts on Postgres', () => {
    it.skip('needs DATABASE_URL', () => {});
  });
}
