import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Warm starts: a search copies earlier completed trials of the same genomes at the same training
 * fidelity (same warm-start key) as completed trials of its own, marked `reused`.
 *
 * - `searches.warm_start_key`: what a trial's accuracy depends on (evaluator, dataset fingerprint,
 *   epochs, training image size, supernet), set when the search starts; the index finds the
 *   earlier searches with the same key.
 * - `searches.reused_trials`: how many trials were copied in; they do not count against the budget.
 * - `trials.reused`, `trials.reused_from_trial_id`: the copy and its source (set NULL when the
 *   source's search is deleted; `reused` stays).
 */
export class WarmStart1764920000000 implements MigrationInterface {
  name = 'WarmStart1764920000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE searches ADD COLUMN warm_start_key text`);
    await q.query(`ALTER TABLE searches ADD COLUMN reused_trials integer NOT NULL DEFAULT 0`);
    await q.query(
      `CREATE INDEX searches_warm_start_key_idx ON searches (warm_start_key) WHERE warm_start_key IS NOT NULL`,
    );
    await q.query(`ALTER TABLE trials ADD COLUMN reused boolean NOT NULL DEFAULT false`);
    await q.query(
      `ALTER TABLE trials ADD COLUMN reused_from_trial_id uuid
         CONSTRAINT trials_reused_from_fkey REFERENCES trials (id) ON DELETE SET NULL`,
    );
    // The foreign key's ON DELETE action looks copies up by their source.
    await q.query(
      `CREATE INDEX trials_reused_from_idx ON trials (reused_from_trial_id) WHERE reused_from_trial_id IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX trials_reused_from_idx`);
    await q.query(`ALTER TABLE trials DROP COLUMN reused_from_trial_id`);
    await q.query(`ALTER TABLE trials DROP COLUMN reused`);
    await q.query(`DROP INDEX searches_warm_start_key_idx`);
    await q.query(`ALTER TABLE searches DROP COLUMN reused_trials`);
    await q.query(`ALTER TABLE searches DROP COLUMN warm_start_key`);
  }
}
