import { afterAll, describe, expect, it } from 'vitest';
import { PgBossQueue } from '@detsearch/orchestrator';
import { createDataSource, MIGRATIONS, MIGRATIONS_TABLE, type Database } from '@detsearch/persistence';
import { DATABASE_URL, queueSchemas } from './helpers';

/** `docker compose up --scale worker=8` on a fresh database: every process migrates at once. */
if (!DATABASE_URL) {
  describe('processes starting together on a fresh database', () => {
    it.skip('needs DATABASE_URL (Postgres)', () => {});
  });
} else {
  const url = DATABASE_URL;
  describe('processes starting together on a fresh database', () => {
    const schemas = queueSchemas(url, 'start');
    const open: Database[] = [];
    afterAll(async () => {
      await Promise.allSettled(open.map((d) => d.close()));
      await schemas.drop();
    });

    it('migrate once, one at a time, and install the queue once', async () => {
      const dbs = await Promise.all(
        Array.from({ length: 4 }, () =>
          createDataSource({ databaseUrl: url, schema: schemas.schema, poolSize: 2 }),
        ),
      );
      open.push(...dbs);
      const applied = await dbs[0]!.query<{ name: string }>(
        `SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY id`,
      );
      expect(applied.map((m) => m.name)).toEqual(MIGRATIONS.map((m) => m.name));

      const queues = await Promise.all(
        dbs.slice(0, 3).map((db) => PgBossQueue.start(db, { schema: schemas.queueSchema, supervise: false })),
      );
      const [{ n }] = await dbs[0]!.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${schemas.queueSchema}".queue`,
      );
      expect(n).toBe(1);
      await Promise.all(queues.map((q) => q.stop()));
    });
  });
}
