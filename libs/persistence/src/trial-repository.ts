import { randomUUID } from 'node:crypto';
import { DomainError } from '@detsearch/common';
import type { Database, Sql } from './data-source';
import { objectiveDefinition } from '@detsearch/domain';
import { dominates } from '@detsearch/strategies';
import { OBJECTIVE_COLUMNS, recomputeFront } from './pareto';
import { json, trialFromRow } from './rows';
import { clampLimit, isUuid } from './search-repository';
import type {
  BestSoFar,
  EpochMetric,
  FineTuneResult,
  ListTrialsQuery,
  NewTrial,
  ObjectiveName,
  Trial,
  TrialCounts,
  TrialPage,
  TrialResult,
  TrialStatus,
} from './types';
import {
  cursorValueOf,
  decodeCursor,
  encodeCursor,
  FEASIBLE_TIERS,
  INFEASIBLE_TIERS,
  keysetBranches,
  LEADERBOARD_COLUMNS,
  resolveSort,
  toLeaderboardTrial,
  type LeaderboardTrial,
} from './leaderboard';

/** A completed trial's objective values (the hypervolume history's input). */
export interface ObjectiveHistoryRow {
  number: number;
  status: 'completed';
  map50_95: number;
  latencyMs: number;
}

/** What the dashboard's plots need of a trial with results. */
export const PLOT_FIELDS = [
  'id',
  'number',
  'status',
  'genome',
  'map50',
  'map50_95',
  'fp32Map50_95',
  'latencyMs',
  'params',
  'gflops',
  'sizeBytes',
  'violation',
  'feasible',
  'onFront',
] as const satisfies readonly (keyof Trial)[];
export type PlotTrial = Pick<Trial, (typeof PLOT_FIELDS)[number]>;

function toPlotTrial(t: Trial): PlotTrial {
  const out: Partial<Record<keyof Trial, unknown>> = {};
  for (const f of PLOT_FIELDS) out[f] = t[f];
  return out as PlotTrial;
}

/** One trial's learning curve. */
export interface TrialCurve {
  trialId: string;
  number: number;
  status: TrialStatus;
  epochs: number;
  epochsDone: number;
  epochMetrics: EpochMetric[];
}

function curveFromRow(r: Record<string, unknown>): TrialCurve {
  return {
    trialId: String(r.id),
    number: Number(r.number),
    status: r.status as TrialStatus,
    epochs: Number(r.epochs),
    epochsDone: Number(r.epochs_done ?? 0),
    epochMetrics: (r.epoch_metrics ?? []) as EpochMetric[],
  };
}

/** Who runs a trial attempt; results are accepted only from the current holder. */
export interface TrialLease {
  workerId: string;
  attempt: number;
}

/** What a strategy needs of one trial (a light projection of the row). */
export interface TrialHistoryRow {
  id: string;
  number: number;
  status: TrialStatus;
  searchParams: Record<string, unknown>;
  objectiveValues: number[] | null;
  constraintValues: number[] | null;
  epochsDone: number;
  epochs: number;
}

/** An earlier evaluation a warm start can reuse, with the profile its latency was stored for. */
export interface WarmStartSource {
  trial: Trial;
  hardwareProfile: string;
}

/** A reused trial to insert: the source's results with this search's point, latency and objectives. */
export interface ReusedTrial {
  sourceId: string;
  number: number;
  searchParams: Record<string, unknown>;
  latencyMs: number;
  latencyPerProfile: Record<string, number>;
  latencySource: string | null;
  latencyProvenance: string | null;
  objectiveValues: number[];
  constraintValues: number[];
}

/** A trial's standing at one ASHA rung: its mAP at that epoch and its genome-derived costs. */
export interface RungEntry {
  id: string;
  number: number;
  map50_95: number;
  latencyMs: number | null;
  sizeBytes: number | null;
  params: number | null;
  gflops: number | null;
}

/** A re-run starts clean: results of an earlier attempt are dropped (genome-derived costs stay). */
const RESET_RESULTS = `map50 = NULL, map50_95 = NULL, fp32_map50_95 = NULL, objective_values = NULL,
  constraint_values = NULL, violation = NULL, measured_latency_ms = NULL, onnx_path = NULL, model_key = NULL, weights_key = NULL,
  estimate_map50 = NULL, estimate_map50_95 = NULL, finetuned_map50 = NULL, finetuned_map50_95 = NULL,
  finetuned_map50_std = NULL, finetuned_map50_95_std = NULL, finetune_epochs = NULL, finetune_seeds = NULL`;

const RESET_COLUMNS = [...RESET_RESULTS.matchAll(/(\w+) = NULL/g)].map((m) => m[1]!);

export const FEASIBLE_COMPLETED = `status = 'completed' AND coalesce(violation, 0) <= 0`;

