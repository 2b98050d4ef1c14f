import PgBoss from 'pg-boss';
import type { Database, LatencyMeasurement, Sql, Trial, Tx } from '@detsearch/persistence';
import type { TrialDispatcher } from '../search-runner';
import type { PgNotifier } from './notifier';

export const TRIAL_QUEUE = 'detsearch-trials';
/** One queue per hardware profile, so a device worker takes only the jobs for its device. */
export const measurementQueue = (profile: string): string => `detsearch-latency-${profile}`;

export interface TrialJobData {
  trialId: string;
  searchId: string;
}

export interface MeasurementJobData {
  measurementId: string;
  profile: string;
}

export interface PgBossQueueOptions {
  /** pg-boss's schema (default 'pgboss'; tests use one per file). */
  schema?: string;
  /**
   * Backstop for a job whose worker vanished when no reaper runs: pg-boss expires it after this
   * long and delivers it again (default 2 h; heartbeats normally detect a dead worker in seconds).
   */
  expireInSeconds?: number;
  /** Run pg-boss maintenance (expiry, archiving) from this process (default true). */
  supervise?: boolean;
  notifier?: PgNotifier;
  log?: (msg: string, extra?: Record<string, unknown>) => void;
}

/** pg-boss's connection interface over a detsearch transaction. */
const bossDb = (sql: Sql): PgBoss.Db => ({
  executeSql: async (text: string, values: unknown[]) => ({ rows: await sql.query(text, values) }),
});

/**
 * pg-boss's connection interface over the detsearch pool. Its scripted transactions (install,
 * migrations, maintenance: "BEGIN; ...; COMMIT;" in one string) leave the session in an aborted
 * transaction when they fail, e.g. when two processes install the schema at once; it is rolled
 * back here before the connection returns to the shared pool.
 */
const poolDb = (db: Database): PgBoss.Db => ({
  executeSql: async (text: string, values: unknown[]) => {
    if (!/^\s*BEGIN\b/im.test(text)) return { rows: await db.query(text, values) };
    const runner = db.dataSource.createQueryRunner();
    try {
      const r = await runner.query(text, values, true);
      return { rows: (r.records ?? []) as unknown[] };
    } catch (err) {
      await runner.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      await runner.release();
    }
  },
});

/**
 * pg-boss on the detsearch database, sharing its connection pool (so a worker holds a handful of
 * connections, not two pools), with the queues detsearch uses. Jobs are inserted through the
 * caller's transaction, so a trial row and its job commit together or not at all.
 */
export class PgBossQueue {
  private readonly created = new Set<string>();

  private constructor(
    readonly boss: PgBoss,
    private readonly db: Database,
    private readonly options: PgBossQueueOptions,
  ) {}

  static async start(db: Database, options: PgBossQueueOptions = {}): Promise<PgBossQueue> {
    if (db.kind !== 'postgres')
      throw new Error(
        'the pg-boss queue needs Postgres (DATABASE_URL); embedded mode runs trials in-process',
      );
    const boss = new PgBoss({
      db: poolDb(db),
      schema: options.schema ?? 'pgboss',
      supervise: options.supervise ?? true,
      // detsearch schedules nothing; the cron clock would only add polling.
      schedule: false,
      migrate: true,
    });
    boss.on('error', (err) => options.log?.('pg-boss error', { error: String(err) }));
    const q = new PgBossQueue(boss, db, options);
    // pg-boss's own install guard loses a race on CREATE SCHEMA when a fleet starts at once on a
    // fresh database; processes install one at a time, the later ones find it installed.
    await q.installLocked(() => boss.start());
    await q.ensureQueue(TRIAL_QUEUE);
    return q;
  }

  /** Runs `fn` under a session advisory lock per pg-boss schema (installs and queue creation). */
  private async installLocked<T>(fn: () => Promise<T>): Promise<T> {
    const lock = this.db.dataSource.createQueryRunner();
    const key = `detsearch-pgboss:${this.options.schema ?? 'pgboss'}`;
    try {
      await lock.query(`SELECT pg_advisory_lock(hashtext($1))`, [key]);
      return await fn();
    } finally {
      await lock.query(`SELECT pg_advisory_unlock(hashtext($1))`, [key]).catch(() => undefined);
      await lock.release();
    }
  }

  get notifier(): PgNotifier | undefined {
    return this.options.notifier;
  }

  async ensureQueue(name: string): Promise<void> {
    if (this.created.has(name)) return;
    // Idempotent in pg-boss 10 (ON CONFLICT DO NOTHING), but two processes creating the same
    // queue's partition at once deadlock: one at a time.
    await this.installLocked(() =>
      this.boss.createQueue(name, {
        name,
        // A handler that throws (e.g. the database blinked) is retried; a dead worker is the reaper's.
        retryLimit: 5,
        retryDelay: 2,
        expireInSeconds: this.options.expireInSeconds ?? 7200,
      }),
    );
    this.created.add(name);
  }

