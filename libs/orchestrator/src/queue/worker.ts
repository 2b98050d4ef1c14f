import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { openArtifactStore, type ArtifactStore, type ArtifactStoreOptions } from '@detsearch/artifacts';
import { getHardwareProfile } from '@detsearch/latency';
import {
  createDataSource,
  MeasurementRepository,
  SearchRepository,
  SupernetRepository,
  TrialRepository,
  WorkerRepository,
  type Database,
  type Search,
  type Tx,
} from '@detsearch/persistence';
import { createEvaluatorRegistry, type EvaluatorLoader } from '../evaluators/registry';
import { SupernetEvaluator } from '../evaluators/supernet';
import { SupernetService } from '../supernets/supernet-service';
import { TrialJobHandler, type EventSink } from '../trial-job';
import type { EvaluatorSettings, SearchEvent, TrialEvaluator } from '../types';
import { recalibrateFromMeasurements, runMeasurement, type MeasureSettings } from './measurements';
import { channelFor, PgNotifier } from './notifier';
import {
  measurementQueue,
  PgBossDispatcher,
  PgBossQueue,
  TRIAL_QUEUE,
  type MeasurementJobData,
  type TrialJobData,
} from './pg-boss-queue';
import { DEFAULT_MAX_ATTEMPTS, DEFAULT_STALE_MS, TrialReaper } from './reaper';

export const DEFAULT_HEARTBEAT_MS = 5_000;

export interface QueueWorkerOptions {
  databaseUrl: string;
  /** DETSEARCH_HOME: where the 'supernet' evaluator finds supernets and writes trial artifacts. */
  home?: string;
  /** The detsearch tables' schema (default public). */
  schema?: string;
  /** pg-boss's schema (default 'pgboss'). */
  queueSchema?: string;
  /** 'trials' (default) or, on a device, 'measure' latency for `profile`. */
  kind?: 'trials' | 'measure';
  profile?: string;
  /** Jobs at once (default 1: training uses the cores). */
  concurrency?: number;
  /** Trial heartbeat and worker registry renewal (default 5 s). */
  heartbeatMs?: number;
  /** A trial attempt silent this long is presumed dead (default 30 s). */
  staleMs?: number;
  /** Attempts per trial before a lost one fails (default 3). */
  maxAttempts?: number;
  /** Poll for jobs this often when no notification arrives (default 2 s). */
  pollMs?: number;
  /** On stop, let running trials finish this long before releasing them (default 10 s). */
  graceMs?: number;
  evaluators?: Record<string, EvaluatorLoader | TrialEvaluator>;
  /** Settings the evaluators are created with (home, data root, backend). */
  evaluatorSettings?: EvaluatorSettings;
  measure?: MeasureSettings;
  /** Where trial models and weights go (default: the Postgres store, which the API reads too). */
  artifacts?: ArtifactStoreOptions;
  /** Postgres connections of this process's pool (default 2 + concurrency). */
  poolSize?: number;
  id?: string;
  log?: (msg: string, extra?: Record<string, unknown>) => void;
}

export interface WorkerStats {
  finished: number;
  notClaimed: number;
  lost: number;
  released: number;
}

