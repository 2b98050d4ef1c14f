import { randomUUID } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  fetchToFile,
  HashTap,
  openArtifactStore,
  ownerOf,
  searchPrefix,
  type ArtifactInfo,
  type ArtifactStore,
  type ArtifactStoreOptions,
} from '@detsearch/artifacts';
import { cpus, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DomainError } from '@detsearch/common';
import { objectiveValues, type EvaluatorInfo } from '@detsearch/domain';
import { getHardwareProfile, type HardwareProfile } from '@detsearch/latency';
import {
  createDataSource,
  SearchRepository,
  SupernetRepository,
  TrialRepository,
  WorkerRepository,
  type Database,
  type LeaderboardTrial,
  type ListTrialsQuery,
  type NewSearch,
  type Search,
  type Supernet,
  type Trial,
  type TrialPage,
} from '@detsearch/persistence';
import { toCsv } from '@detsearch/report';
import {
  hypervolumeView,
  plotTrialsView,
  type CurvesView,
  type HypervolumeView,
  type ImportanceObjective,
  type PlotTrialsView,
} from './analysis';
import { createEvaluatorRegistry, type EvaluatorLoader, type EvaluatorRegistry } from './evaluators/registry';
import { SearchEventBus, searchEventStream } from './events';
import { requestedSupernetMinutes, resolveLaunch, supernetAdaptSteps, type LaunchDeps } from './launch';
import {
  distinctTrainings,
  estimateSearchDuration,
  type DurationEstimate,
  type SupernetPlan,
} from './estimate';
import { measuredThroughput } from './throughput';
import { DEFAULT_SYNTHETIC, SYNTHETIC_VAL_FRACTION } from './evaluators/full';
import type { SearchSpaceSpec } from '@detsearch/search-space';
import { SupernetEvaluator } from './evaluators/supernet';
import { SUPERNET_RECIPE } from '@detsearch/supernet';
import { spaceFingerprint } from './supernets/fingerprint';
import { SupernetService, type SupernetServiceOptions } from './supernets/supernet-service';
import { toSupernetView, type SupernetView } from './supernets/view';
import { channelFor, PgNotifier } from './queue/notifier';
import { PgBossDispatcher, PgBossQueue } from './queue/pg-boss-queue';
import { DEFAULT_STALE_MS, TrialReaper, type ReaperOptions } from './queue/reaper';
import {
  CANCELLED_REASON,
  progressOf,
  SearchRunner,
  type QueueMode,
  type TrialDispatcher,
} from './search-runner';
import type { EventSink } from './trial-job';
import type {
  HealthReport,
  ParetoFrontView,
  ParetoPoint,
  SearchEvent,
  SearchView,
  TrialEvaluator,
  EvaluatorSettings,
} from './types';

export interface OrchestratorOptions {
  /** Postgres URL; absent: embedded PGlite under `home`. */
  databaseUrl?: string;
  /** DETSEARCH_HOME (default ./.detsearch). */
  home?: string;
  inMemory?: boolean;
  /** Postgres schema (test isolation). */
  schema?: string;
  /** Trials evaluated at once per search in this process (default 2; the apps pass WORKER_CONCURRENCY). */
  concurrency?: number;
  /**
   * How long a search's runner may go silent before another process takes it over (default 30 s).
   * Embedded PGlite is single-process, so there every unfinished search is resumed on open.
   */
  leaseMs?: number;
  /** Resume orphaned searches on open and keep sweeping for them (default true). */
  resumeOrphans?: boolean;
  /**
   * Leave resuming to a later `startResuming()` call (a server calls it once it listens, so a
   * restart with a search to resume answers requests at once).
   */
  deferResume?: boolean;
  /** Extra or replacement evaluators (e.g. the 'full' one once it exists). */
  evaluators?: Record<string, EvaluatorLoader | TrialEvaluator>;
  /** Settings the evaluators are created with (`home` and `dataRoot` default to the options here). */
  evaluatorSettings?: EvaluatorSettings;
  /** DATA_ROOT: datasets named by searches are read only below it (default: the working directory). */
  dataRoot?: string;
  dispatcher?: TrialDispatcher;
  /**
   * Distributed mode (needs Postgres): trials become pg-boss jobs, created in the transaction that
   * creates their rows, and `detsearch worker` processes evaluate them; this process only runs the
   * search loops, relays progress and reaps lost attempts (the DETSEARCH_DISTRIBUTED setting).
   * Off (default): trials run in this process (the embedded behaviour), same job handler.
   */
  distributed?: boolean;
  /** pg-boss's schema in distributed mode (default 'pgboss', or '<schema>_pgboss' with `schema`). */
  queueSchema?: string;
  /** Distributed: trials kept queued beyond the live workers' slots, so a freed worker never waits for the loop. */
  prefetch?: number;
  /** Distributed: how often a loop re-reads its rows without a notification (default 1 s). */
  pollMs?: number;
  /** Distributed: when an attempt counts as lost, and how many attempts a trial gets. */
  reaper?: ReaperOptions;
  /** Launch-time lookups, replaceable in tests. */
  launch?: Omit<LaunchDeps, 'assertEvaluator' | 'supernetSpec'>;
  /**
   * Where models, weights and supernets are stored (ARTIFACT_STORE): by default the database on
   * Postgres (every machine reaches it), files under `home` on the embedded database.
   */
  artifacts?: ArtifactStoreOptions;
  /** Supernet training: default budget (minutes) and, for tests of the plumbing, the library loader. */
  supernets?: Pick<SupernetServiceOptions, 'defaultMinutes' | 'loadLibrary' | 'synthetic'>;
  log?: (msg: string, extra?: Record<string, unknown>) => void;
}