/** Trials: creation (in the caller's transaction), claiming, results, leaderboard, Pareto. */
export class TrialRepository {
  constructor(private readonly db: Database) {}

  /** Inserts trials in one statement; pass the transaction that also enqueues their jobs. */
  async create(trials: NewTrial[], tx?: Sql): Promise<Trial[]> {
    if (trials.length === 0) return [];
    const col = <T>(f: (t: NewTrial) => T) => trials.map(f);
    const rows = await this.db.sql(tx).query(
      `INSERT INTO trials (id, search_id, number, genome, genome_key, search_params, status, epochs, image_size,
         params, gflops, size_bytes, latency_ms, latency_per_profile, evaluator, latency_source, latency_provenance)
       SELECT id, search_id, number, genome, genome_key, search_params, 'queued', epochs, image_size,
         params, gflops, size_bytes, latency_ms, coalesce(latency_per_profile, '{}'), evaluator,
         latency_source, latency_provenance
       FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::jsonb[], $5::text[], $6::jsonb[], $7::int[], $8::int[],
         $9::int[], $10::float8[], $11::int[], $12::float8[], $13::jsonb[], $14::text[], $15::text[], $16::text[])
         AS t(id, search_id, number, genome, genome_key, search_params, epochs, image_size,
           params, gflops, size_bytes, latency_ms, latency_per_profile, evaluator, latency_source, latency_provenance)
       RETURNING *`,
      [
        col((t) => t.id ?? randomUUID()),
        col((t) => t.searchId),
        col((t) => t.number),
        col((t) => json(t.genome)),
        col((t) => t.genomeKey),
        col((t) => json(t.searchParams)),
        col((t) => t.epochs),
        col((t) => t.imageSize ?? null),
        col((t) => t.params ?? null),
        col((t) => t.gflops ?? null),
        col((t) => t.sizeBytes ?? null),
        col((t) => t.latencyMs ?? null),
        col((t) => json(t.latencyPerProfile ?? {})),
        col((t) => t.evaluator ?? null),
        col((t) => t.latencySource ?? null),
        col((t) => t.latencyProvenance ?? null),
      ],
    );
    return rows.map(trialFromRow).sort((a, b) => a.number - b.number);
  }

  async get(id: string, tx?: Sql): Promise<Trial | null> {
    if (!isUuid(id)) return null;
    const [row] = await this.db.sql(tx).query(`SELECT * FROM trials WHERE id = $1`, [id]);
    return row ? trialFromRow(row) : null;
  }

  /** Number the next trial of a search gets (0-based). Call inside the creating transaction. */
  async nextNumber(searchId: string, tx?: Sql): Promise<number> {
    const [r] = await this.db
      .sql(tx)
      .query<{ n: number }>(
        `SELECT coalesce(max(number) + 1, 0)::int AS n FROM trials WHERE search_id = $1`,
        [searchId],
      );
    return r!.n;
  }

  /** Trials per status, from the trigger-maintained counts (constant time at any search size). */
  async counts(searchId: string, tx?: Sql): Promise<TrialCounts> {
    return (await this.countsFor([searchId], tx)).get(searchId)!;
  }

  /** Counts of several searches in one query (search lists). */
  async countsFor(searchIds: string[], tx?: Sql): Promise<Map<string, TrialCounts>> {
    const out = new Map<string, TrialCounts>();
    for (const id of searchIds)
      out.set(id, { total: 0, queued: 0, running: 0, completed: 0, pruned: 0, failed: 0 });
    if (searchIds.length === 0) return out;
    const rows = await this.db
      .sql(tx)
      .query<{ search_id: string; status: TrialStatus; n: number }>(
        `SELECT search_id, status, n FROM search_trial_counts WHERE search_id = ANY($1::uuid[]) AND n <> 0`,
        [searchIds],
      );
    for (const r of rows) {
      const c = out.get(String(r.search_id))!;
      c[r.status] = r.n;
      c.total += r.n;
    }
    return out;
  }

  /** Puts failed trials whose error is exactly `reason` back in the queue (resume after cancel). */
  async requeueFailed(searchId: string, reason: string, tx?: Sql): Promise<number> {
    const r = await (tx ?? this.db).execute(
      `UPDATE trials SET status = 'queued', error = NULL, finished_at = NULL, worker_id = NULL, heartbeat_at = NULL,
         started_at = NULL, epochs_done = 0, rung = 0, epoch_metrics = '[]', ${RESET_RESULTS}
       WHERE search_id = $1 AND status = 'failed' AND error = $2`,
      [searchId, reason],
    );
    return r.affected;
  }

  /**
   * Leaderboard with every column of each trial (in-process callers: CLI exports, tests). One
   * search, optional status filter, sorted ('-' = descending), paginated by offset or keyset.
   */
  async list(searchId: string, query: ListTrialsQuery = {}): Promise<TrialPage<Trial>> {
    return this.page(searchId, query, '*', trialFromRow);
  }

