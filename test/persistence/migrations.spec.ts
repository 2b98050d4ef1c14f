import { afterAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import {
  TrialRepository,
  TRIAL_SORT_KEYS,
  RANK_SORT,
  assertSchemaKnown,
  resolveSort,
  createDataSource,
  MIGRATIONS,
  MIGRATIONS_TABLE,
  type DataSourceOptions,
} from '@detsearch/persistence';
import { LEADERBOARD_SORT_INDEXES } from '../../migrations/1764700000000-LeaderboardSortIndexes';
import { DATABASE_URL, dropSchema, uniqueSchema } from './helpers';

type Db = Awaited<ReturnType<typeof createDataSource>>;

const sortIndexes = async (db: Db) =>
  (
    await db.query<{ indexname: string; indexdef: string }>(
      `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'trials' AND indexname = ANY($1::text[])
       AND schemaname = current_schema() ORDER BY indexname`,
      [LEADERBOARD_SORT_INDEXES.map((i) => i.name)],
    )
  ).map((r) => [r.indexname, r.indexdef.replace(/^.*\(search_id, /, '').replace(/\)$/, '')]);

/** The plan of a top leaderboard page with sorting disabled: a Sort node means no index gives the order. */
async function sortsWithoutIndex(db: Db, ranked = true): Promise<string[]> {
  const unserved: string[] = [];
  for (const sort of [...(ranked ? [RANK_SORT] : []), ...TRIAL_SORT_KEYS.flatMap((k) => [k, `-${k}`])]) {
    const plan = await db.transaction(async (tx) => {
      await tx.query('SET LOCAL enable_sort = off');
      const rows = await tx.query<Record<string, string>>(
        `EXPLAIN SELECT id FROM trials WHERE search_id = $1 AND status = ANY($2::text[])
           ORDER BY ${resolveSort(sort).orderBy} LIMIT 51`,
        [randomUUID(), ['completed']],
      );
      return rows.map((r) => Object.values(r)[0]).join('\n');
    });
    if (/(^|->\s+)(Incremental )?Sort\s+\(/m.test(plan)) unserved.push(`${sort}:\n${plan}`);
  }
  return unserved;
}

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

    it('indexes every leaderboard order, both directions (LeaderboardSortIndexes, up and down)', async () => {
      const db = await createDataSource(options());
      try {
        const want = LEADERBOARD_SORT_INDEXES.map((i) => [i.name, i.columns]).sort(([a], [b]) =>
          a!.localeCompare(b!),
        );
        expect(await sortIndexes(db)).toEqual(want);
        expect(await sortsWithoutIndex(db)).toEqual([]);

        // Undo down to (and including) LeaderboardSortIndexes, whatever came after it.
        const upTo = MIGRATIONS.findIndex((m) => m.name === 'LeaderboardSortIndexes1764700000000');
        for (let i = upTo; i < MIGRATIONS.length; i++)
          await db.dataSource.undoLastMigration({ transaction: 'each' });
        expect(await sortIndexes(db)).toEqual([]);
        // Without them the descending sorts of the ascending-only columns (and back) need a sort.
        const before = (await sortsWithoutIndex(db, false)).map((p) => p.split(':')[0]);
        expect(before).toEqual(
          expect.arrayContaining(['-latencyMs', '-params', 'map50_95', 'createdAt', '-finishedAt']),
        );
        expect(before).not.toContain('number');
        expect(before).not.toContain('-number');

        await db.dataSource.runMigrations({ transaction: 'each' });
        expect(await sortIndexes(db)).toEqual(want);
      } finally {
        await db.close();
      }
    });

    it('runs on open, downgrades and upgrades again, and refuses a schema newer than the code', async () => {
      const db = await createDataSource(options());
      const applied = await db.query<{ name: string }>(
        `SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY timestamp`,
      );
      expect(applied.map((m) => m.name)).toEqual(MIGRATIONS.map((m) => m.name));
      expect(await tables(db)).toEqual(['searches', 'trials']);
      // Profiles and presets live in files; the unused document tables are gone.
      const [gone] = await db.query<{ p: string | null; h: string | null }>(
        `SELECT to_regclass('presets')::text AS p, to_regclass('hardware_profiles')::text AS h`,
      );
      expect(gone).toEqual({ p: null, h: null });

      // Down to nothing and up again: every migration has a working down.
      for (let i = 0; i < MIGRATIONS.length; i++)
        await db.dataSource.undoLastMigration({ transaction: 'each' });
      expect(await tables(db)).toEqual([null, null]);
      await db.dataSource.runMigrations({ transaction: 'each' });
      expect(await tables(db)).toEqual(['searches', 'trials']);

      // Upgrade from the schema before counts and Pareto flags, with data in it: both are backfilled.
      for (let i = 1; i < MIGRATIONS.length; i++)
        await db.dataSource.undoLastMigration({ transaction: 'each' });
      const searchId = randomUUID();
      await db.query(
        `INSERT INTO searches (id, name, status, strategy, objectives, budget, seed, search_space, hardware_profile,
           fidelity, evaluator) VALUES ($1, 'old', 'completed', 'random', '["map50_95", "latency"]', '{"trials": 3}', 1,
           '{}', 'host', '{"epochs": 1}', 'surrogate')`,
        [searchId],
      );
      const ids = [randomUUID(), randomUUID(), randomUUID()];
      // (0.5, 10) and (0.3, 5) trade off; (0.2, 20) is dominated.
      for (const [i, [map, lat]] of [
        [0.5, 10],
        [0.3, 5],
        [0.2, 20],
      ].entries())
        await db.query(
          `INSERT INTO trials (id, search_id, number, genome, genome_key, search_params, status, epochs, map50_95,
             latency_ms) VALUES ($1, $2, $3, '{}', 'k', '{}', 'completed', 1, $4, $5)`,
          [ids[i], searchId, i, map, lat],
        );
      await db.dataSource.runMigrations({ transaction: 'each' });
      const trials = new TrialRepository(db);
      expect((await trials.counts(searchId)).completed).toBe(3);
      expect((await trials.pareto(searchId)).map((t) => t.id).sort()).toEqual([ids[0], ids[1]].sort());

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

const url = DATABASE_URL;
if (url) {
  const schema = uniqueSchema('mig');
  migrationSuite(
    'Postgres',
    () => ({ databaseUrl: url, schema }),
    () => dropSchema(url, schema),
    true,
  );
}