/** A trial's model, ready to stream, with what a download announces. */
export interface TrialModelDownload extends ArtifactInfo {
  stream: Readable;
  /** trial-<id>.onnx */
  filename: string;
}

export interface SearchArtifactsView {
  searchId: string;
  store: string;
  count: number;
  bytes: number;
  items: { key: string; size: number; sha256: string; createdAt: string }[];
}

export interface GcReport {
  dryRun: boolean;
  store: string;
  location: string;
  scanned: number;
  orphans: { key: string; size: number }[];
  orphanBytes: number;
  pending: { removed: number; bytes: number };
}

/** A duration estimate with what it was made for. */
export interface SearchEstimate extends DurationEstimate {
  evaluator: string;
  /** Whether the trials would train on the generated synthetic shapes (no dataset named). */
  dataset: { synthetic: boolean };
}

/** The synthetic dataset's split: the generator puts this fraction in val. */
function syntheticSplit(images: number): { train: number; val: number } {
  const val = Math.round(images * SYNTHETIC_VAL_FRACTION);
  return { train: images - val, val };
}

export interface CloseOptions {
  /** Simulate a crash: stop every loop without writing anything more (tests). */
  abandon?: boolean;
}

const CSV_COLUMNS = [
  'trial_id',
  'number',
  'map50_95',
  'map50',
  'latency_ms',
  'latency_source',
  'latency_provenance',
  'reused',
  'reused_from_trial_id',
  'size_bytes',
  'params',
  'gflops',
  'evaluator',
  'backend',
  'estimate_map50_95',
  'finetuned_map50_95',
  'finetuned_map50',
  'genome_key',
  'genome',
] as const;

/**
 * The facade the API, the CLI and tests use: launch, follow, cancel and resume searches, read
 * leaderboards and Pareto fronts. Plain class, no framework. Unknown ids throw DomainErrors
 * with codes ending in NOT_FOUND; invalid input throws DomainErrors naming the field.
 */
export class SearchOrchestrator {
  readonly runnerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly runners = new Map<string, SearchRunner>();
  private readonly starting = new Set<string>();
  private readonly bus = new SearchEventBus();
  private readonly profiles = new Map<string, HardwareProfile>();
  private sweeper: NodeJS.Timeout | null = null;
  private closing = false;
  readonly searches: SearchRepository;
  readonly trials: TrialRepository;
  readonly workers: WorkerRepository;
  readonly supernetRepository: SupernetRepository;
  /** Weight-sharing supernets: found, trained (child processes) and followed here. */
  readonly supernets: SupernetService;
  /** Models, weights and supernets of every trial, whichever machine produced them. */
  readonly artifacts: ArtifactStore;
  /** Distributed mode: the queue, its notification channel and the lost-attempt reaper. */
  private queue: {
    boss: PgBossQueue;
    notifier: PgNotifier;
    reaper: TrialReaper;
    stopReaper: () => void;
  } | null = null;

  private constructor(
    readonly db: Database,
    readonly evaluators: EvaluatorRegistry,
    private readonly options: OrchestratorOptions,
  ) {
    this.searches = new SearchRepository(db);
    this.trials = new TrialRepository(db);
    this.workers = new WorkerRepository(db);
    this.supernetRepository = new SupernetRepository(db);
    this.artifacts = openArtifactStore({ home: options.home, ...options.artifacts }, db);
    this.supernets = new SupernetService({
      db,
      artifacts: this.artifacts,
      supernets: this.supernetRepository,
      home: resolve(options.home ?? '.detsearch'),
      runnerId: this.runnerId,
      ...(options.dataRoot ? { dataRoot: options.dataRoot } : {}),
      getPreset: options.launch?.getPreset,
      defaultSearchSpace: options.launch?.defaultSearchSpace,
      log: options.log,
      ...options.supernets,
    });
    if (!options.evaluators?.supernet)
      evaluators.register(
        'supernet',
        () => new SupernetEvaluator({ service: this.supernets, searches: this.searches }),
      );
  }