  /**
   * The leaderboard as the API serves it: the same pages as `list`, each row projected to
   * LEADERBOARD_FIELDS (30% fewer bytes on seeded rows, more once trials have per-epoch metrics;
   * on PGlite each column fetched costs time).
   */
  async leaderboard(searchId: string, query: ListTrialsQuery = {}): Promise<TrialPage<LeaderboardTrial>> {
    return this.page(searchId, query, LEADERBOARD_COLUMNS, (r) => toLeaderboardTrial(trialFromRow(r)));
  }

  private async page<T>(
    searchId: string,
    query: ListTrialsQuery,
    columns: string,
    map: (row: Record<string, unknown>) => T,
  ): Promise<TrialPage<T>> {
    const limit = clampLimit(query.limit, 50);
    const offset = Math.max(0, Math.floor(query.offset ?? 0));
    const sort = resolveSort(query.sort ?? 'number');
    const after = query.after === undefined || query.after === '' ? null : decodeCursor(query.after, sort);
    if (after && offset > 0)
      throw new DomainError(
        'TRIALS.INVALID_PAGINATION',
        'offset: cannot be combined with after (the cursor already says where the page starts); drop one',
        'offset',
      );
    const statuses = query.status === undefined ? null : ([] as TrialStatus[]).concat(query.status);
    const params: unknown[] = [searchId];
    let where = `search_id = $1`;
    if (statuses) where += ` AND status = ANY($${params.push(statuses)}::text[])`;
    const tiers = query.feasible === undefined ? null : query.feasible ? FEASIBLE_TIERS : INFEASIBLE_TIERS;
    if (tiers) where += ` AND rank_tier = ANY($${params.push(tiers)}::smallint[])`;
    // One row more than the page tells whether there is a next one.
    const take = limit + 1;
    const select = `SELECT ${columns}, ${sort.cursorKeySql} AS cursor_key, rank_tier AS cursor_tier FROM trials WHERE ${where}`;
    let sql: string;
    if (!after) sql = `${select} ORDER BY ${sort.orderBy} LIMIT ${take} OFFSET ${offset}`;
    else {
      const branches = keysetBranches(sort, after, (value) => `$${params.push(value)}`);
      sql =
        branches.length === 1
          ? `${select} AND ${branches[0]} ORDER BY ${sort.orderBy} LIMIT ${take}`
          : // Each branch an index range scan of at most `take` rows; the union is re-sorted (a few
            // hundred rows at most) rather than trusting UNION ALL to keep branch order.
            `SELECT * FROM (${branches
              .map((b) => `(${select} AND ${b} ORDER BY ${sort.orderBy} LIMIT ${take})`)
              .join(
                ' UNION ALL ',
              )}) page ORDER BY ${sort.orderBy.replace('rank_tier', 'cursor_tier')} LIMIT ${take}`;
    }
    const rows = await this.db.query<Record<string, unknown>>(sql, params);
    const more = rows.length > limit;
    const last = more ? rows[limit - 1] : undefined;
    const nextCursor = last
      ? encodeCursor(sort, {
          value: cursorValueOf(last.cursor_key),
          number: Number(last.number),
          tier: Number(last.cursor_tier),
        })
      : null;
    let total: number;
    if (tiers) {
      // Feasibility has no maintained count: counted on the rank index (milliseconds at 100k trials).
      const [row] = await this.db.query<{ n: number | string }>(
        `SELECT count(*) AS n FROM trials WHERE ${where}`,
        params.slice(0, statuses ? 3 : 2),
      );
      total = Number(row?.n ?? 0);
    } else {
      const counts = await this.counts(searchId);
      total = statuses ? statuses.reduce((t, st) => t + (counts[st] ?? 0), 0) : counts.total;
    }
    return { items: rows.slice(0, limit).map(map), total, limit, offset, nextCursor };
  }

  /** Every trial of a search in creation order, projected for the strategy. */
  async history(searchId: string, tx?: Sql): Promise<TrialHistoryRow[]> {
    const rows = await this.db.sql(tx).query<Record<string, unknown>>(
      `SELECT id, number, status, search_params, objective_values, constraint_values, epochs_done, epochs
       FROM trials WHERE search_id = $1 ORDER BY number`,
      [searchId],
    );
    return rows.map((r) => ({
      id: String(r.id),
      number: Number(r.number),
      status: r.status as TrialStatus,
      searchParams: r.search_params as Record<string, unknown>,
      objectiveValues: (r.objective_values ?? null) as number[] | null,
      constraintValues: (r.constraint_values ?? null) as number[] | null,
      epochsDone: Number(r.epochs_done),
      epochs: Number(r.epochs),
    }));
  }

