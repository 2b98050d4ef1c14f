import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Distributed trials:
 *
 * - `workers`: every worker process registers itself and renews `heartbeat_at`; the search loop
 *   sizes how many trials it keeps queued from the live workers' slots, and operators can see who
 *   is connected. A worker that stops cleanly deletes its row; a dead one simply goes stale.
 * - `latency_measurements`: latency of a genome measured on a real device by a `--measure-only`
 *   worker (requested per hardware profile, one pg-boss job each), so a profile can be calibrated
 *   against the device it describes.
 */
export class WorkersAndMeasurements1764600000000 implements MigrationInterface {
  name = 'WorkersAndMeasurements1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE workers (
        id text PRIMARY KEY,
        host text NOT NULL,
        pid integer NOT NULL,
        kind text NOT NULL,
        profile text,
        concurrency integer NOT NULL,
        started_at timestamptz NOT NULL DEFAULT now(),
        heartbeat_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT workers_kind_check CHECK (kind IN ('trials', 'measure'))
      )`);
    await q.query(`CREATE INDEX workers_heartbeat_idx ON workers (heartbeat_at)`);

    await q.query(`
      CREATE TABLE latency_measurements (
        id uuid PRIMARY KEY,
        profile text NOT NULL,
        trial_id uuid,
        genome jsonb NOT NULL,
        genome_key text NOT NULL,
        status text NOT NULL,
        worker_id text,
        attempts integer NOT NULL DEFAULT 0,
        median_ms double precision,
        p90_ms double precision,
        runs integer,
        threads integer,
        onnx_bytes integer,
        error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz,
        CONSTRAINT latency_measurements_status_check CHECK (status IN ('queued', 'running', 'done', 'failed')),
        CONSTRAINT latency_measurements_trial_id_fkey FOREIGN KEY (trial_id) REFERENCES trials (id) ON DELETE CASCADE
      )`);
    await q.query(
      `CREATE INDEX latency_measurements_profile_status_idx ON latency_measurements (profile, status)`,
    );
    await q.query(`CREATE INDEX latency_measurements_trial_idx ON latency_measurements (trial_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE latency_measurements`);
    await q.query(`DROP TABLE workers`);
  }
}