  static async open(options: OrchestratorOptions = {}): Promise<SearchOrchestrator> {
    const distributed = options.distributed ?? false;
    if (distributed && !options.databaseUrl)
      throw new DomainError(
        'ORCHESTRATOR.DISTRIBUTED_NEEDS_POSTGRES',
        'distributed mode (DETSEARCH_DISTRIBUTED) needs DATABASE_URL: workers on other machines share the Postgres queue',
        'DATABASE_URL',
      );
    const db = await createDataSource({
      databaseUrl: options.databaseUrl,
      home: options.home,
      inMemory: options.inMemory,
      schema: options.schema,
    });
    const evaluators = createEvaluatorRegistry(options.evaluators, {
      home: options.home,
      dataRoot: options.dataRoot,
      ...options.evaluatorSettings,
    });
    const o = new SearchOrchestrator(db, evaluators, options);
    if (distributed) {
      try {
        await o.startQueue(options.databaseUrl!);
      } catch (err) {
        await o.close();
        throw err;
      }
    }
    if (db.kind === 'pglite') await o.endOrphanedSupernets();
    if (options.resumeOrphans !== false && !options.deferResume) await o.startResuming();
    return o;
  }

  /**
   * Resumes the searches that were running when their process stopped (each one logged) and keeps
   * sweeping for searches whose runner dies. Cancelled, interrupted (Ctrl-C) and finished searches
   * are left alone: only `resume` restarts those.
   */
  async startResuming(): Promise<void> {
    if (this.sweeper || this.closing) return;
    const every = Math.max(1000, this.leaseMs);
    this.sweeper = setInterval(() => void this.resumeOrphans().catch(() => undefined), every);
    this.sweeper.unref();
    await this.resumeOrphans();
  }

  private get leaseMs(): number {
    return this.options.leaseMs ?? 30_000;
  }

  /** Whether trials go to `detsearch worker` processes through pg-boss. */
  get distributed(): boolean {
    return this.queue !== null;
  }

  private async startQueue(databaseUrl: string): Promise<void> {
    const log = this.options.log;
    const schema = this.options.schema;
    const notifier = await new PgNotifier(databaseUrl, channelFor(schema), log).start();
    try {
      const boss = await PgBossQueue.start(this.db, {
        schema: this.options.queueSchema ?? (schema ? `${schema}_pgboss` : undefined),
        notifier,
        log,
      });
      const reaper = new TrialReaper(
        this.db,
        this.trials,
        new PgBossDispatcher(boss),
        this.options.reaper,
        log,
      );
      const stopReaper = reaper.every(Math.max(250, reaper.staleMs / 2));
      // Progress from workers (and other API processes) reaches this process's SSE streams.
      notifier.on((m) => {
        if (m.kind === 'event' && m.origin !== this.runnerId) this.bus.publish(m.event);
      });
      this.queue = { boss, notifier, reaper, stopReaper };
    } catch (err) {
      await notifier.close();
      throw err;
    }
  }

  /** PGlite is one process: nobody else can be driving its searches. */
  private get staleMs(): number {
    return this.db.kind === 'pglite' ? 0 : this.leaseMs;
  }

  // ------------------------------------------------------------ lifecycle

  async createSearch(body: unknown): Promise<{ id: string; status: Search['status'] }> {
    this.assertOpen();
    const resolved = await resolveLaunch(body, this.launchDeps());
    const search = await this.searches.create(resolved);
    await this.startRunner(search);
    return { id: search.id, status: search.status };
  }

  /**
   * How long a launch request would take here, before anything is created: the request resolved as
   * createSearch would, the dataset's image count, and this machine's measured training throughput
   * (stored, or probed once in a child process).
   */
  async estimateSearch(body: unknown): Promise<SearchEstimate> {
    this.assertOpen();
    const resolved = await resolveLaunch(body, this.launchDeps());
    const training = resolved.evaluator !== 'surrogate';
    let images = { train: 0, val: 0 };
    if (training)
      images = resolved.dataset
        ? await (await import('@detsearch/training')).countDatasetImages(resolved.dataset)
        : syntheticSplit(DEFAULT_SYNTHETIC.images);
    const evaluator = await this.evaluators.get(resolved.evaluator);
    const trainings = evaluator.trainingKey
      ? distinctTrainings(resolved.searchSpace as unknown as SearchSpaceSpec, (g) =>
          evaluator.trainingKey!(g, resolved.fidelity),
        )
      : undefined;
    const estimate = estimateSearchDuration({
      ...(trainings !== undefined ? { trainings } : {}),
      evaluator: resolved.evaluator,
      trials: resolved.budget.trials,
      fidelity: resolved.fidelity,
      searchSpace: resolved.searchSpace as unknown as SearchSpaceSpec,
      parallel: Math.max(1, Math.min(this.options.concurrency ?? 2, this.queue ? Infinity : cpus().length)),
      trainImages: images.train,
      valImages: images.val,
      ...(training ? { throughput: await measuredThroughput(this.home) } : {}),
      ...(resolved.evaluator === 'supernet' ? { supernet: await this.supernetPlan(resolved) } : {}),
    });
    return { ...estimate, evaluator: resolved.evaluator, dataset: { synthetic: !resolved.dataset } };
  }