  /**
   * Completed evaluations in other searches with the warm-start key `key`, one per genome: the
   * original evaluation before a copy of it, the most recently finished among several.
   */
  async warmStartSources(key: string, searchId: string, tx?: Sql): Promise<WarmStartSource[]> {
    const rows = await this.db.sql(tx).query<Record<string, unknown>>(
      `SELECT DISTINCT ON (t.genome_key) t.*, s.hardware_profile AS source_profile
       FROM trials t JOIN searches s ON s.id = t.search_id
       WHERE s.warm_start_key = $1 AND s.id <> $2 AND t.status = 'completed' AND t.map50_95 IS NOT NULL
       ORDER BY t.genome_key, t.reused, t.finished_at DESC NULLS LAST, t.id`,
      [key, searchId],
    );
    return rows.map((r) => ({ trial: trialFromRow(r), hardwareProfile: String(r.source_profile) }));
  }

  /**
   * Inserts reused trials as completed trials of `searchId` in one statement: training results
   * (mAP, curves, costs) and the stored model and weights (the source's artifact keys: deleting the
   * source search removes them) copied from the source row, latency, objectives and constraints as
   * given for this search. `reused_from_trial_id` names the original evaluation. The caller recomputes
   * the front afterwards (these rows bypass \`finish\`).
   */
  async insertReused(searchId: string, rows: ReusedTrial[], tx?: Sql): Promise<Trial[]> {
    if (rows.length === 0) return [];
    const records = rows.map((r) => ({
      id: randomUUID(),
      source_id: r.sourceId,
      number: r.number,
      search_params: r.searchParams,
      latency_ms: r.latencyMs,
      latency_per_profile: r.latencyPerProfile,
      latency_source: r.latencySource,
      latency_provenance: r.latencyProvenance,
      objective_values: r.objectiveValues,
      constraint_values: r.constraintValues,
      violation: violationOf(r.constraintValues),
    }));
    const inserted = await this.db.sql(tx).query(
      `INSERT INTO trials (id, search_id, number, genome, genome_key, search_params, status, epochs, image_size,
         rung, epochs_done, epoch_metrics, map50, map50_95, fp32_map50_95, latency_ms, latency_per_profile,
         measured_latency_ms, latency_source, latency_provenance, params, gflops, size_bytes, objective_values,
         constraint_values, violation, backend, evaluator, notes, estimate_map50, estimate_map50_95, finished_at,
         reused, reused_from_trial_id, onnx_path, model_key, weights_key)
       SELECT x.id, $1, x.number, s.genome, s.genome_key, x.search_params, 'completed', s.epochs, s.image_size,
         s.rung, s.epochs_done, s.epoch_metrics, s.map50, s.map50_95, s.fp32_map50_95, x.latency_ms,
         x.latency_per_profile, s.measured_latency_ms, x.latency_source, x.latency_provenance, s.params, s.gflops,
         s.size_bytes, x.objective_values, x.constraint_values, x.violation, s.backend, s.evaluator, s.notes,
         s.estimate_map50, s.estimate_map50_95, now(), true, coalesce(s.reused_from_trial_id, s.id),
         s.onnx_path, s.model_key, s.weights_key
       FROM jsonb_to_recordset($2::jsonb) AS x(id uuid, source_id uuid, number int, search_params jsonb,
         latency_ms float8, latency_per_profile jsonb, latency_source text, latency_provenance text,
         objective_values jsonb, constraint_values jsonb, violation float8)
       JOIN trials s ON s.id = x.source_id
       RETURNING *`,
      [searchId, json(records)],
    );
    return inserted.map(trialFromRow).sort((a, b) => a.number - b.number);
  }

  /** Trials of a search in one status, oldest first. */
  async byStatus(searchId: string, status: TrialStatus, tx?: Sql): Promise<Trial[]> {
    const rows = await this.db
      .sql(tx)
      .query(`SELECT * FROM trials WHERE search_id = $1 AND status = $2 ORDER BY number`, [searchId, status]);
    return rows.map(trialFromRow);
  }

  /**
   * Takes a queued trial for `workerId`: running, one more attempt, fresh heartbeat. Null when it
   * is not queued any more (another worker took it, or it was cancelled).
   */
  async claim(id: string, workerId: string, tx?: Sql): Promise<{ trial: Trial; lease: TrialLease } | null> {
    const [row] = await this.db.sql(tx).query(
      `UPDATE trials SET status = 'running', worker_id = $2, attempts = attempts + 1,
         started_at = now(), heartbeat_at = now(), finished_at = NULL, error = NULL,
         epochs_done = 0, rung = 0, epoch_metrics = '[]', ${RESET_RESULTS}
       WHERE id = $1 AND status = 'queued'
       RETURNING *`,
      [id, workerId],
    );
    if (!row) return null;
    const trial = trialFromRow(row);
    return { trial, lease: { workerId, attempt: trial.attempts } };
  }

