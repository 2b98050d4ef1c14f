import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Where a trial's latency comes from: 'measured' (timed on a machine) or 'predicted' (a profile's
 * roofline), and a short text saying where and how (machine and threads, or profile and what it is
 * calibrated on). Existing rows keep NULL: their origin was not recorded.
 */
export class LatencyProvenance1764840000000 implements MigrationInterface {
  name = 'LatencyProvenance1764840000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE trials ADD COLUMN latency_source text, ADD COLUMN latency_provenance text`);
    await q.query(
      `ALTER TABLE trials ADD CONSTRAINT trials_latency_source_check
         CHECK (latency_source IS NULL OR latency_source IN ('measured', 'predicted'))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE trials DROP CONSTRAINT trials_latency_source_check`);
    await q.query(`ALTER TABLE trials DROP COLUMN latency_provenance, DROP COLUMN latency_source`);
  }
}
