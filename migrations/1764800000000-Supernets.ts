import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Weight-sharing supernets as first-class rows, and the two-stage results they lead to:
 *
 * - `supernets`: one trained supernet per (dataset fingerprint, search-space fingerprint,
 *   activation); its artifacts live under DETSEARCH_HOME (`artifact_path` is relative to it).
 *   `runner_id`/`heartbeat_at` say which process trains it, so a dead one's run can be taken over.
 * - `searches.supernet_id`: the supernet a search scores with; `searches.fine_tune`: its final
 *   stage (top K of the front fine-tuned for E epochs, over 1 or 2 seeds).
 * - `trials.estimate_*` / `trials.finetuned_*`: the supernet's estimate beside the fine-tuned
 *   mAP (mean over seeds, and their standard deviation when more than one).
 */
export class Supernets1764800000000 implements MigrationInterface {
  name = 'Supernets1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE supernets (
        id uuid PRIMARY KEY,
        status text NOT NULL,
        activation text NOT NULL,
        dataset_fingerprint text NOT NULL,
        space_fingerprint text NOT NULL,
        dataset text,
        search_space jsonb NOT NULL,
        image_sizes jsonb NOT NULL DEFAULT '[]',
        budget_minutes double precision,
        epochs double precision NOT NULL DEFAULT 0,
        minutes double precision NOT NULL DEFAULT 0,
        progress jsonb,
        metrics jsonb,
        size_bytes bigint,
        artifact_path text,
        error text,
        runner_id text,
        heartbeat_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        CONSTRAINT supernets_status_check CHECK (status IN ('training', 'ready', 'failed', 'cancelled'))
      )`);
    await q.query(
      `CREATE INDEX supernets_match_idx ON supernets (dataset_fingerprint, space_fingerprint, activation, status)`,
    );
    await q.query(`CREATE INDEX supernets_created_at_idx ON supernets (created_at)`);

    await q.query(`ALTER TABLE searches ADD COLUMN supernet_id uuid`);
    await q.query(`ALTER TABLE searches ADD COLUMN fine_tune jsonb`);

    await q.query(`ALTER TABLE trials ADD COLUMN estimate_map50 double precision`);
    await q.query(`ALTER TABLE trials ADD COLUMN estimate_map50_95 double precision`);
    await q.query(`ALTER TABLE trials ADD COLUMN finetuned_map50 double precision`);
    await q.query(`ALTER TABLE trials ADD COLUMN finetuned_map50_95 double precision`);
    await q.query(`ALTER TABLE trials ADD COLUMN finetuned_map50_std double precision`);
    await q.query(`ALTER TABLE trials ADD COLUMN finetuned_map50_95_std double precision`);
    await q.query(`ALTER TABLE trials ADD COLUMN finetune_epochs integer`);
    await q.query(`ALTER TABLE trials ADD COLUMN finetune_seeds integer`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const c of [
      'finetune_seeds',
      'finetune_epochs',
      'finetuned_map50_95_std',
      'finetuned_map50_std',
      'finetuned_map50_95',
      'finetuned_map50',
      'estimate_map50_95',
      'estimate_map50',
    ])
      await q.query(`ALTER TABLE trials DROP COLUMN ${c}`);
    await q.query(`ALTER TABLE searches DROP COLUMN fine_tune`);
    await q.query(`ALTER TABLE searches DROP COLUMN supernet_id`);
    await q.query(`DROP TABLE supernets`);
  }
}