  async heartbeat(id: string, lease: TrialLease): Promise<boolean> {
    const r = await this.db.execute(
      `UPDATE trials SET heartbeat_at = now() WHERE id = $1 AND status = 'running' AND worker_id = $2 AND attempts = $3`,
      [id, lease.workerId, lease.attempt],
    );
    return r.affected > 0;
  }

  /** Appends one epoch's metrics (and the rung it reached); false when the lease is gone. */
  async recordEpoch(id: string, lease: TrialLease, metric: EpochMetric, rung: number): Promise<boolean> {
    const r = await this.db.execute(
      `UPDATE trials SET epoch_metrics = epoch_metrics || $4::jsonb, epochs_done = $5, rung = greatest(rung, $6),
         heartbeat_at = now(), map50 = coalesce($7, map50), map50_95 = coalesce($8, map50_95)
       WHERE id = $1 AND status = 'running' AND worker_id = $2 AND attempts = $3`,
      [
        id,
        lease.workerId,
        lease.attempt,
        json([metric]),
        metric.epoch,
        rung,
        metric.map50 ?? null,
        metric.map50_95 ?? null,
      ],
    );
    return r.affected > 0;
  }

  /**
   * Stores the outcome of the attempt `lease` names. Idempotent and safe against late results:
   * a worker presumed dead (its attempt re-queued or re-claimed) changes nothing. Returns the
   * stored trial, or null when the result was not accepted.
   */
  async finish(id: string, lease: TrialLease, result: TrialResult, tx?: Sql): Promise<Trial | null> {
    if (!tx) return this.db.transaction((t) => this.finish(id, lease, result, t));
    const [row] = await tx.query(
      `UPDATE trials SET status = $4, finished_at = now(), heartbeat_at = now(),
         map50 = coalesce($5, map50), map50_95 = coalesce($6, map50_95), fp32_map50_95 = coalesce($7, fp32_map50_95),
         latency_ms = coalesce($8, latency_ms), latency_per_profile = latency_per_profile || coalesce($9::jsonb, '{}'),
         measured_latency_ms = coalesce($10, measured_latency_ms), params = coalesce($11, params),
         gflops = coalesce($12, gflops), size_bytes = coalesce($13, size_bytes),
         objective_values = $14::jsonb, constraint_values = $15::jsonb, violation = $16,
         backend = coalesce($17, backend), notes = coalesce($18, notes), error = $19, onnx_path = coalesce($20, onnx_path),
         epoch_metrics = coalesce($21::jsonb, epoch_metrics),
         epochs_done = CASE WHEN $21::jsonb IS NULL THEN epochs_done ELSE jsonb_array_length($21::jsonb) END,
         latency_source = coalesce($22, latency_source), latency_provenance = coalesce($23, latency_provenance),
         estimate_map50 = coalesce($24, estimate_map50), estimate_map50_95 = coalesce($25, estimate_map50_95),
         model_key = coalesce($26, model_key), weights_key = coalesce($27, weights_key)
       WHERE id = $1 AND status = 'running' AND worker_id = $2 AND attempts = $3
       RETURNING *`,
      [
        id,
        lease.workerId,
        lease.attempt,
        result.status,
        result.map50 ?? null,
        result.map50_95 ?? null,
        result.fp32Map50_95 ?? null,
        result.latencyMs ?? null,
        json(result.latencyPerProfile),
        result.measuredLatencyMs ?? null,
        result.params === undefined || result.params === null ? null : Math.round(result.params),
        result.gflops ?? null,
        result.sizeBytes === undefined || result.sizeBytes === null ? null : Math.round(result.sizeBytes),
        json(result.objectiveValues),
        json(result.constraintValues),
        violationOf(result.constraintValues),
        result.backend ?? null,
        result.notes ?? null,
        result.error ?? null,
        result.onnxPath ?? null,
        result.epochMetrics ? json(result.epochMetrics) : null,
        result.latencySource ?? null,
        result.latencyProvenance ?? null,
        result.estimateMap50 ?? null,
        result.estimateMap50_95 ?? null,
        result.modelKey ?? null,
        result.weightsKey ?? null,
      ],
    );
    if (!row) return null;
    const trial = trialFromRow(row);
    if (trial.status === 'completed' && (trial.violation ?? 0) <= 0)
      trial.onFront = await addToFront(tx, trial);
    return trial;
  }

