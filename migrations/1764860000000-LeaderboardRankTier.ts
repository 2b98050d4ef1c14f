import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The leaderboard's default order ranks feasible completed trials first: `rank_tier` says which
 * group a trial falls in, kept by Postgres from its status and constraint violation, and one index
 * serves the ranked order (`rank_tier, map50_95 DESC NULLS LAST, number`) and its keyset cursor
 * as a range scan, as well as the `feasible` filter (tiers 0-1 feasible, 2 infeasible).
 *
 * 0: completed and feasible; 1: pruned (partial training) and feasible; 2: completed or pruned
 * over a constraint; 3: no result yet or failed.
 */
export const RANK_TIER_SQL = `CASE
  WHEN status = 'completed' AND coalesce(violation, 0) <= 0 THEN 0
  WHEN status = 'pruned' AND coalesce(violation, 0) <= 0 THEN 1
  WHEN status IN ('completed', 'pruned') THEN 2
  ELSE 3 END`;

export class LeaderboardRankTier1764860000000 implements MigrationInterface {
  name = 'LeaderboardRankTier1764860000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE trials ADD COLUMN rank_tier smallint GENERATED ALWAYS AS (${RANK_TIER_SQL}) STORED`,
    );
    await q.query(
      `CREATE INDEX trials_search_rank_idx ON trials (search_id, rank_tier, map50_95 DESC NULLS LAST, number)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX trials_search_rank_idx`);
    await q.query(`ALTER TABLE trials DROP COLUMN rank_tier`);
  }
}