  /** A supernet search's fixed costs: training its supernet unless a ready one is there, the final stage. */
  private async supernetPlan(resolved: NewSearch): Promise<SupernetPlan> {
    const request = resolved.request;
    const ready = resolved.supernetId
      ? (await this.supernets.get(resolved.supernetId)).status === 'ready'
      : (await this.supernets.findReusable(this.supernets.resolveForSearch(resolved))) !== null;
    // resolveLaunch sets a supernet search's final stage (its defaults live there).
    if (!resolved.fineTune) throw new Error('a supernet search resolves without its final stage');
    return {
      trainSeconds: ready ? 0 : this.supernets.trainingMinutes(requestedSupernetMinutes(request)) * 60,
      adaptSteps: supernetAdaptSteps(request),
      fineTune: resolved.fineTune,
    };
  }

  /** What resolving a launch needs: the same for a search and for its estimate. */
  private launchDeps(): LaunchDeps {
    return {
      ...(this.options.dataRoot ? { dataRoot: this.options.dataRoot } : {}),
      ...this.options.launch,
      assertEvaluator: async (name) => void (await this.evaluators.get(name)),
      imageSizeFidelity: async (name) => (await this.evaluators.get(name)).imageSizeFidelity === true,
      supernetSpec: (spec, dataset, supernetId) => this.supernetSpec(spec, dataset, supernetId),
    };
  }

  private get home(): string {
    return resolve(this.options.home ?? '.detsearch');
  }

  async listSearches(
    query: { limit?: number; offset?: number; status?: Search['status'] } = {},
  ): Promise<SearchView[]> {
    const page = await this.searches.list({
      limit: query.limit ?? 100,
      offset: query.offset,
      status: query.status,
    });
    const counts = await this.trials.countsFor(page.items.map((s) => s.id));
    return page.items.map((s) => ({
      ...s,
      progress: progressOf(counts.get(s.id)!, s.budget.trials, s.reusedTrials),
    }));
  }

  async getSearch(id: string): Promise<SearchView> {
    const search = await this.requireSearch(id);
    return {
      ...search,
      progress: progressOf(await this.trials.counts(id), search.budget.trials, search.reusedTrials),
    };
  }

  /**
   * Stops a queued or running search; its unfinished trials end as failed ('search cancelled').
   * `reason` is kept as the search's error (e.g. an interrupt from the terminal). A cancelled
   * search stays stopped (no restart resumes it) until `resume`.
   */
  async cancel(rawId: string, options: { reason?: string } = {}): Promise<SearchView> {
    const search = await this.requireSearch(rawId);
    // The stored id: runners are keyed by it, whatever case the caller used.
    const id = search.id;
    if (search.status === 'cancelled') return this.getSearch(id);
    const moved = await this.searches.transition(id, ['queued', 'running'], 'cancelled', {
      finished: true,
      ...(options.reason ? { error: options.reason } : {}),
    });
    if (!moved)
      throw new DomainError(
        'SEARCH.INVALID_STATE',
        `search ${id} is ${search.status}; only a queued or running search can be cancelled`,
        'id',
      );
    const runner = this.runners.get(id);
    runner?.requestStop('cancel');
    await this.trials.failUnfinished(id, CANCELLED_REASON);
    await runner?.done;
    return this.getSearch(id);
  }

  /**
   * Continues a cancelled or failed search (trials ended by the cancel run again), or takes over a
   * running one whose process died. A search this process already drives is left as it is.
   */
  async resume(rawId: string): Promise<SearchView> {
    this.assertOpen();
    const search = await this.requireSearch(rawId);
    const id = search.id;
    if (search.status === 'completed')
      throw new DomainError(
        'SEARCH.INVALID_STATE',
        `search ${id} is completed; there is nothing to resume`,
        'id',
      );
    if (search.status === 'cancelled' || search.status === 'failed') {
      await this.evaluators.get(search.evaluator);
      await this.db.transaction(async (tx) => {
        await this.trials.requeueFailed(id, CANCELLED_REASON, tx);
        if (search.status === 'failed')
          await this.trials.requeueFailed(id, `search failed: ${search.error ?? ''}`, tx);
        await this.searches.transition(id, ['cancelled', 'failed'], 'running', { error: null }, tx);
        // Re-queued trials get their jobs in the same transaction.
        await this.dispatcher?.enqueue(tx, await this.trials.byStatus(id, 'queued', tx));
      });
    }
    // Trials stuck behind a lost job or a dead worker go back in the queue now, not at the next sweep.
    if (this.queue && search.status === 'running') await this.queue.reaper.sweep(id);
    const fresh = await this.requireSearch(id);
    await this.startRunner(fresh);
    return this.getSearch(id);
  }

  // ------------------------------------------------------------ supernets

  /**
   * Starts training the supernet a request describes (POST /supernets), in a child process; a
   * ready supernet of the same dataset, space and activation is returned instead (`created`
   * false), and one already training is followed.
   */
  async createSupernet(body: unknown): Promise<{ supernet: SupernetView; training: boolean }> {
    this.assertOpen();
    const r = await this.supernets.resolveRequest(body);
    const s = await this.supernets.train(r, { minutes: r.minutes, seed: r.seed });
    return { supernet: toSupernetView(s), training: s.status !== 'ready' };
  }

  async listSupernets(query: { limit?: number; offset?: number } = {}): Promise<{ items: SupernetView[] }> {
    const page = await this.supernets.list({ limit: query.limit ?? 100, offset: query.offset });
    return { items: page.items.map(toSupernetView) };
  }