  /**
   * Stores the final stage's result on a finished trial: the fine-tuned mAP beside the estimate
   * (which stays in estimate_*; map50/map50_95 keep the value the search ranked by), and the
   * fine-tuned model, which replaces the exported one. Null when the trial is not completed.
   */
  async recordFineTune(id: string, r: FineTuneResult, tx?: Sql): Promise<Trial | null> {
    const [row] = await this.db.sql(tx).query(
      `UPDATE trials SET finetuned_map50 = $2, finetuned_map50_95 = $3, finetuned_map50_std = $4,
         finetuned_map50_95_std = $5, finetune_epochs = $6, finetune_seeds = $7,
         onnx_path = coalesce($8, onnx_path), model_key = coalesce($10, model_key),
         notes = CASE WHEN $9::text IS NULL THEN notes ELSE concat_ws('; ', notes, $9::text) END
       WHERE id = $1 AND status = 'completed'
       RETURNING *`,
      [
        id,
        r.finetunedMap50,
        r.finetunedMap50_95,
        r.finetunedMap50Std,
        r.finetunedMap50_95Std,
        r.finetuneEpochs,
        r.finetuneSeeds,
        r.onnxPath ?? null,
        r.notes ?? null,
        r.modelKey ?? null,
      ],
    );
    return row ? trialFromRow(row) : null;
  }

  /**
   * Puts running trials back in the queue, dropping their partial epochs: those of the given
   * workers (a runner known to be dead) and/or those whose heartbeat is older than `staleMs`.
   */
  async requeue(
    searchId: string,
    which: { workerIds?: string[]; staleMs?: number; all?: boolean },
    tx?: Sql,
  ): Promise<number> {
    const r = await (tx ?? this.db).execute(
      `UPDATE trials SET status = 'queued', worker_id = NULL, heartbeat_at = NULL, started_at = NULL,
         epochs_done = 0, rung = 0, epoch_metrics = '[]', ${RESET_RESULTS}
       WHERE search_id = $1 AND status = 'running' AND (
         $4::boolean
         OR worker_id = ANY($2::text[])
         OR ($3::float8 IS NOT NULL AND (heartbeat_at IS NULL OR heartbeat_at < now() - make_interval(secs => $3::float8 / 1000))))`,
      [searchId, which.workerIds ?? [], which.staleMs ?? null, !!which.all],
    );
    return r.affected;
  }

  /**
   * Reaps attempts whose worker went silent (no heartbeat for `staleMs`: it was killed, or its
   * machine was lost). Each is re-queued while it has attempts left, else failed with the reason.
   * One UPDATE each, so when several reapers run at once every trial is taken by exactly one of
   * them. Pass the transaction that also enqueues the re-queued trials' jobs.
   */
  async reapStale(
    opts: { staleMs: number; maxAttempts: number; searchId?: string },
    tx?: Sql,
  ): Promise<{ requeued: Trial[]; failed: Trial[] }> {
    const silence = `round(extract(epoch FROM now() - coalesce(heartbeat_at, started_at, now())))::int`;
    const spent = `attempts >= $2::int`;
    // One statement for both outcomes: the count trigger then locks its per-status rows once, in
    // order, as every other writer does (two statements would take 'running' before 'queued').
    const rows = await this.db.sql(tx).query(
      `UPDATE trials SET
         status = CASE WHEN ${spent} THEN 'failed' ELSE 'queued' END,
         error = CASE WHEN ${spent}
           THEN format('worker lost: no heartbeat for %s s from %s on attempt %s of %s; not retried',
             ${silence}, coalesce(worker_id, '?'), attempts, $2::int)
           ELSE format('attempt %s lost: no heartbeat for %s s from %s; re-queued', attempts, ${silence},
             coalesce(worker_id, '?')) END,
         finished_at = CASE WHEN ${spent} THEN now() END,
         worker_id = CASE WHEN ${spent} THEN worker_id END,
         heartbeat_at = CASE WHEN ${spent} THEN heartbeat_at END,
         started_at = CASE WHEN ${spent} THEN started_at END,
         epochs_done = CASE WHEN ${spent} THEN epochs_done ELSE 0 END,
         rung = CASE WHEN ${spent} THEN rung ELSE 0 END,
         epoch_metrics = CASE WHEN ${spent} THEN epoch_metrics ELSE '[]' END,
         ${RESET_COLUMNS.map((c) => `${c} = CASE WHEN ${spent} THEN ${c} END`).join(', ')}
       WHERE status = 'running' AND ($3::uuid IS NULL OR search_id = $3)
         AND (heartbeat_at IS NULL OR heartbeat_at < now() - make_interval(secs => $1::float8 / 1000))
       RETURNING *`,
      [opts.staleMs, opts.maxAttempts, opts.searchId ?? null],
    );
    const trials = rows.map(trialFromRow);
    return {
      requeued: trials.filter((t) => t.status === 'queued'),
      failed: trials.filter((t) => t.status === 'failed'),
    };
  }

  /**
   * Puts the running trials of a worker that is stopping cleanly back in the queue (its partial
   * epochs dropped); returns them so the caller enqueues their jobs in the same transaction.
   */
  async release(workerId: string, tx?: Sql): Promise<Trial[]> {
    const rows = await this.db.sql(tx).query(
      `UPDATE trials SET status = 'queued', worker_id = NULL, heartbeat_at = NULL, started_at = NULL,
         epochs_done = 0, rung = 0, epoch_metrics = '[]', ${RESET_RESULTS}
       WHERE status = 'running' AND worker_id = $1
       RETURNING *`,
      [workerId],
    );
    return rows.map(trialFromRow);
  }

