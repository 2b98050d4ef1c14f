import { afterAll, describe, expect, it } from 'vitest';
import {
  assertSchemaKnown,
  createDataSource,
  MIGRATIONS,
  MIGRATIONS_TABLE,
  type DataSourceOptions,
} from '@detsearch/persistence';
import { DATABASE_URL, dropSchema, uniqueSchema } from './helpers';

const tables = async (db: Awaited<ReturnType<typeof createDataSource>>) =>
  (
    await db.query<{ t: string | null }>(
      `SELECT to_regclass('searches')::text AS t UNION ALL SELECT to_regclass('trials')::text`,
    )
  ).map((r) => r.t);

/**
 * `reopen`: check the refusal through a real start-up (Postgres); else through the same guard on
 * the open database (PGlite in memory, which cannot be reopened; start-ups of a PGlite data
 * directory are covered by the orchestrator's crash-and-resume test).
 */
function migrationSuite(
  kind: string,
  options: () => DataSourceOptions,
  cleanup: () => Promise<void>,
  reopen: boolean,
) {
  describe(`migrations on ${kind}`, () => {
    afterAll(cleanup);

    it('runs on open, downgrades and upgrades again, and refuses a schema newer than the code', async () => {
      const db = await createDataSource(options());
      const applied = await db.query<{ name: string }>(
        `SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY timestamp`,
      );
      expect(applied.map((m) => m.name)).toEqual(MIGRATIONS.map((m) => m.name));
      expect(await tables(db)).toEqual(['searches', 'trials']);

      // Down to the previous schema (none: the first migration) and up again.
      await db.dataSource.undoLastMigration({ transaction: 'each' });
      expect(await tables(db)).toEqual([null, null]);
      await db.dataSource.runMigrations({ transaction: 'each' });
      expect(await tables(db)).toEqual(['searches', 'trials']);

      // A newer detsearch recorded a migration this code does not know.
      await db.query(`INSERT INTO ${MIGRATIONS_TABLE} (timestamp, name) VALUES ($1, $2)`, [
        9999999999999,
        'FutureChange9999999999999',
      ]);
      const refusal = {
        code: 'DATABASE.SCHEMA_TOO_NEW',
        message: expect.stringContaining('FutureChange9999999999999'),
      };
      if (reopen) {
        await db.close();
        await expect(createDataSource(options())).rejects.toMatchObject(refusal);
      } else {
        await expect(assertSchemaKnown(db)).rejects.toMatchObject(refusal);
        await db.close();
      }
    });
  });
}

migrationSuite(
  'PGlite',
  () => ({ inMemory: true }),
  async () => {},
  false,
);

if (DATABASE_URL) {
  const schema = uniqueSchema('mig');
  migrationSuite(
    'Postgres',
    () => ({ databaseUrl: DATABASE_URL, schema }),
    () => dropSchema(DATABASE_URL, schema),
    true,
  );
}