  get schema(): string {
    return this.options.schema ?? 'pgboss';
  }

  /**
   * Queued trials of live searches that no job will deliver: none waiting, and none taken by a
   * worker within `staleMs` (a worker that fetched the job and then lost its connection before
   * claiming the trial, or whose `fail` never reached the database, leaves the job active until it
   * expires, hours later). Locked (SKIP LOCKED) in `tx` so concurrent sweepers split them.
   */
  async orphanedTrials(
    tx: Sql,
    staleMs: number,
    searchId?: string,
  ): Promise<Pick<Trial, 'id' | 'searchId'>[]> {
    const rows = await tx.query<{ id: string; search_id: string }>(
      `SELECT t.id, t.search_id FROM trials t JOIN searches s ON s.id = t.search_id
       WHERE t.status = 'queued' AND s.status IN ('queued', 'running')
         AND ($3::uuid IS NULL OR t.search_id = $3)
         AND NOT EXISTS (
           SELECT 1 FROM "${this.schema}".job j
           WHERE j.name = $1 AND j.data->>'trialId' = t.id::text
             AND (j.state IN ('created', 'retry')
               OR (j.state = 'active' AND j.started_on > now() - make_interval(secs => $2::float8 / 1000))))
       FOR UPDATE OF t SKIP LOCKED`,
      [TRIAL_QUEUE, staleMs, searchId ?? null],
    );
    return rows.map((r) => ({ id: r.id, searchId: r.search_id }));
  }

  /** Inserts one job per trial in `tx` (one statement) and wakes idle workers on commit. */
  async sendTrials(tx: Sql, trials: Pick<Trial, 'id' | 'searchId'>[]): Promise<void> {
    if (trials.length === 0) return;
    await this.boss.insert(
      trials.map((t) => ({ name: TRIAL_QUEUE, data: { trialId: t.id, searchId: t.searchId } })),
      { db: bossDb(tx) },
    );
    await this.options.notifier?.notify(tx, { kind: 'jobs', queue: TRIAL_QUEUE });
  }

  async sendMeasurements(tx: Sql, measurements: LatencyMeasurement[]): Promise<void> {
    const byQueue = new Map<string, LatencyMeasurement[]>();
    for (const m of measurements)
      byQueue.set(measurementQueue(m.profile), [...(byQueue.get(measurementQueue(m.profile)) ?? []), m]);
    for (const [name, ms] of byQueue) {
      await this.ensureQueue(name);
      await this.boss.insert(
        ms.map((m) => ({ name, data: { measurementId: m.id, profile: m.profile } })),
        { db: bossDb(tx) },
      );
      await this.options.notifier?.notify(tx, { kind: 'jobs', queue: name });
    }
  }

  /** Takes up to `n` waiting jobs (SKIP LOCKED: each job goes to exactly one taker). */
  async fetch<T extends object>(name: string, n = 1): Promise<PgBoss.Job<T>[]> {
    return this.boss.fetch<T>(name, { batchSize: n });
  }

  /** Marks a job done, retrying through a dropped connection (an unrecorded end leaves it active). */
  async complete(name: string, id: string): Promise<void> {
    await withRetries(() => this.boss.complete(name, id));
  }

  /** Marks a job failed (pg-boss delivers it again), retrying through a dropped connection. */
  async fail(name: string, id: string, error: unknown): Promise<void> {
    const message = error instanceof Error ? error.message : String(error);
    await withRetries(() => this.boss.fail(name, id, { message }));
  }

  async stop(): Promise<void> {
    // Jobs in hand are released by the worker itself (trial rows re-queued with new jobs).
    await this.boss.stop({ graceful: false, close: false, wait: true });
  }
}

/** The search runner's hook: a trial's job is inserted in the transaction that creates the trial. */
export class PgBossDispatcher implements TrialDispatcher {
  constructor(private readonly queue: PgBossQueue) {}

  enqueue(tx: Tx, trials: Pick<Trial, 'id' | 'searchId'>[]): Promise<void> {
    return this.queue.sendTrials(tx, trials);
  }

  orphans(tx: Tx, staleMs: number, searchId?: string): Promise<Pick<Trial, 'id' | 'searchId'>[]> {
    return this.queue.orphanedTrials(tx, staleMs, searchId);
  }
}

/** Runs `fn`, again after 0.2, 1 and 3 s when it throws (a connection killed under it). */
async function withRetries<T>(fn: () => Promise<T>, delays = [200, 1000, 3000]): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= delays.length) throw err;
      await new Promise((r) => setTimeout(r, delays[i]));
    }
  }
}