  /** Ends every unfinished trial of a search as failed with `reason` (cancel). */
  async failUnfinished(searchId: string, reason: string, tx?: Sql): Promise<number> {
    const r = await (tx ?? this.db).execute(
      `UPDATE trials SET status = 'failed', error = $2, finished_at = now()
       WHERE search_id = $1 AND status IN ('queued', 'running')`,
      [searchId, reason],
    );
    return r.affected;
  }

  /** Completed trials with both mAP and latency, in trial order (the hypervolume history's input). */
  async objectiveHistory(searchId: string): Promise<ObjectiveHistoryRow[]> {
    const rows = await this.db.query<Record<string, unknown>>(
      `SELECT number, map50_95, latency_ms FROM trials
       WHERE search_id = $1 AND status = 'completed' AND map50_95 IS NOT NULL AND latency_ms IS NOT NULL
       ORDER BY number`,
      [searchId],
    );
    return rows.map((r) => ({
      number: Number(r.number),
      status: 'completed',
      map50_95: Number(r.map50_95),
      latencyMs: Number(r.latency_ms),
    }));
  }

  /**
   * Trials with results (completed, pruned) for the plots: all of them up to `limit`; past it the
   * Pareto front and every k-th trial by number, an even sample of about `limit` rows. With
   * `finishedAfter`, only the trials finished since (up to `limit`, oldest first): a client's
   * increment. `asOf` is what to pass as `finishedAfter` next time (a few seconds early, so a
   * trial whose transaction began before the read and committed after it is not missed).
   */
  async plotSample(
    searchId: string,
    limit: number,
    finishedAfter?: Date,
  ): Promise<{ total: number; asOf: Date; items: PlotTrial[] }> {
    const [{ as_of }] = await this.db.query<{ as_of: Date | string }>(
      `SELECT now() - interval '5 seconds' AS as_of`,
    );
    const counts = await this.counts(searchId);
    const total = counts.completed + counts.pruned;
    const cols = `id, search_id, number, status, genome, genome_key, map50, map50_95, fp32_map50_95, latency_ms,
         params, gflops, size_bytes, violation, on_front, epochs, epochs_done`;
    const rows = finishedAfter
      ? await this.db.query<Record<string, unknown>>(
          `SELECT ${cols} FROM trials WHERE search_id = $1 AND status IN ('completed', 'pruned')
             AND finished_at > $2::timestamptz ORDER BY finished_at LIMIT $3`,
          [searchId, finishedAfter.toISOString(), Math.max(1, limit)],
        )
      : await this.db.query<Record<string, unknown>>(
          `SELECT ${cols} FROM trials WHERE search_id = $1 AND status IN ('completed', 'pruned')
             AND ($2::int = 1 OR on_front OR number % $2::int = 0)
           ORDER BY number`,
          [searchId, Math.max(1, Math.ceil(total / Math.max(1, limit)))],
        );
    return { total, asOf: new Date(as_of), items: rows.map((r) => toPlotTrial(trialFromRow(r))) };
  }

  /**
   * Per-epoch curves: the running trials' first (they grow live), then the best in the ranked
   * order, `limit` in all.
   */
  async curves(searchId: string, limit: number): Promise<TrialCurve[]> {
    const cols = `id, number, status, epochs, epochs_done, epoch_metrics`;
    const running = await this.db.query<Record<string, unknown>>(
      `SELECT ${cols} FROM trials WHERE search_id = $1 AND status = 'running' ORDER BY number LIMIT $2`,
      [searchId, limit],
    );
    const ranked =
      running.length < limit
        ? await this.db.query<Record<string, unknown>>(
            `SELECT ${cols} FROM trials WHERE search_id = $1 AND status <> 'running' AND epochs_done > 0
             ORDER BY rank_tier ASC, map50_95 DESC NULLS LAST, number ASC LIMIT $2`,
            [searchId, limit - running.length],
          )
        : [];
    return [...running, ...ranked].map(curveFromRow);
  }

