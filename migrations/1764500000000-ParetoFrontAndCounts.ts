import type { MigrationInterface, QueryRunner } from 'typeorm';
import { nonDominated } from '../libs/persistence/src/pareto';

const OBJECTIVE_COLUMNS: Record<string, { column: string; maximize: boolean }> = {
  map50_95: { column: 'map50_95', maximize: true },
  latency: { column: 'latency_ms', maximize: false },
  size: { column: 'size_bytes', maximize: false },
};

/**
 * Makes the leaderboard's total and the Pareto export independent of the number of trials:
 *
 * - `search_trial_counts`: trials per (search, status), kept by statement-level triggers with
 *   transition tables (a 100,000-row INSERT updates it once, not 100,000 times). Rows are
 *   upserted in status order so concurrent transactions lock them in the same order.
 * - `trials.on_front`: whether the trial is on its search's Pareto front (feasible, completed,
 *   non-dominated over the search's objectives). Maintained when a trial completes
 *   (TrialRepository.finish, under a lock on the search row); a partial index finds the front.
 */
export class ParetoFrontAndCounts1764500000000 implements MigrationInterface {
  name = 'ParetoFrontAndCounts1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE search_trial_counts (
        search_id uuid NOT NULL,
        status text NOT NULL,
        n integer NOT NULL DEFAULT 0,
        CONSTRAINT search_trial_counts_pkey PRIMARY KEY (search_id, status),
        CONSTRAINT search_trial_counts_search_id_fkey FOREIGN KEY (search_id) REFERENCES searches (id) ON DELETE CASCADE
      )`);
    await q.query(`
      CREATE FUNCTION detsearch_count_trials() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO search_trial_counts (search_id, status, n)
            SELECT search_id, status, count(*) FROM new_rows GROUP BY search_id, status ORDER BY search_id, status
            ON CONFLICT (search_id, status) DO UPDATE SET n = search_trial_counts.n + EXCLUDED.n;
        ELSIF TG_OP = 'DELETE' THEN
          -- A deleted search cascades to its trials; its counts go with it.
          UPDATE search_trial_counts c SET n = c.n - d.k
            FROM (SELECT search_id, status, count(*) AS k FROM old_rows GROUP BY search_id, status) d
            WHERE c.search_id = d.search_id AND c.status = d.status;
        ELSE
          INSERT INTO search_trial_counts (search_id, status, n)
            SELECT search_id, status, sum(k) FROM (
              SELECT search_id, status, 1 AS k FROM new_rows
              UNION ALL SELECT search_id, status, -1 AS k FROM old_rows) x
            GROUP BY search_id, status HAVING sum(k) <> 0 ORDER BY search_id, status
            ON CONFLICT (search_id, status) DO UPDATE SET n = search_trial_counts.n + EXCLUDED.n;
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER trials_count_insert AFTER INSERT ON trials REFERENCING NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION detsearch_count_trials()`);
    await q.query(`CREATE TRIGGER trials_count_update AFTER UPDATE ON trials
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION detsearch_count_trials()`);
    await q.query(`CREATE TRIGGER trials_count_delete AFTER DELETE ON trials REFERENCING OLD TABLE AS old_rows
      FOR EACH STATEMENT EXECUTE FUNCTION detsearch_count_trials()`);
    await q.query(`INSERT INTO search_trial_counts (search_id, status, n)
      SELECT search_id, status, count(*) FROM trials GROUP BY search_id, status`);

    await q.query(`ALTER TABLE trials ADD COLUMN on_front boolean NOT NULL DEFAULT false`);
    await q.query(`CREATE INDEX trials_search_front_idx ON trials (search_id) WHERE on_front`);
    // Backfill the fronts of existing searches.
    const searches: { id: string; objectives: string[] }[] = await q.query(
      `SELECT id, objectives FROM searches`,
    );
    for (const s of searches) {
      const cols = s.objectives.map((o) => OBJECTIVE_COLUMNS[o]!);
      const rows: Record<string, unknown>[] = await q.query(
        `SELECT id, ${cols.map((c, i) => `${c.maximize ? '-' : ''}${c.column}::float8 AS f${i}`).join(', ')}
         FROM trials WHERE search_id = $1 AND status = 'completed' AND coalesce(violation, 0) <= 0
           AND ${cols.map((c) => `${c.column} IS NOT NULL`).join(' AND ')}`,
        [s.id],
      );
      const front = nonDominated(rows.map((r) => cols.map((_, i) => Number(r[`f${i}`]))));
      if (front.length > 0)
        await q.query(`UPDATE trials SET on_front = true WHERE id = ANY($1::uuid[])`, [
          front.map((i) => rows[i]!.id),
        ]);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX trials_search_front_idx`);
    await q.query(`ALTER TABLE trials DROP COLUMN on_front`);
    await q.query(`DROP TRIGGER trials_count_delete ON trials`);
    await q.query(`DROP TRIGGER trials_count_update ON trials`);
    await q.query(`DROP TRIGGER trials_count_insert ON trials`);
    await q.query(`DROP FUNCTION detsearch_count_trials()`);
    await q.query(`DROP TABLE search_trial_counts`);
  }
}
