import type { Database, Sql } from './data-source';
import type { WorkerInfo } from './types';

type Row = Record<string, unknown>;

const workerFromRow = (r: Row): WorkerInfo => ({
  id: String(r.id),
  host: String(r.host),
  pid: Number(r.pid),
  kind: r.kind as WorkerInfo['kind'],
  profile: r.profile === null || r.profile === undefined ? null : String(r.profile),
  concurrency: Number(r.concurrency),
  startedAt: new Date(r.started_at as string | Date),
  heartbeatAt: new Date(r.heartbeat_at as string | Date),
});

/**
 * The worker registry: each worker process upserts its row on start and on every heartbeat, and
 * deletes it when it stops cleanly. Readers treat a row older than `staleMs` as a dead worker.
 */
export class WorkerRepository {
  constructor(private readonly db: Database) {}

  /** Registers the worker or renews its heartbeat (also after its row was pruned as stale). */
  async beat(w: Omit<WorkerInfo, 'startedAt' | 'heartbeatAt'>, tx?: Sql): Promise<void> {
    await this.db.sql(tx).query(
      `INSERT INTO workers (id, host, pid, kind, profile, concurrency) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), concurrency = EXCLUDED.concurrency`,
      [w.id, w.host, w.pid, w.kind, w.profile, w.concurrency],
    );
  }

  async remove(id: string, tx?: Sql): Promise<void> {
    await this.db.sql(tx).query(`DELETE FROM workers WHERE id = $1`, [id]);
  }

  /** Workers heard from within `staleMs`, oldest first. */
  async live(staleMs: number, kind?: WorkerInfo['kind']): Promise<WorkerInfo[]> {
    const rows = await this.db.query(
      `SELECT * FROM workers WHERE heartbeat_at >= now() - make_interval(secs => $1::float8 / 1000)
         AND ($2::text IS NULL OR kind = $2) ORDER BY started_at, id`,
      [staleMs, kind ?? null],
    );
    return rows.map(workerFromRow);
  }

  /** Trial slots of the live trial workers (the number of trials they can run at once). */
  async liveSlots(staleMs: number): Promise<number> {
    const [r] = await this.db.query<{ n: number }>(
      `SELECT coalesce(sum(concurrency), 0)::int AS n FROM workers
       WHERE kind = 'trials' AND heartbeat_at >= now() - make_interval(secs => $1::float8 / 1000)`,
      [staleMs],
    );
    return r!.n;
  }

  /** Deletes rows of workers silent for `olderThanMs` (long dead); returns how many. */
  async prune(olderThanMs: number): Promise<number> {
    const r = await this.db.execute(
      `DELETE FROM workers WHERE heartbeat_at < now() - make_interval(secs => $1::float8 / 1000)`,
      [olderThanMs],
    );
    return r.affected;
  }
}