  /** Every trial of the search that reached `epoch`, with its mAP at that epoch (ASHA rungs). */
  async rungEntries(searchId: string, epoch: number): Promise<RungEntry[]> {
    const rows = await this.db.query<Record<string, unknown>>(
      `SELECT id, number, latency_ms, size_bytes, params, gflops,
         (SELECT (e->>'map50_95')::float8 FROM jsonb_array_elements(epoch_metrics) e
           WHERE (e->>'epoch')::int = $2 LIMIT 1) AS m
       FROM trials WHERE search_id = $1 AND epochs_done >= $2 AND status <> 'failed'`,
      [searchId, epoch],
    );
    return rows
      .filter((r) => r.m !== null && r.m !== undefined)
      .map((r) => ({
        id: String(r.id),
        number: Number(r.number),
        map50_95: Number(r.m),
        latencyMs: r.latency_ms === null ? null : Number(r.latency_ms),
        sizeBytes: r.size_bytes === null ? null : Number(r.size_bytes),
        params: r.params === null ? null : Number(r.params),
        gflops: r.gflops === null ? null : Number(r.gflops),
      }));
  }

  /** Best feasible completed trial by mAP@0.5:0.95 (ties: earliest). */
  async best(searchId: string, tx?: Sql): Promise<Trial | null> {
    const [row] = await this.db.sql(tx).query(
      `SELECT * FROM trials WHERE search_id = $1 AND ${FEASIBLE_COMPLETED} AND map50_95 IS NOT NULL
       ORDER BY map50_95 DESC NULLS LAST, number LIMIT 1`,
      [searchId],
    );
    return row ? trialFromRow(row) : null;
  }

  /**
   * The search's Pareto front: its non-dominated feasible completed trials (kept in `on_front`
   * as trials complete), best mAP first.
   */
  async pareto(searchId: string, tx?: Sql): Promise<Trial[]> {
    const rows = await this.db
      .sql(tx)
      .query(`SELECT * FROM trials WHERE search_id = $1 AND on_front ORDER BY map50_95 DESC, number`, [
        searchId,
      ]);
    return rows.map(trialFromRow);
  }

  /**
   * Recomputes a search's front from scratch (after bulk inserts that bypass `finish`, or to
   * repair); returns its size.
   */
  async recomputeFront(searchId: string, tx?: Sql): Promise<number> {
    if (!tx) return this.db.transaction((t) => recomputeFront(t, searchId));
    return recomputeFront(tx, searchId);
  }

  /** Summary for the search row: best trial and Pareto size. */
  async bestSoFar(searchId: string, tx?: Sql): Promise<BestSoFar | null> {
    const best = await this.best(searchId, tx);
    if (!best || best.map50_95 === null) return null;
    const [{ n }] = await this.db
      .sql(tx)
      .query<{ n: number }>(`SELECT count(*)::int AS n FROM trials WHERE search_id = $1 AND on_front`, [
        searchId,
      ]);
    return {
      trialId: best.id,
      number: best.number,
      map50: best.map50,
      map50_95: best.map50_95,
      latencyMs: best.latencyMs,
      sizeBytes: best.sizeBytes,
      paretoSize: n!,
    };
  }
}

/**
 * Adds a feasible completed trial to its search's front unless a member dominates it, and drops
 * the members it dominates. The search row is locked so concurrent completions apply in turn.
 * NO KEY UPDATE, not UPDATE: a trial INSERT's foreign-key check takes KEY SHARE on the search row,
 * and a FOR UPDATE waiting behind it closed a deadlock cycle with the per-status count rows
 * (insert holds 'queued', a claim holds 'queued' and waits for 'running', this finish holds 'running').
 */
async function addToFront(tx: Sql, t: Trial): Promise<boolean> {
  const [s] = await tx.query<{ objectives: ObjectiveName[] }>(
    `SELECT objectives FROM searches WHERE id = $1 FOR NO KEY UPDATE`,
    [t.searchId],
  );
  const cols = s!.objectives.map((o) => OBJECTIVE_COLUMNS[o]);
  const minimized = (v: unknown, maximize: boolean) =>
    v === null || v === undefined ? NaN : maximize ? -Number(v) : Number(v);
  const vec = (r: Record<string, unknown>) => cols.map((c) => minimized(r[c.column], c.maximize));
  const p = s!.objectives.map((o, i) => minimized(objectiveDefinition(o).value(t), cols[i]!.maximize));
  if (p.some(Number.isNaN)) return false;
  const members = await tx.query<Record<string, unknown> & { id: string }>(
    `SELECT id, ${[...new Set(cols.map((c) => c.column))].join(', ')}
     FROM trials WHERE search_id = $1 AND on_front AND id <> $2`,
    [t.searchId, t.id],
  );
  if (members.some((m) => dominates(vec(m), p))) return false;
  const beaten = members.filter((m) => dominates(p, vec(m))).map((m) => m.id);
  await tx.query(`UPDATE trials SET on_front = (id = $1) WHERE id = $1 OR id = ANY($2::uuid[])`, [
    t.id,
    beaten,
  ]);
  return true;
}

export function violationOf(constraints: number[] | null | undefined): number | null {
  if (!constraints) return null;
  let v = 0;
  for (const c of constraints) v += Number.isNaN(c) ? Infinity : Math.max(0, c);
  return Number.isFinite(v) ? v : 1e308;
}
