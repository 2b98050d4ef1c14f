import { randomUUID } from 'node:crypto';
import type { Genome } from '@detsearch/genome';
import type { Database, Sql } from './data-source';
import { json } from './rows';
import type { LatencyMeasurement, MeasurementStatus, NewMeasurement } from './types';

type Row = Record<string, unknown>;

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const date = (v: unknown): Date | null =>
  v === null || v === undefined ? null : v instanceof Date ? v : new Date(String(v));

export function measurementFromRow(r: Row): LatencyMeasurement {
  return {
    id: String(r.id),
    profile: String(r.profile),
    trialId: r.trial_id === null || r.trial_id === undefined ? null : String(r.trial_id),
    genome: r.genome as Genome,
    genomeKey: String(r.genome_key),
    status: r.status as MeasurementStatus,
    workerId: r.worker_id === null || r.worker_id === undefined ? null : String(r.worker_id),
    attempts: Number(r.attempts ?? 0),
    medianMs: num(r.median_ms),
    p90Ms: num(r.p90_ms),
    runs: num(r.runs),
    threads: num(r.threads),
    onnxBytes: num(r.onnx_bytes),
    error: r.error === null || r.error === undefined ? null : String(r.error),
    createdAt: date(r.created_at)!,
    startedAt: date(r.started_at),
    finishedAt: date(r.finished_at),
  };
}

export interface MeasurementOutcome {
  medianMs: number;
  p90Ms: number;
  runs: number;
  threads: number;
  onnxBytes: number;
}

/**
 * Latency measurements on devices: requested (with their jobs, in one transaction), claimed by
 * one `--measure-only` worker at a time, then done or failed. Like trials, a result is accepted
 * only from the worker holding the claim.
 */
export class MeasurementRepository {
  constructor(private readonly db: Database) {}

  async request(items: NewMeasurement[], tx?: Sql): Promise<LatencyMeasurement[]> {
    if (items.length === 0) return [];
    const rows = await this.db.sql(tx).query(
      `INSERT INTO latency_measurements (id, profile, genome, genome_key, trial_id, status)
       SELECT id, profile, genome, genome_key, trial_id, 'queued'
       FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::text[], $5::uuid[])
         AS m(id, profile, genome, genome_key, trial_id)
       RETURNING *`,
      [
        items.map((m) => m.id ?? randomUUID()),
        items.map((m) => m.profile),
        items.map((m) => json(m.genome)),
        items.map((m) => m.genomeKey),
        items.map((m) => m.trialId ?? null),
      ],
    );
    return rows.map(measurementFromRow);
  }

  async get(id: string, tx?: Sql): Promise<LatencyMeasurement | null> {
    const [row] = await this.db.sql(tx).query(`SELECT * FROM latency_measurements WHERE id = $1`, [id]);
    return row ? measurementFromRow(row) : null;
  }

  /** Takes a queued measurement for `workerId`; null when someone else has it or it is finished. */
  async claim(id: string, workerId: string): Promise<LatencyMeasurement | null> {
    const [row] = await this.db.query(
      `UPDATE latency_measurements SET status = 'running', worker_id = $2, attempts = attempts + 1,
         started_at = now(), error = NULL
       WHERE id = $1 AND status = 'queued' RETURNING *`,
      [id, workerId],
    );
    return row ? measurementFromRow(row) : null;
  }

  /** Stores the result of `workerId`'s claim; false when the claim is no longer its own. */
  async finish(id: string, workerId: string, m: MeasurementOutcome): Promise<boolean> {
    const r = await this.db.execute(
      `UPDATE latency_measurements SET status = 'done', finished_at = now(), median_ms = $3, p90_ms = $4,
         runs = $5, threads = $6, onnx_bytes = $7
       WHERE id = $1 AND status = 'running' AND worker_id = $2`,
      [id, workerId, m.medianMs, m.p90Ms, m.runs, m.threads, Math.round(m.onnxBytes)],
    );
    return r.affected > 0;
  }

  async fail(id: string, workerId: string, error: string): Promise<boolean> {
    const r = await this.db.execute(
      `UPDATE latency_measurements SET status = 'failed', finished_at = now(), error = $3
       WHERE id = $1 AND status = 'running' AND worker_id = $2`,
      [id, workerId, error.slice(0, 4000)],
    );
    return r.affected > 0;
  }

  /**
   * Puts running measurements back in the queue: those of the given workers (stopping cleanly)
   * and those whose worker is no longer registered as live within `staleMs`. Returns them, so
   * the caller can enqueue their jobs in the same transaction.
   */
  async requeue(which: { workerIds?: string[]; staleMs?: number }, tx?: Sql): Promise<LatencyMeasurement[]> {
    const rows = await this.db.sql(tx).query(
      `UPDATE latency_measurements m SET status = 'queued', worker_id = NULL, started_at = NULL
       WHERE m.status = 'running' AND (m.worker_id = ANY($1::text[])
         OR ($2::float8 IS NOT NULL AND m.started_at < now() - make_interval(secs => $2::float8 / 1000)
           AND NOT EXISTS (SELECT 1 FROM workers w WHERE w.id = m.worker_id
             AND w.heartbeat_at >= now() - make_interval(secs => $2::float8 / 1000))))
       RETURNING *`,
      [which.workerIds ?? [], which.staleMs ?? null],
    );
    return rows.map(measurementFromRow);
  }

  async list(profile: string, status?: MeasurementStatus): Promise<LatencyMeasurement[]> {
    const rows = await this.db.query(
      `SELECT * FROM latency_measurements WHERE profile = $1 AND ($2::text IS NULL OR status = $2)
       ORDER BY created_at, id`,
      [profile, status ?? null],
    );
    return rows.map(measurementFromRow);
  }

  /**
   * The profile's finished measurements as calibration samples ({genome, medianMs}, the shape
   * `calibrateProfile` and `detsearch calibrate --measurements` take): the latest per genome.
   */
  async samples(profile: string): Promise<{ genome: Genome; medianMs: number; p90Ms: number | null }[]> {
    const rows = await this.db.query<Row>(
      `SELECT DISTINCT ON (genome_key) genome, median_ms, p90_ms FROM latency_measurements
       WHERE profile = $1 AND status = 'done' ORDER BY genome_key, finished_at DESC`,
      [profile],
    );
    return rows.map((r) => ({
      genome: r.genome as Genome,
      medianMs: Number(r.median_ms),
      p90Ms: num(r.p90_ms),
    }));
  }
}
