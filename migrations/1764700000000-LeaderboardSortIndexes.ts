import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One index per leaderboard sort direction. The leaderboard orders by
 * `<col> ASC|DESC NULLS LAST, number ASC` (TrialRepository.list). A btree scanned backwards
 * reverses every key and the NULLS placement, so `(search_id, col, number)` cannot serve
 * `col DESC NULLS LAST, number ASC`: at 100,000 trials Postgres sorted every row of the search
 * (an on-disk sort, 0.6 s) and a deep page cost seconds. Each sortable column now has both
 * `(search_id, col ASC NULLS LAST, number)` and `(search_id, col DESC NULLS LAST, number)`, so
 * every sort the API offers, and its keyset cursor, is an index range scan.
 *
 * `number` needs none: the repository orders it alone (it is unique and NOT NULL), which the
 * `(search_id, number)` unique key serves in both directions.
 */
export const LEADERBOARD_SORT_INDEXES: { name: string; columns: string }[] = [
  // The initial schema indexed these two only descending...
  { name: 'trials_search_map50_95_asc_idx', columns: 'map50_95, number' },
  { name: 'trials_search_map50_asc_idx', columns: 'map50, number' },
  // ...and these four only ascending.
  { name: 'trials_search_latency_desc_idx', columns: 'latency_ms DESC NULLS LAST, number' },
  { name: 'trials_search_params_desc_idx', columns: 'params DESC NULLS LAST, number' },
  { name: 'trials_search_gflops_desc_idx', columns: 'gflops DESC NULLS LAST, number' },
  { name: 'trials_search_size_desc_idx', columns: 'size_bytes DESC NULLS LAST, number' },
  // The timestamps had none.
  { name: 'trials_search_created_idx', columns: 'created_at, number' },
  { name: 'trials_search_created_desc_idx', columns: 'created_at DESC NULLS LAST, number' },
  { name: 'trials_search_finished_idx', columns: 'finished_at, number' },
  { name: 'trials_search_finished_desc_idx', columns: 'finished_at DESC NULLS LAST, number' },
];

export class LeaderboardSortIndexes1764700000000 implements MigrationInterface {
  name = 'LeaderboardSortIndexes1764700000000';

  async up(q: QueryRunner): Promise<void> {
    for (const ix of LEADERBOARD_SORT_INDEXES)
      await q.query(`CREATE INDEX ${ix.name} ON trials (search_id, ${ix.columns})`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const ix of [...LEADERBOARD_SORT_INDEXES].reverse()) await q.query(`DROP INDEX ${ix.name}`);
  }
}