  async getSupernet(id: string): Promise<SupernetView> {
    return toSupernetView(await this.supernets.get(id));
  }

  /** Waits for a supernet's training to end (CLI); the ready row, or a DomainError with its error. */
  async waitForSupernet(
    id: string,
    onProgress?: (s: SupernetView) => void,
    signal?: AbortSignal,
  ): Promise<SupernetView> {
    const s = await this.supernets.get(id);
    const ready = await this.supernets.waitReady(s, {
      signal,
      onProgress: (u) => onProgress?.(toSupernetView(u)),
    });
    return toSupernetView(ready);
  }

  /** The launch-time check of a supernet search: its supernet must fit the search's dataset and space. */
  private async supernetSpec(
    spec: Parameters<SupernetService['resolveSpec']>[0],
    dataset: string | null,
    supernetId?: string,
  ) {
    if (supernetId === undefined)
      return this.supernets.resolveSpec(spec, dataset, undefined, 'searchSpace.activation').spec;
    const sn: Supernet | null = await this.supernetRepository.get(supernetId);
    if (!sn)
      throw new DomainError(
        'SUPERNET.NOT_FOUND',
        `supernetId: supernet ${supernetId} not found`,
        'supernetId',
      );
    const r = this.supernets.resolveSpec(spec, dataset, sn.activation, 'supernetId');
    const olderRecipe = Array.from({ length: SUPERNET_RECIPE - 1 }, (_, i) => i + 1).find(
      (recipe) =>
        spaceFingerprint(r.spec as unknown as Record<string, unknown>, recipe) === sn.spaceFingerprint,
    );
    const why =
      r.datasetFingerprint !== sn.datasetFingerprint
        ? `was trained on another dataset (${sn.dataset ?? 'unknown'})`
        : olderRecipe !== undefined
          ? `was trained by an older training recipe (version ${olderRecipe}, now ${SUPERNET_RECIPE})`
          : r.spaceFingerprint !== sn.spaceFingerprint
            ? 'was trained on another search space'
            : null;
    if (why)
      throw new DomainError(
        'SEARCH.SUPERNET_MISMATCH',
        `supernetId: supernet ${supernetId} ${why}; it cannot score this search (omit supernetId to find or train a matching one)`,
        'supernetId',
      );
    return r.spec;
  }

  /** Embedded database: a supernet still 'training' was left by a process that has ended. */
  private async endOrphanedSupernets(): Promise<void> {
    for (const s of await this.supernetRepository.findStale(0)) {
      const taken = await this.supernetRepository.takeOver(s.id, this.runnerId, 0);
      if (taken)
        await this.supernetRepository.finish(s.id, this.runnerId, {
          status: 'cancelled',
          error: 'interrupted (its process ended); training it again resumes from its checkpoints',
        });
    }
  }

  // ------------------------------------------------------------ results

  async listTrials(searchId: string, query: ListTrialsQuery = {}): Promise<TrialPage<Trial>> {
    await this.requireSearch(searchId);
    return this.trials.list(searchId, query);
  }

  /** The API's leaderboard: the pages of listTrials with rows projected to LEADERBOARD_FIELDS. */
  async leaderboard(searchId: string, query: ListTrialsQuery = {}): Promise<TrialPage<LeaderboardTrial>> {
    await this.requireSearch(searchId);
    return this.trials.leaderboard(searchId, query);
  }

  async getTrial(id: string): Promise<Trial> {
    const trial = await this.trials.get(id);
    if (!trial) throw new DomainError('TRIAL.NOT_FOUND', `trial ${id} not found`, 'id');
    return trial;
  }

  /**
   * The trial's exported model as a stream with its size and SHA-256, read from the artifact store
   * whatever machine ran the trial; rows from before the store are served from their file while it
   * exists. MODEL.NOT_FOUND when it has none (e.g. surrogate trials) or it is gone.
   */
  async openTrialModel(id: string): Promise<TrialModelDownload> {
    const trial = await this.getTrial(id);
    const filename = `trial-${trial.id}.onnx`;
    if (trial.modelKey) {
      const got = await this.artifacts.get(trial.modelKey);
      if (!got)
        throw new DomainError(
          'MODEL.NOT_FOUND',
          `trial ${id}: its model (${trial.modelKey}) is not in the ${this.artifacts.kind} artifact store`,
          'id',
        );
      return { ...got, filename };
    }
    if (!trial.onnxPath)
      throw new DomainError(
        'MODEL.NOT_FOUND',
        `trial ${id} has no exported model (evaluator '${trial.evaluator ?? 'unknown'}', status ${trial.status})`,
        'id',
      );
    if (!existsSync(trial.onnxPath))
      throw new DomainError('MODEL.NOT_FOUND', `trial ${id}: its model file is gone`, 'id');
    // A legacy file has no stored checksum: hash it (streamed), then stream it.
    const tap = new HashTap();
    await pipeline(createReadStream(trial.onnxPath), tap, async (src: AsyncIterable<unknown>) => {
      for await (const _ of src);
    });
    return {
      key: trial.onnxPath,
      size: statSync(trial.onnxPath).size,
      sha256: tap.sha256,
      createdAt: trial.finishedAt ?? trial.createdAt,
      stream: createReadStream(trial.onnxPath),
      filename,
    };
  }

