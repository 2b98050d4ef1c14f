import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Searches, trials, stored hardware profiles and presets.
 *
 * Indexes are chosen for the leaderboard (one search, optional status filter, ordered by one
 * metric, paginated) and the Pareto query (completed feasible trials of one search) at 100,000
 * trials per search: each sortable metric has a (search_id, metric, number) index in the
 * direction the leaderboard usually asks for, with `number` as the stable tie-breaker.
 */
export class InitialSchema1764400000000 implements MigrationInterface {
  name = 'InitialSchema1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE searches (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        status text NOT NULL,
        strategy text NOT NULL,
        objectives jsonb NOT NULL,
        constraints jsonb NOT NULL DEFAULT '{}',
        budget jsonb NOT NULL,
        seed integer NOT NULL,
        search_space jsonb NOT NULL,
        hardware_profile text NOT NULL,
        hardware_profile_spec jsonb,
        preset text,
        dataset text,
        fidelity jsonb NOT NULL,
        evaluator text NOT NULL,
        request jsonb NOT NULL DEFAULT '{}',
        best jsonb,
        error text,
        runner_id text,
        heartbeat_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT searches_status_check
          CHECK (status IN ('queued', 'running', 'completed', 'cancelled', 'failed'))
      )`);
    await q.query(`CREATE INDEX searches_created_at_idx ON searches (created_at)`);
    await q.query(`CREATE INDEX searches_status_idx ON searches (status)`);

    await q.query(`
      CREATE TABLE trials (
        id uuid PRIMARY KEY,
        search_id uuid NOT NULL,
        number integer NOT NULL,
        genome jsonb NOT NULL,
        genome_key text NOT NULL,
        search_params jsonb NOT NULL,
        status text NOT NULL,
        epochs integer NOT NULL,
        image_size integer,
        rung integer NOT NULL DEFAULT 0,
        epochs_done integer NOT NULL DEFAULT 0,
        epoch_metrics jsonb NOT NULL DEFAULT '[]',
        map50 double precision,
        map50_95 double precision,
        fp32_map50_95 double precision,
        latency_ms double precision,
        latency_per_profile jsonb NOT NULL DEFAULT '{}',
        measured_latency_ms double precision,
        params integer,
        gflops double precision,
        size_bytes integer,
        objective_values jsonb,
        constraint_values jsonb,
        violation double precision,
        backend text,
        evaluator text,
        notes text,
        worker_id text,
        attempts integer NOT NULL DEFAULT 0,
        heartbeat_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz,
        error text,
        onnx_path text,
        CONSTRAINT trials_status_check
          CHECK (status IN ('queued', 'running', 'completed', 'pruned', 'failed')),
        CONSTRAINT trials_search_number_key UNIQUE (search_id, number),
        CONSTRAINT trials_search_id_fkey FOREIGN KEY (search_id) REFERENCES searches (id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX trials_search_status_idx ON trials (search_id, status)`);
    await q.query(`CREATE INDEX trials_search_genome_key_idx ON trials (search_id, genome_key)`);
    await q.query(
      `CREATE INDEX trials_search_map50_95_idx ON trials (search_id, map50_95 DESC NULLS LAST, number)`,
    );
    await q.query(
      `CREATE INDEX trials_search_map50_idx ON trials (search_id, map50 DESC NULLS LAST, number)`,
    );
    await q.query(`CREATE INDEX trials_search_latency_idx ON trials (search_id, latency_ms, number)`);
    await q.query(`CREATE INDEX trials_search_params_idx ON trials (search_id, params, number)`);
    await q.query(`CREATE INDEX trials_search_gflops_idx ON trials (search_id, gflops, number)`);
    await q.query(`CREATE INDEX trials_search_size_idx ON trials (search_id, size_bytes, number)`);
    // Stale-heartbeat sweeps look only at running trials.
    await q.query(
      `CREATE INDEX trials_running_heartbeat_idx ON trials (heartbeat_at) WHERE status = 'running'`,
    );

    await q.query(`
      CREATE TABLE hardware_profiles (
        name text PRIMARY KEY,
        source text NOT NULL,
        document jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE presets (
        name text PRIMARY KEY,
        source text NOT NULL,
        document jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE presets`);
    await q.query(`DROP TABLE hardware_profiles`);
    await q.query(`DROP TABLE trials`);
    await q.query(`DROP TABLE searches`);
  }
}
