import { randomUUID } from 'node:crypto';
import type { Database, Sql } from './data-source';
import { json, supernetFromRow } from './rows';
import { clampLimit, isUuid } from './search-repository';
import type { NewSupernet, Page, Supernet, SupernetProgress, SupernetStatus } from './types';

/** What identifies a reusable supernet: the same dataset, the same search space, the same activation. */
export interface SupernetMatch {
  datasetFingerprint: string;
  spaceFingerprint: string;
  activation: string;
}

export interface SupernetOutcome {
  status: Exclude<SupernetStatus, 'training'>;
  epochs?: number;
  minutes?: number;
  metrics?: Record<string, unknown> | null;
  sizeBytes?: number | null;
  artifactPath?: string | null;
  artifactKey?: string | null;
  error?: string | null;
}

/**
 * Supernets: rows created when training starts, progress and a heartbeat while it runs (the
 * trainer's process holds `runner_id`), the outcome when it ends. A supernet is reused only by an
 * exact match of dataset fingerprint, search-space fingerprint and activation.
 */
export class SupernetRepository {
  constructor(private readonly db: Database) {}

  async create(s: NewSupernet, tx?: Sql): Promise<Supernet> {
    const [row] = await this.db.sql(tx).query(
      `INSERT INTO supernets (id, status, activation, dataset_fingerprint, space_fingerprint, dataset,
         search_space, image_sizes, budget_minutes, artifact_path, runner_id, heartbeat_at)
       VALUES ($1, 'training', $2, $3, $4, $5, $6, $7, $8, $9, $10, now())
       RETURNING *`,
      [
        s.id ?? randomUUID(),
        s.activation,
        s.datasetFingerprint,
        s.spaceFingerprint,
        s.dataset,
        json(s.searchSpace),
        json(s.imageSizes),
        s.budgetMinutes ?? null,
        s.artifactPath ?? null,
        s.runnerId ?? null,
      ],
    );
    return supernetFromRow(row!);
  }

  async get(id: string, tx?: Sql): Promise<Supernet | null> {
    if (!isUuid(id)) return null;
    const [row] = await this.db.sql(tx).query(`SELECT * FROM supernets WHERE id = $1`, [id]);
    return row ? supernetFromRow(row) : null;
  }

  /** Newest first. */
  async list(
    query: { status?: SupernetStatus; limit?: number; offset?: number } = {},
  ): Promise<Page<Supernet>> {
    const limit = clampLimit(query.limit, 100);
    const offset = Math.max(0, Math.floor(query.offset ?? 0));
    const where = query.status ? `WHERE status = $1` : '';
    const params = query.status ? [query.status] : [];
    const rows = await this.db.query(
      `SELECT * FROM supernets ${where} ORDER BY created_at DESC, id LIMIT ${limit} OFFSET ${offset}`,
      params,
    );
    const [{ total }] = await this.db.query<{ total: number }>(
      `SELECT count(*)::int AS total FROM supernets ${where}`,
      params,
    );
    return { items: rows.map(supernetFromRow), total: total!, limit, offset };
  }

  /** The newest supernet in one of `statuses` for exactly this dataset, space and activation. */
  async findMatch(
    m: SupernetMatch,
    statuses: SupernetStatus[] = ['ready'],
    tx?: Sql,
  ): Promise<Supernet | null> {
    const [row] = await this.db.sql(tx).query(
      `SELECT * FROM supernets WHERE dataset_fingerprint = $1 AND space_fingerprint = $2 AND activation = $3
         AND status = ANY($4::text[])
       ORDER BY (status = 'ready') DESC, created_at DESC, id LIMIT 1`,
      [m.datasetFingerprint, m.spaceFingerprint, m.activation, statuses],
    );
    return row ? supernetFromRow(row) : null;
  }

  /** Progress of a training run, which also renews its heartbeat; false when it is not `runnerId`'s any more. */
  async progress(
    id: string,
    runnerId: string,
    progress: SupernetProgress,
    extra: { epochs?: number; minutes?: number } = {},
  ): Promise<boolean> {
    const r = await this.db.execute(
      `UPDATE supernets SET progress = $3, epochs = coalesce($4, epochs), minutes = coalesce($5, minutes),
         heartbeat_at = now(), updated_at = now()
       WHERE id = $1 AND status = 'training' AND runner_id = $2`,
      [id, runnerId, json(progress), extra.epochs ?? null, extra.minutes ?? null],
    );
    return r.affected > 0;
  }

  /**
   * Takes over a training run whose trainer went silent for `staleMs` (its process died), or one
   * that stopped (failed or cancelled) so it is trained again from its checkpoints. Returns the row,
   * now `runnerId`'s, or null when someone alive holds it.
   */
  async takeOver(id: string, runnerId: string, staleMs: number, tx?: Sql): Promise<Supernet | null> {
    const [row] = await this.db.sql(tx).query(
      `UPDATE supernets SET status = 'training', runner_id = $2, heartbeat_at = now(), updated_at = now(),
         error = NULL, finished_at = NULL
       WHERE id = $1 AND (status IN ('failed', 'cancelled') OR runner_id = $2 OR runner_id IS NULL
         OR heartbeat_at IS NULL OR heartbeat_at < now() - make_interval(secs => $3::float8 / 1000))
         AND status <> 'ready'
       RETURNING *`,
      [id, runnerId, staleMs],
    );
    return row ? supernetFromRow(row) : null;
  }

  /** Ends a training run; ignored (null) when `runnerId` no longer holds it. */
  async finish(id: string, runnerId: string, o: SupernetOutcome, tx?: Sql): Promise<Supernet | null> {
    const [row] = await this.db.sql(tx).query(
      `UPDATE supernets SET status = $3, epochs = coalesce($4, epochs), minutes = coalesce($5, minutes),
         metrics = coalesce($6, metrics), size_bytes = coalesce($7, size_bytes),
         artifact_path = coalesce($8, artifact_path), artifact_key = coalesce($10, artifact_key), error = $9, updated_at = now(), finished_at = now(),
         progress = CASE WHEN $3 = 'ready' THEN jsonb_set(coalesce(progress, '{}'), '{fraction}', '1') ELSE progress END
       WHERE id = $1 AND status = 'training' AND runner_id = $2
       RETURNING *`,
      [
        id,
        runnerId,
        o.status,
        o.epochs ?? null,
        o.minutes ?? null,
        json(o.metrics),
        o.sizeBytes ?? null,
        o.artifactPath ?? null,
        o.error ?? null,
        o.artifactKey ?? null,
      ],
    );
    return row ? supernetFromRow(row) : null;
  }

  /** Training rows whose trainer has been silent for `staleMs` (their process died). */
  async findStale(staleMs: number): Promise<Supernet[]> {
    const rows = await this.db.query(
      `SELECT * FROM supernets WHERE status = 'training'
         AND (heartbeat_at IS NULL OR heartbeat_at < now() - make_interval(secs => $1::float8 / 1000))
       ORDER BY created_at`,
      [staleMs],
    );
    return rows.map(supernetFromRow);
  }
}