  /**
   * Writes a trial's trained weights to `dest` (checked against the stored checksum) and returns
   * `dest`; from the store, or a legacy row's file beside its model. Null when it has none.
   */
  async trialWeightsToFile(trial: Trial, dest: string): Promise<string | null> {
    if (trial.weightsKey) return (await fetchToFile(this.artifacts, trial.weightsKey, dest)) ? dest : null;
    if (trial.onnxPath) {
      const legacy = join(trial.onnxPath, '..', 'weights.safetensors');
      if (existsSync(legacy)) return legacy;
    }
    return null;
  }

  /** A search's artifacts with their sizes (GET /searches/:id/artifacts, `detsearch artifacts`). */
  async searchArtifacts(id: string): Promise<SearchArtifactsView> {
    const search = await this.requireSearch(id);
    const items = await this.artifacts.list(searchPrefix(search.id));
    return {
      searchId: search.id,
      store: this.artifacts.kind,
      count: items.length,
      bytes: items.reduce((a, i) => a + i.size, 0),
      items: items.map((i) => ({ ...i, createdAt: i.createdAt.toISOString() })),
    };
  }

  /**
   * Removes artifacts nothing refers to: those of deleted searches, trials and supernets, and those
   * of a finished trial's attempts other than the one its row names; then uploads that never
   * committed (a killed writer's) older than `pendingOlderThanMs` (default an hour).
   */
  async collectGarbage(options: { dryRun?: boolean; pendingOlderThanMs?: number } = {}): Promise<GcReport> {
    const all = await this.artifacts.list('');
    const searchIds = new Set(
      (await this.db.query<{ id: string }>(`SELECT id FROM searches`)).map((r) => String(r.id).toLowerCase()),
    );
    const trials = new Map(
      (
        await this.db.query<{
          id: string;
          status: string;
          model_key: string | null;
          weights_key: string | null;
        }>(`SELECT id, status, model_key, weights_key FROM trials`)
      ).map((r) => [String(r.id).toLowerCase(), r]),
    );
    const supernets = new Set(
      (await this.db.query<{ id: string }>(`SELECT id FROM supernets`)).map((r) =>
        String(r.id).toLowerCase(),
      ),
    );
    const orphans: ArtifactInfo[] = [];
    for (const a of all) {
      const owner = ownerOf(a.key);
      let orphan = false;
      if (owner?.kind === 'trial') {
        const t = trials.get(owner.trialId);
        orphan =
          !searchIds.has(owner.searchId) ||
          !t ||
          // a finished trial names its artifacts; other attempts' are left-overs
          (['completed', 'pruned', 'failed'].includes(t.status) &&
            a.key !== t.model_key &&
            a.key !== t.weights_key);
      } else if (owner?.kind === 'supernet') {
        orphan = !supernets.has(owner.supernetId);
      }
      if (orphan) orphans.push(a);
    }
    if (!options.dryRun) for (const o of orphans) await this.artifacts.delete(o.key);
    const pending = await this.artifacts.gcPending(
      new Date(Date.now() - (options.pendingOlderThanMs ?? 3_600_000)),
      {
        dryRun: options.dryRun,
      },
    );
    return {
      dryRun: Boolean(options.dryRun),
      store: this.artifacts.kind,
      location: this.artifacts.location,
      scanned: all.length,
      orphans: orphans.map((o) => ({ key: o.key, size: o.size })),
      orphanBytes: orphans.reduce((a, o) => a + o.size, 0),
      pending,
    };
  }

  /** Feasible completed trials on the non-dominated front of the search's objectives. */
  async pareto(searchId: string): Promise<ParetoFrontView> {
    const search = await this.requireSearch(searchId);
    const trials = await this.trials.pareto(searchId);
    return {
      searchId,
      objectives: search.objectives,
      considered: (await this.trials.counts(searchId)).completed,
      points: trials.map((t) => paretoPoint(t, search)),
    };
  }

  /** The hypervolume history over the completed trials (the CLI's hypervolume.png), its changes only. */
  async hypervolume(searchId: string): Promise<HypervolumeView> {
    await this.requireSearch(searchId);
    return hypervolumeView(searchId, await this.trials.objectiveHistory(searchId));
  }

  /** The trials the dashboard's plots draw (a sample past `limit`) and the genome dimensions' importance. */
  async plotTrials(
    searchId: string,
    options: { limit?: number; objective?: ImportanceObjective; finishedAfter?: string } = {},
  ): Promise<PlotTrialsView> {
    await this.requireSearch(searchId);
    const after = options.finishedAfter ? new Date(options.finishedAfter) : undefined;
    const sample = await this.trials.plotSample(searchId, options.limit ?? 2000, after);
    return plotTrialsView(searchId, sample, options.objective ?? 'map50_95', after);
  }

