import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Artifacts that every machine reaches. `artifact_objects` / `artifact_chunks` are the postgres
 * artifact store: an object row is written uncommitted, its bytes as 1 MiB chunk rows, then it is
 * flipped to committed in one transaction; only committed rows are ever read, and at most one per
 * key. Trials and supernets name their artifacts by store key (`model_key`, `weights_key`,
 * `artifact_key`); `onnx_path` and `artifact_path` stay for rows written before, served from the
 * disk while their files exist.
 */
export class ArtifactStore1764900000000 implements MigrationInterface {
  name = 'ArtifactStore1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE artifact_objects (
        id uuid PRIMARY KEY,
        key text NOT NULL,
        committed boolean NOT NULL DEFAULT false,
        size bigint NOT NULL DEFAULT 0,
        sha256 text,
        created_at timestamptz NOT NULL DEFAULT now(),
        committed_at timestamptz
      )`);
    await q.query(
      `CREATE UNIQUE INDEX artifact_objects_key_idx ON artifact_objects (key text_pattern_ops) WHERE committed`,
    );
    await q.query(
      `CREATE INDEX artifact_objects_pending_idx ON artifact_objects (created_at) WHERE NOT committed`,
    );
    await q.query(`
      CREATE TABLE artifact_chunks (
        object_id uuid NOT NULL REFERENCES artifact_objects (id) ON DELETE CASCADE,
        seq integer NOT NULL,
        data bytea NOT NULL,
        PRIMARY KEY (object_id, seq)
      )`);
    await q.query(`ALTER TABLE trials ADD COLUMN model_key text, ADD COLUMN weights_key text`);
    await q.query(`ALTER TABLE supernets ADD COLUMN artifact_key text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE supernets DROP COLUMN artifact_key`);
    await q.query(`ALTER TABLE trials DROP COLUMN model_key, DROP COLUMN weights_key`);
    await q.query(`DROP TABLE artifact_chunks`);
    await q.query(`DROP TABLE artifact_objects`);
  }
}
