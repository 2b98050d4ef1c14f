import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Hardware profiles and presets are read from search-spaces/ (and fitted profiles from
 * DETSEARCH_HOME/profiles); a search keeps the profile it ran with in `hardware_profile_spec`.
 * The tables that were meant to hold stored copies were never written: dropped.
 */
export class DropDocumentTables1764830000000 implements MigrationInterface {
  name = 'DropDocumentTables1764830000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS presets`);
    await q.query(`DROP TABLE IF EXISTS hardware_profiles`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['hardware_profiles', 'presets'])
      await q.query(`
        CREATE TABLE ${table} (
          name text PRIMARY KEY,
          source text NOT NULL,
          document jsonb NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now(),
          updated_at timestamptz NOT NULL DEFAULT now()
        )`);
  }
}
