import { randomUUID } from 'node:crypto';
import type { Database, Sql } from './data-source';
import { json, searchFromRow } from './rows';
import type { BestSoFar, NewSearch, Page, Search, SearchStatus } from './types';

export interface ListSearchesQuery {
  status?: SearchStatus | SearchStatus[];
  limit?: number;
  offset?: number;
}

/** Searches: creation, lifecycle transitions and the runner lease that makes resume safe. */
export class SearchRepository {
  constructor(private readonly db: Database) {}

  async create(search: NewSearch, tx?: Sql): Promise<Search> {
    const [row] = await this.db.sql(tx).query(
      `INSERT INTO searches (id, name, status, strategy, objectives, constraints, budget, seed, search_space,
         hardware_profile, hardware_profile_spec, preset, dataset, fidelity, evaluator, request, supernet_id, fine_tune)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
       RETURNING *`,
      [
        search.id ?? randomUUID(),
        search.name,
        search.status ?? 'queued',
        search.strategy,
        json(search.objectives),
        json(search.constraints ?? {}),
        json(search.budget),
        search.seed,
        json(search.searchSpace),
        search.hardwareProfile,
        json(search.hardwareProfileSpec),
        search.preset,
        search.dataset,
        json(search.fidelity),
        search.evaluator,
        json(search.request ?? {}),
        search.supernetId ?? null,
        json(search.fineTune),
      ],
    );
    return searchFromRow(row!);
  }

  /** Records the warm-start key and how many trials were reused (in the transaction that inserted them). */
  async setWarmStart(id: string, key: string, reusedTrials: number, tx?: Sql): Promise<Search | null> {
    const [row] = await this.db
      .sql(tx)
      .query(
        `UPDATE searches SET warm_start_key = $2, reused_trials = $3, updated_at = now() WHERE id = $1 RETURNING *`,
        [id, key, reusedTrials],
      );
    return row ? searchFromRow(row) : null;
  }

  async get(id: string, tx?: Sql): Promise<Search | null> {
    if (!isUuid(id)) return null;
    const [row] = await this.db.sql(tx).query(`SELECT * FROM searches WHERE id = $1`, [id]);
    return row ? searchFromRow(row) : null;
  }

  /** Newest first. */
  async list(query: ListSearchesQuery = {}): Promise<Page<Search>> {
    const limit = clampLimit(query.limit, 50);
    const offset = Math.max(0, Math.floor(query.offset ?? 0));
    const statuses = query.status === undefined ? null : ([] as SearchStatus[]).concat(query.status);
    const where = statuses ? `WHERE status = ANY($1::text[])` : '';
    const params: unknown[] = statuses ? [statuses] : [];
    const rows = await this.db.query(
      `SELECT * FROM searches ${where} ORDER BY created_at DESC, id LIMIT ${limit} OFFSET ${offset}`,
      params,
    );
    const [{ total }] = await this.db.query<{ total: number }>(
      `SELECT count(*)::int AS total FROM searches ${where}`,
      params,
    );
    return { items: rows.map(searchFromRow), total: total!, limit, offset };
  }

  /**
   * Moves a search to `to` when its status is one of `from`; returns the updated search or null
   * when it was not in one of those states (so concurrent transitions cannot both win).
   */
  async transition(
    id: string,
    from: SearchStatus[],
    to: SearchStatus,
    extra: { error?: string | null; started?: boolean; finished?: boolean } = {},
    tx?: Sql,
  ): Promise<Search | null> {
    const [row] = await this.db.sql(tx).query(
      `UPDATE searches SET status = $2, updated_at = now(),
         error = CASE WHEN $4::boolean THEN $5 ELSE error END,
         started_at = CASE WHEN $6::boolean THEN coalesce(started_at, now()) ELSE started_at END,
         finished_at = CASE WHEN $7::boolean THEN now() WHEN $2 IN ('queued', 'running') THEN NULL ELSE finished_at END
       WHERE id = $1 AND status = ANY($3::text[])
       RETURNING *`,
      [id, to, from, extra.error !== undefined, extra.error ?? null, !!extra.started, !!extra.finished],
    );
    return row ? searchFromRow(row) : null;
  }

  /**
   * Takes the right to drive a search's loop: granted when nobody holds it, we already hold it,
   * or the holder has not renewed it for `staleMs` (its process died).
   */
  async acquireLease(id: string, runnerId: string, staleMs: number, tx?: Sql): Promise<Search | null> {
    const [row] = await this.db.sql(tx).query(
      `UPDATE searches SET runner_id = $2, heartbeat_at = now()
       WHERE id = $1 AND (runner_id IS NULL OR runner_id = $2
         OR heartbeat_at IS NULL OR heartbeat_at < now() - make_interval(secs => $3::float8 / 1000))
       RETURNING *`,
      [id, runnerId, staleMs],
    );
    return row ? searchFromRow(row) : null;
  }

  /** Renews the lease; false when another runner took it over. */
  async renewLease(id: string, runnerId: string): Promise<boolean> {
    const r = await this.db.execute(
      `UPDATE searches SET heartbeat_at = now() WHERE id = $1 AND runner_id = $2`,
      [id, runnerId],
    );
    return r.affected > 0;
  }

  async releaseLease(id: string, runnerId: string, tx?: Sql): Promise<void> {
    await this.db
      .sql(tx)
      .query(`UPDATE searches SET runner_id = NULL, heartbeat_at = NULL WHERE id = $1 AND runner_id = $2`, [
        id,
        runnerId,
      ]);
  }

  /** Running searches nobody drives: no holder, or the holder's lease is older than `staleMs`. */
  async findOrphaned(staleMs: number): Promise<Search[]> {
    const rows = await this.db.query(
      `SELECT * FROM searches WHERE status IN ('queued', 'running')
         AND (runner_id IS NULL OR heartbeat_at IS NULL OR heartbeat_at < now() - make_interval(secs => $1::float8 / 1000))
       ORDER BY created_at`,
      [staleMs],
    );
    return rows.map(searchFromRow);
  }

  /** The stored best-so-far summary (kept by whoever completes a trial that joins the front). */
  async best(id: string, tx?: Sql): Promise<BestSoFar | null> {
    const [row] = await this.db
      .sql(tx)
      .query<{ best: BestSoFar | null }>(`SELECT best FROM searches WHERE id = $1`, [id]);
    return row?.best ?? null;
  }

  async setBest(id: string, best: BestSoFar | null, tx?: Sql): Promise<void> {
    await this.db
      .sql(tx)
      .query(`UPDATE searches SET best = $2, updated_at = now() WHERE id = $1`, [id, json(best)]);
  }

  /** Records the supernet a search scores with (found or trained once the search started). */
  async setSupernet(id: string, supernetId: string, tx?: Sql): Promise<void> {
    await this.db
      .sql(tx)
      .query(`UPDATE searches SET supernet_id = $2, updated_at = now() WHERE id = $1`, [id, supernetId]);
  }

  async delete(id: string, tx?: Sql): Promise<boolean> {
    const r = await (tx ?? this.db).execute(`DELETE FROM searches WHERE id = $1`, [id]);
    return r.affected > 0;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Malformed ids are simply not found (Postgres would raise on the uuid cast). */
export const isUuid = (id: string): boolean => UUID.test(id);

export function clampLimit(limit: number | undefined, fallback: number, max = 1000): number {
  if (limit === undefined || !Number.isFinite(limit)) return fallback;
  return Math.min(max, Math.max(1, Math.floor(limit)));
}