/** host:pid:random, unique per process start, readable in the trial rows. */
export const newWorkerId = (): string => `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

/**
 * A `detsearch worker` process: takes jobs from pg-boss, evaluates trials with the shared
 * TrialJobHandler (or measures latency on a device), heartbeats, and sweeps for attempts whose
 * workers died. Jobs are fetched by this loop rather than pg-boss's `work()` so that a NOTIFY
 * wakes an idle worker at once and a slot is refilled the moment it frees up.
 */
export class QueueWorker {
  readonly id: string;
  readonly kind: 'trials' | 'measure';
  readonly stats: WorkerStats = { finished: 0, notClaimed: 0, lost: 0, released: 0 };
  /** Resolves when the fetch loop has ended (after stop()). */
  done: Promise<void> = Promise.resolve();
  private readonly active = new Map<
    string,
    { promise: Promise<void>; searchId?: string; abort: AbortController }
  >();
  private stopping = false;
  private wake: (() => void) | null = null;
  private pending = false;
  private timers: (() => void)[] = [];
  private stopped: Promise<void> | null = null;
  private readonly trials: TrialRepository;
  private readonly measurements: MeasurementRepository;
  private readonly workers: WorkerRepository;
  private readonly reaper: TrialReaper;
  private readonly handler: TrialJobHandler;
  private readonly queueName: string;
  private readonly searches: SearchRepository;
  readonly artifacts: ArtifactStore;
  /** Searches by id: what a trial job needs of them (space, objectives, fidelity) never changes. */
  private readonly searchCache = new Map<string, { search: Search; at: number }>();

  private constructor(
    private readonly db: Database,
    private readonly queue: PgBossQueue,
    private readonly notifier: PgNotifier,
    private readonly options: QueueWorkerOptions,
  ) {
    this.id = options.id ?? newWorkerId();
    this.kind = options.kind ?? 'trials';
    this.queueName = this.kind === 'trials' ? TRIAL_QUEUE : measurementQueue(options.profile!);
    this.trials = new TrialRepository(db);
    this.measurements = new MeasurementRepository(db);
    this.workers = new WorkerRepository(db);
    this.searches = new SearchRepository(db);
    const dispatcher = new PgBossDispatcher(queue);
    this.reaper = new TrialReaper(db, this.trials, dispatcher, options, options.log);
    this.artifacts = openArtifactStore({ home: options.home, ...options.artifacts }, db);
    const registry = createEvaluatorRegistry(options.evaluators, options.evaluatorSettings);
    if (!options.evaluators?.supernet) {
      // Scores trials on the supernet the search's runner found or trained (its id is on the search).
      const service = new SupernetService({
        db,
        artifacts: this.artifacts,
        supernets: new SupernetRepository(db),
        home: resolve(options.home ?? '.detsearch'),
        runnerId: this.id,
        ...(options.evaluatorSettings?.dataRoot ? { dataRoot: options.evaluatorSettings.dataRoot } : {}),
        log: options.log,
      });
      registry.register('supernet', () => new SupernetEvaluator({ service, searches: this.searches }));
    }
    const events: EventSink = {
      publish: (event: SearchEvent) => notifier.notify(db, { kind: 'event', origin: this.id, event }),
      publishInTx: (event: SearchEvent, tx: Tx) =>
        notifier.notify(tx, { kind: 'event', origin: this.id, event }),
    };
    this.handler = new TrialJobHandler({
      db,
      searches: this.searches,
      trials: this.trials,
      evaluatorFor: (name) => registry.get(name),
      events,
      heartbeatMs: this.heartbeatMs,
      backgroundEvents: true,
      artifacts: this.artifacts,
      log: options.log,
    });
  }

  static async start(options: QueueWorkerOptions): Promise<QueueWorker> {
    if (!options.databaseUrl)
      throw new Error(
        'detsearch worker needs DATABASE_URL (the Postgres that the API and the other workers share)',
      );
    const kind = options.kind ?? 'trials';
    if (kind === 'measure') {
      if (!options.profile) throw new Error('a --measure-only worker needs --profile NAME');
      getHardwareProfile(options.profile); // an unknown profile fails here, not on the first job
    }
    const concurrency = Math.max(1, options.concurrency ?? 1);
    const db = await createDataSource({
      databaseUrl: options.databaseUrl,
      schema: options.schema,
      poolSize: options.poolSize ?? 2 + concurrency,
    });
    let notifier: PgNotifier | null = null;
    try {
      notifier = await new PgNotifier(options.databaseUrl, channelFor(options.schema), options.log).start();
      const queue = await PgBossQueue.start(db, {
        schema: options.queueSchema,
        notifier,
        log: options.log,
      });
      if (kind === 'measure') await queue.ensureQueue(measurementQueue(options.profile!));
      const worker = new QueueWorker(db, queue, notifier, { ...options, kind, concurrency });
      await worker.register();
      worker.done = worker.loop();
      return worker;
    } catch (err) {
      await notifier?.close();
      await db.close();
      throw err;
    }
  }

  get concurrency(): number {
    return this.options.concurrency ?? 1;
  }

  private get heartbeatMs(): number {
    return this.options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  }

  /** Jobs running now. */
  get busy(): number {
    return this.active.size;
  }

  private async register(): Promise<void> {
    const me = {
      id: this.id,
      host: hostname(),
      pid: process.pid,
      kind: this.kind,
      profile: this.options.profile ?? null,
      concurrency: this.concurrency,
    };
    await this.workers.beat(me);
    const beat = setInterval(
      () =>
        void this.workers
          .beat(me)
          .catch((err) => this.options.log?.('registry heartbeat failed', { error: String(err) })),
      this.heartbeatMs,
    );
    beat.unref();
    this.timers.push(() => clearInterval(beat));
    const staleMs = this.options.staleMs ?? DEFAULT_STALE_MS;
    if (this.kind === 'trials') this.timers.push(this.reaper.every(Math.max(250, staleMs / 2)));
    else {
      const sweep = setInterval(() => void this.requeueLostMeasurements(staleMs), Math.max(250, staleMs / 2));
      sweep.unref();
      this.timers.push(() => clearInterval(sweep));
    }
    this.timers.push(
      this.notifier.on((m) => {
        if (m.kind === 'jobs' && m.queue === this.queueName) this.poke();
        // A cancelled (or otherwise ended) search: stop its trials now rather than at the next heartbeat.
        if (m.kind === 'event' && m.event.type === 'search-completed')
          for (const a of this.active.values())
            if (a.searchId === m.event.searchId) a.abort.abort('search ended');
      }),
    );
  }

  private poke(): void {
    if (this.wake) this.wake();
    else this.pending = true;
  }

  private async loop(): Promise<void> {
    const pollMs = this.options.pollMs ?? 2000;
    while (!this.stopping) {
      try {
        while (this.active.size < this.concurrency && !this.stopping) {
          const [job] = await this.queue.fetch<TrialJobData | MeasurementJobData>(this.queueName, 1);
          if (!job) break;
          this.startJob(job.id, job.data);
        }
      } catch (err) {
        this.options.log?.('fetching jobs failed', { error: String(err) });
      }
      if (this.stopping) break;
      if (this.pending) {
        this.pending = false;
        continue;
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, pollMs);
        function done() {
          clearTimeout(t);
          resolve();
        }
        this.wake = () => {
          this.wake = null;
          done();
        };
      });
      this.wake = null;
    }
  }

  private startJob(jobId: string, data: TrialJobData | MeasurementJobData): void {
    const abort = new AbortController();
    const searchId = 'searchId' in data ? data.searchId : undefined;
    const promise = this.runJob(jobId, data, abort.signal).finally(() => {
      this.active.delete(jobId);
      this.poke();
    });
    this.active.set(jobId, { promise, abort, ...(searchId ? { searchId } : {}) });
  }

  private async runJob(jobId: string, data: TrialJobData | MeasurementJobData, signal: AbortSignal) {
    try {
      if ('measurementId' in data) {
        const settings = { ...this.options.measure };
        const threads = settings.threads ?? getHardwareProfile(data.profile).threads;
        const r = await runMeasurement(this.measurements, data.measurementId, this.id, {
          ...settings,
          threads,
        });
        if (r === 'not-claimed') this.stats.notClaimed++;
        else this.stats.finished++;
        if (r === 'done' && settings.calibrationHome) {
          const fit = await recalibrateFromMeasurements(
            this.measurements,
            data.profile,
            settings.calibrationHome,
            settings.minCalibrationSamples,
          ).catch((err: unknown) => {
            this.options.log?.('recalibration failed', { profile: data.profile, error: String(err) });
            return null;
          });
          if (fit)
            this.options.log?.('profile recalibrated from device measurements', {
              profile: data.profile,
              ...fit,
            });
        }
      } else {
        const search = await this.search(data.searchId);
        const ctx = { workerId: this.id, signal, ...(search ? { search } : {}) };
        let r = await this.handler.run(data.trialId, ctx);
        if (r.outcome === 'not-claimed') {
          // A job delivered again after pg-boss expired it: its attempt may have died silently.
          // Reap now (which re-queues it with a fresh job) instead of waiting for the next sweep.
          const reaped = await this.reaper.sweep();
          if (reaped.requeued.some((t) => t.id === data.trialId))
            r = await this.handler.run(data.trialId, ctx);
        }
        if (r.outcome === 'finished') this.stats.finished++;
        else if (r.outcome === 'not-claimed') this.stats.notClaimed++;
        else if (r.outcome === 'lost') this.stats.lost++;
      }
      await this.queue.complete(this.queueName, jobId);
    } catch (err) {
      this.options.log?.('job failed', { jobId, error: String(err) });
      // pg-boss retries it; the trial row decides whether there is anything left to do.
      await this.queue.fail(this.queueName, jobId, err).catch((e) =>
        this.options.log?.('could not record a job failure; the reaper re-dispatches its trial', {
          jobId,
          error: String(e),
        }),
      );
    }
  }

  private async search(id: string): Promise<Search | null> {
    const hit = this.searchCache.get(id);
    if (hit && Date.now() - hit.at < 60_000) return hit.search;
    const search = await this.searches.get(id);
    if (search) this.searchCache.set(id, { search, at: Date.now() });
    if (this.searchCache.size > 100) this.searchCache.delete(this.searchCache.keys().next().value!);
    return search;
  }

  private async requeueLostMeasurements(staleMs: number): Promise<void> {
    try {
      await this.db.transaction(async (tx) => {
        const ms = await this.measurements.requeue({ staleMs }, tx);
        await this.queue.sendMeasurements(tx, ms);
      });
    } catch (err) {
      this.options.log?.('measurement sweep failed', { error: String(err) });
    }
  }

  /**
   * Graceful stop (SIGTERM): take no new jobs, give running ones `graceMs` to finish, then abort
   * them and hand them back (re-queued with fresh jobs in one transaction), unregister, close.
   */
  stop(graceMs = this.options.graceMs ?? 10_000): Promise<void> {
    if (!this.stopped) this.stopped = this.shutdown(graceMs);
    return this.stopped;
  }

  private async shutdown(graceMs: number): Promise<void> {
    this.stopping = true;
    this.poke();
    await this.done;
    const running = () => Promise.allSettled([...this.active.values()].map((a) => a.promise));
    if (this.active.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([running(), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
    }
    for (const a of this.active.values()) a.abort.abort('worker shutting down');
    await running();
    for (const stop of this.timers) stop();
    await this.handler.flush();
    try {
      await this.db.transaction(async (tx) => {
        if (this.kind === 'trials') {
          const released = await this.trials.release(this.id, tx);
          this.stats.released += released.length;
          await this.queue.sendTrials(tx, released);
        } else {
          const released = await this.measurements.requeue({ workerIds: [this.id] }, tx);
          this.stats.released += released.length;
          await this.queue.sendMeasurements(tx, released);
        }
        await this.workers.remove(this.id, tx);
      });
    } catch (err) {
      this.options.log?.('could not release work on shutdown', { error: String(err) });
    }
    await this.queue.stop().catch(() => undefined);
    await this.notifier.close();
    await this.artifacts.close();
    await this.db.close();
  }
}

export { DEFAULT_MAX_ATTEMPTS, DEFAULT_STALE_MS };