  /** Learning curves: the running trials', then the best ranked trials', `limit` in all. */
  async curves(searchId: string, options: { limit?: number } = {}): Promise<CurvesView> {
    await this.requireSearch(searchId);
    return { searchId, items: await this.trials.curves(searchId, options.limit ?? 50) };
  }

  /** One trial's learning curve. */
  async trialCurves(trialId: string): Promise<CurvesView> {
    const t = await this.getTrial(trialId);
    const { id, number, status, epochs, epochsDone, epochMetrics } = t;
    return {
      searchId: t.searchId,
      items: [{ trialId: id, number, status, epochs, epochsDone, epochMetrics }],
    };
  }

  /**
   * Deletes a search, its trials and their artifacts (models, weights; and the trial folders an
   * older version left on this machine). A queued or running search must be cancelled first.
   * Artifacts a failure leaves behind are orphans for `collectGarbage`.
   */
  async deleteSearch(id: string): Promise<void> {
    const search = await this.requireSearch(id);
    if (search.status === 'queued' || search.status === 'running')
      throw new DomainError(
        'SEARCH.INVALID_STATE',
        `search ${id} is ${search.status}; cancel it before deleting it`,
        'id',
      );
    await this.runners.get(id)?.done;
    await this.searches.delete(search.id);
    for (const a of await this.artifacts.list(searchPrefix(search.id))) await this.artifacts.delete(a.key);
    await rm(join(this.home, 'trials', search.id), { recursive: true, force: true }).catch(() => undefined);
  }

  /** The Pareto front as RFC 4180 CSV: objectives, costs, evaluator, genome key and genome JSON. */
  async paretoCsv(searchId: string): Promise<string> {
    const front = await this.pareto(searchId);
    const rows = front.points.map((p) => ({
      trial_id: p.trialId,
      number: p.number,
      map50_95: p.map50_95,
      map50: p.map50,
      latency_ms: p.latencyMs,
      latency_source: p.latencySource,
      latency_provenance: p.latencyProvenance,
      reused: p.reused,
      reused_from_trial_id: p.reusedFromTrialId,
      size_bytes: p.sizeBytes,
      params: p.params,
      gflops: p.gflops,
      evaluator: p.evaluator,
      backend: p.backend,
      estimate_map50_95: p.estimateMap50_95,
      finetuned_map50_95: p.finetunedMap50_95,
      finetuned_map50: p.finetunedMap50,
      genome_key: p.genomeKey,
      genome: p.genome,
    }));
    return toCsv(rows, [...CSV_COLUMNS]);
  }

  /**
   * Progress events of a search: a snapshot first, then live events until 'search-completed'.
   * Throws SEARCH.NOT_FOUND on the first read for an unknown id.
   */
  events(searchId: string, options: { signal?: AbortSignal } = {}): AsyncIterable<SearchEvent> {
    return searchEventStream(
      this.bus,
      searchId,
      async () => {
        const s = await this.getSearch(searchId);
        return { type: 'snapshot', searchId, status: s.status, progress: s.progress, best: s.best };
      },
      options.signal,
    );
  }

  /** Live events of a search as callbacks; returns the unsubscribe function. */
  subscribe(searchId: string, listener: (e: SearchEvent) => void): () => void {
    return this.bus.subscribe(searchId, listener);
  }

  /** The evaluators this orchestrator can run, described for catalogs. */
  evaluatorInfos(): EvaluatorInfo[] {
    return this.evaluators.infos();
  }

  async health(): Promise<HealthReport> {
    let ok = true;
    let latencyMs = 0;
    let error: string | undefined;
    try {
      latencyMs = await this.db.ping();
    } catch (err) {
      ok = false;
      error = (err as Error).message;
    }
    return {
      ok,
      database: { kind: this.db.kind, ok, latencyMs, ...(error ? { error } : {}) },
      activeSearches: this.runners.size,
      evaluators: this.evaluators.names(),
    };
  }

  /** Resolves when the search's loop in this process has ended (tests, CLI). */
  async waitForSearch(id: string): Promise<SearchView> {
    await this.runners.get(id)?.done;
    return this.getSearch(id);
  }

  /**
   * Stops every loop and closes the database. In-flight trials are re-queued and leases released
   * so another process (or the next open) continues at once; `abandon` skips all that (crash tests).
   */
  async close(options: CloseOptions = {}): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.sweeper) clearInterval(this.sweeper);
    const runners = [...this.runners.values()];
    for (const r of runners) r.requestStop(options.abandon ? 'abandon' : 'shutdown');
    await Promise.allSettled(runners.map((r) => r.done));
    await this.supernets.close();
    await this.artifacts.close();
    if (this.queue) {
      this.queue.stopReaper();
      await this.queue.boss.stop().catch(() => undefined);
      await this.queue.notifier.close();
    }
    await this.db.close();
  }

  // ------------------------------------------------------------ internals

  private assertOpen(): void {
    if (this.closing) throw new DomainError('ORCHESTRATOR.UNAVAILABLE', 'the orchestrator is shutting down');
  }

  private async requireSearch(id: string): Promise<Search> {
    const search = await this.searches.get(id);
    if (!search) throw new DomainError('SEARCH.NOT_FOUND', `search ${id} not found`, 'id');
    return search;
  }

  private profile(name: string): HardwareProfile {
    let p = this.profiles.get(name);
    if (!p) {
      p = (this.options.launch?.getHardwareProfile ?? getHardwareProfile)(name);
      this.profiles.set(name, p);
    }
    return p;
  }

  /** Takes the search's lease and runs its loop here; no-op when another live runner holds it. */
  private async startRunner(search: Search): Promise<void> {
    if (this.closing || this.runners.has(search.id) || this.starting.has(search.id)) return;
    if (!['queued', 'running'].includes(search.status)) return;
    // A sweep during a launch's awaits below must not start a second loop for the same search.
    this.starting.add(search.id);
    try {
      await this.startRunnerOnce(search);
    } finally {
      this.starting.delete(search.id);
    }
  }

  private async startRunnerOnce(search: Search): Promise<void> {
    const previous = search.runnerId;
    const leased = await this.searches.acquireLease(search.id, this.runnerId, this.staleMs);
    if (!leased) return;
    // Trials a dead runner left running are orphans: nobody will finish them.
    // (This process's own id too: a loop of ours that a lost connection stopped left its trials.)
    if (previous) await this.trials.requeue(search.id, { workerIds: [previous, this.runnerId] });
    if (this.db.kind === 'pglite') await this.trials.requeue(search.id, { all: true });
    const evaluator = await this.evaluators.get(leased.evaluator);
    const dispatcher = this.dispatcher;
    if (this.queue && dispatcher)
      // Every queued trial must have a job; one may lack it when the search ran in-process before.
      // A duplicate job is harmless: only one claim of a queued trial succeeds.
      await this.db.transaction(async (tx) =>
        dispatcher.enqueue(tx, await this.trials.byStatus(search.id, 'queued', tx)),
      );
    const runner = new SearchRunner(leased, evaluator, {
      db: this.db,
      searches: this.searches,
      trials: this.trials,
      events: this.bus,
      sink: this.sink,
      runnerId: this.runnerId,
      concurrency: Math.max(1, this.options.concurrency ?? 2),
      leaseMs: this.leaseMs,
      dispatcher,
      ...(this.queue ? { queue: this.queueMode() } : {}),
      profile: (n) => this.profile(n),
      artifacts: this.artifacts,
      log: this.options.log,
    });
    this.runners.set(search.id, runner);
    void runner.done.finally(() => this.runners.delete(search.id));
  }

  private get dispatcher(): TrialDispatcher | undefined {
    return this.queue ? new PgBossDispatcher(this.queue.boss) : this.options.dispatcher;
  }

  /** Local subscribers at once; in distributed mode other processes through NOTIFY too. */
  private get sink(): EventSink {
    return {
      publish: async (event) => {
        this.bus.publish(event);
        if (this.queue)
          await this.queue.notifier
            .notify(this.db, { kind: 'event', origin: this.runnerId, event })
            .catch((err) => this.options.log?.('could not publish event', { error: String(err) }));
      },
    };
  }

  private queueMode(): QueueMode {
    const staleMs = this.queue?.reaper.staleMs ?? DEFAULT_STALE_MS;
    return {
      outstanding: async () => {
        const slots = await this.workers.liveSlots(staleMs);
        // With no worker up yet, one queued trial waits for the first to arrive.
        return Math.max(1, slots) + (this.options.prefetch ?? Math.max(1, Math.ceil(slots / 4)));
      },
      pollMs: this.options.pollMs ?? 1000,
    };
  }

  private async resumeOrphans(): Promise<void> {
    if (this.closing) return;
    for (const s of await this.searches.findOrphaned(this.staleMs)) {
      if (this.runners.has(s.id) || this.starting.has(s.id)) continue;
      try {
        this.options.log?.('resuming a search that was running when its process stopped', {
          searchId: s.id,
          name: s.name,
          previousRunner: s.runnerId,
        });
        await this.startRunner(s);
      } catch (err) {
        this.options.log?.('could not resume search', { searchId: s.id, error: String(err) });
      }
    }
  }
}

function paretoPoint(t: Trial, search: Search): ParetoPoint {
  const objectives = objectiveValues(search.objectives, t);
  return {
    trialId: t.id,
    number: t.number,
    objectives,
    map50: t.map50,
    map50_95: t.map50_95!,
    latencyMs: t.latencyMs!,
    latencySource: t.latencySource,
    latencyProvenance: t.latencyProvenance,
    reused: t.reused,
    reusedFromTrialId: t.reusedFromTrialId,
    sizeBytes: t.sizeBytes,
    params: t.params,
    gflops: t.gflops,
    genome: t.genome,
    genomeKey: t.genomeKey,
    evaluator: t.evaluator,
    backend: t.backend,
    estimateMap50: t.estimateMap50,
    estimateMap50_95: t.estimateMap50_95,
    finetunedMap50: t.finetunedMap50,
    finetunedMap50_95: t.finetunedMap50_95,
    finetunedMap50Std: t.finetunedMap50Std,
    finetunedMap50_95Std: t.finetunedMap50_95Std,
  };
}
