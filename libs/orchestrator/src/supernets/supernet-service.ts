import { EventEmitter } from 'node:events';
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { z } from 'zod';
import { fetchToFile, putFile, supernetArtifactKey, type ArtifactStore } from '@detsearch/artifacts';
import { DomainError } from '@detsearch/common';
import { zodToDomainError } from '@detsearch/genome';
import { getPreset, loadDefaultSearchSpace, presetSearchSpace, type Preset } from '@detsearch/latency';
import type {
  Database,
  Page,
  Search,
  Supernet,
  SupernetMatch,
  SupernetProgress,
  SupernetRepository,
  SupernetStatus,
} from '@detsearch/persistence';
import {
  compileSearchSpace,
  overrideSpec,
  type SearchSpaceOverride,
  type SearchSpaceSpec,
} from '@detsearch/search-space';
import {
  DEFAULT_SYNTHETIC,
  sharedSyntheticDataset,
  SYNTHETIC_NUM_CLASSES,
  type SyntheticDatasetOptions,
} from '../evaluators/full';
import { supernetTrainingSizes } from '@detsearch/supernet';
import { datasetFingerprint, spaceFingerprint, syntheticFingerprint } from './fingerprint';
import { raceAbort } from '../abort';
import { resolveDataset } from '../launch';

type SupernetLib = typeof import('@detsearch/supernet');
type Training = typeof import('@detsearch/training');

/**
 * Default training budget of a supernet, minutes (over all resumed runs). Measured on the
 * benchmark space (docs/supernet.md): a supernet of 4 epochs ranks candidates at Kendall tau 0.39
 * after adaptation where 7 epochs (14 minutes of one core there) rank at 0.42-0.64; it is trained
 * once per dataset and space and reused by every later search.
 */
export const DEFAULT_SUPERNET_MINUTES = 20;
const ACTIVATIONS = ['silu', 'relu', 'hardswish', 'leakyrelu'] as const;

/** POST /supernets and `detsearch supernet train`. */
export const supernetRequestSchema = z
  .object({
    preset: z.string().min(1).max(100).optional(),
    searchSpace: z.record(z.unknown()).optional(),
    dataset: z.string().min(1).max(1000).optional(),
    minutes: z
      .number()
      .finite()
      .positive('must be > 0')
      .max(7 * 24 * 60)
      .optional(),
    activation: z.enum(ACTIVATIONS).optional(),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .optional(),
  })
  .strict();
export type SupernetRequest = z.input<typeof supernetRequestSchema>;

/** A supernet request resolved: what to train on, and what identifies it. */
export interface ResolvedSupernet extends SupernetMatch {
  spec: SearchSpaceSpec;
  /** data.yaml to read; null: the shared synthetic dataset. */
  dataYaml: string | null;
  /** Stored on the row: the data.yaml path or the synthetic settings. */
  datasetLabel: string;
  imageSizes: number[];
}

export interface SupernetServiceOptions {
  db: Database;
  /** The trained weights go here, so workers on any machine can fetch them. */
  artifacts?: ArtifactStore;
  supernets: SupernetRepository;
  /** DETSEARCH_HOME: artifacts go to <home>/supernets/<id>/. */
  home: string;
  runnerId: string;
  synthetic?: SyntheticDatasetOptions;
  /**
   * DATA_ROOT: a request's dataset is confined to it, and the training and scoring processes read
   * datasets only below it (default: the working directory).
   */
  dataRoot?: string;
  /** Replaces the DATA_ROOT resolution of a request's dataset (tests of this service). */
  resolveDataset?: (path: string) => Promise<{ path: string; numClasses: number }>;
  getPreset?: (name: string) => Preset;
  defaultSearchSpace?: () => SearchSpaceSpec;
  /** The supernet library (lazily loaded: it brings tfjs). Replaceable for tests of this service. */
  loadLibrary?: () => Promise<Pick<SupernetLib, 'trainSupernet'>>;
  defaultMinutes?: number;
  /**
   * One weight set per training image size (default true; trainSupernet's perSize): measured to
   * rank candidates across sizes like standalone training where one shared set did not. The sizes
   * train at once, a process each, within the same time budget.
   */
  perSize?: boolean;
  log?: (msg: string, extra?: Record<string, unknown>) => void;
}

export interface WaitOptions {
  signal?: AbortSignal;
  onProgress?: (s: Supernet) => void;
}

/** Activation choices of a spec, the first being its default. */
export function specActivations(spec: SearchSpaceSpec): string[] {
  const a = spec.activation;
  return typeof a === 'string' ? [a] : [...a.choices];
}

/**
 * Supernets as a product: resolve a request to (dataset, space, activation), reuse the ready
 * supernet of exactly that match, or train one in a child process (off the event loop) with
 * progress stored on its row; a run interrupted (process death, shutdown) is trained again from
 * its checkpoints. Searches with the 'supernet' evaluator wait here before their first trial.
 */
export class SupernetService {
  private readonly running = new Map<string, { done: Promise<Supernet>; abort: AbortController }>();
  private readonly bus = new EventEmitter().setMaxListeners(0);
  /** Downloads of supernet weights in progress, one per supernet. */
  private readonly fetching = new Map<string, Promise<string>>();
  private closed = false;

  constructor(private readonly o: SupernetServiceOptions) {}

  get home(): string {
    return this.o.home;
  }

  /** DATA_ROOT of the processes that read a named dataset (absent: their working directory). */
  get dataRoot(): string | undefined {
    return this.o.dataRoot;
  }

  private get synthetic(): SyntheticDatasetOptions {
    return this.o.synthetic ?? DEFAULT_SYNTHETIC;
  }

  /** A training process this long silent has died (embedded PGlite: one process, so at once). */
  private get staleMs(): number {
    return this.o.db.kind === 'pglite' ? 0 : 60_000;
  }

  /** Validates a train request and resolves its space, dataset and activation; DomainErrors name the field. */
  async resolveRequest(body: unknown): Promise<ResolvedSupernet & { minutes?: number; seed: number }> {
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw new DomainError('SUPERNET.INVALID', 'body: must be a JSON object', 'body');
    const parsed = supernetRequestSchema.safeParse(body);
    if (!parsed.success) throw zodToDomainError(parsed.error, 'SUPERNET.INVALID', 'body');
    const req = parsed.data;
    let preset: Preset | undefined;
    if (req.preset !== undefined) {
      try {
        preset = (this.o.getPreset ?? getPreset)(req.preset);
      } catch (err) {
        throw new DomainError('PRESET.UNKNOWN', `preset: ${(err as Error).message}`, 'preset');
      }
    }
    const base = (this.o.defaultSearchSpace ?? loadDefaultSearchSpace)();
    let spec = preset ? presetSearchSpace(preset, base) : base;
    if (req.searchSpace) spec = overrideSpec(spec, req.searchSpace as SearchSpaceOverride, 'searchSpace');
    const resolveRequestDataset = this.o.resolveDataset ?? ((path) => resolveDataset(path, this.o.dataRoot));
    const dataset = req.dataset !== undefined ? await resolveRequestDataset(req.dataset) : null;
    spec = { ...spec, numClasses: dataset?.numClasses ?? SYNTHETIC_NUM_CLASSES };
    return {
      ...this.resolveSpec(spec, dataset?.path ?? null, req.activation, 'activation'),
      ...(req.minutes !== undefined ? { minutes: req.minutes } : {}),
      seed: req.seed ?? 0,
    };
  }

  /**
   * The supernet identity of a resolved search space (numClasses already the dataset's) and
   * dataset: the space's activation narrowed to one (`activation`, else the space's first).
   */
  resolveSpec(
    spec: SearchSpaceSpec,
    dataYaml: string | null,
    activation?: string,
    field = 'activation',
  ): ResolvedSupernet {
    const allowed = specActivations(spec);
    const chosen = activation ?? allowed[0]!;
    if (!allowed.includes(chosen))
      throw new DomainError(
        'SUPERNET.INVALID',
        `${field}: '${chosen}' is not an activation of the search space (${allowed.join(', ')})`,
        field,
      );
    const pinned = { ...spec, activation: chosen } as SearchSpaceSpec;
    compileSearchSpace(pinned);
    return {
      spec: pinned,
      activation: chosen,
      spaceFingerprint: spaceFingerprint(pinned as unknown as Record<string, unknown>),
      datasetFingerprint: dataYaml ? datasetFingerprint(dataYaml) : syntheticFingerprint(this.synthetic),
      dataYaml,
      datasetLabel: dataYaml ?? syntheticLabel(this.synthetic),
      imageSizes: supernetTrainingSizes(pinned),
    };
  }

  /** The training budget of a new supernet: the one asked for, else this service's default. */
  trainingMinutes(requested?: number): number {
    return requested ?? this.o.defaultMinutes ?? DEFAULT_SUPERNET_MINUTES;
  }

  /** The supernet of a search: its own (supernetId), else the ready match of its dataset and space. */
  resolveForSearch(search: Pick<Search, 'searchSpace' | 'dataset'>): ResolvedSupernet {
    const spec = search.searchSpace as unknown as SearchSpaceSpec;
    return this.resolveSpec(spec, search.dataset, specActivations(spec)[0], 'searchSpace.activation');
  }

  async get(id: string): Promise<Supernet> {
    const s = await this.o.supernets.get(id);
    if (!s) throw new DomainError('SUPERNET.NOT_FOUND', `supernet ${id} not found`, 'id');
    return s;
  }

  list(query: { status?: SupernetStatus; limit?: number; offset?: number } = {}): Promise<Page<Supernet>> {
    return this.o.supernets.list(query);
  }

  /** The ready supernet of exactly this dataset, space and activation, if any: never another's. */
  findReusable(m: SupernetMatch): Promise<Supernet | null> {
    return this.o.supernets.findMatch(m, ['ready']);
  }

  /**
   * A local path of a ready supernet's weights: the file this machine trained, else a cached copy
   * fetched from the artifact store (checked against its SHA-256), so workers on other machines
   * score on the same weights.
   */
  async weightsPath(s: Supernet): Promise<string> {
    if (s.status !== 'ready' || (!s.artifactPath && !s.artifactKey))
      throw new DomainError('SUPERNET.NOT_READY', `supernet ${s.id} is ${s.status}, not ready`, 'supernetId');
    if (s.artifactPath) {
      const local = isAbsolute(s.artifactPath) ? s.artifactPath : join(this.o.home, s.artifactPath);
      if (existsSync(local) || !s.artifactKey || !this.o.artifacts) return local;
    }
    const cached = join(this.o.home, 'cache', 'supernets', s.id, 'supernet.weights');
    if (existsSync(cached)) return cached;
    let fetching = this.fetching.get(s.id);
    if (!fetching) {
      fetching = fetchToFile(this.o.artifacts!, s.artifactKey!, cached).then((info) => {
        if (!info)
          throw new DomainError(
            'SUPERNET.NOT_READY',
            `supernet ${s.id}: its weights (${s.artifactKey}) are not in the ${this.o.artifacts!.kind} artifact store`,
            'supernetId',
          );
        return cached;
      });
      this.fetching.set(s.id, fetching);
      void fetching.finally(() => this.fetching.delete(s.id)).catch(() => undefined);
    }
    return fetching;
  }

  /**
   * Starts training the supernet of `r` unless a ready or running one matches (then returns it);
   * an interrupted one of the same match is trained again from its checkpoints. Returns at once.
   */
  async train(r: ResolvedSupernet, opts: { minutes?: number; seed?: number } = {}): Promise<Supernet> {
    const ready = await this.findReusable(r);
    if (ready) return ready;
    const existing = await this.o.supernets.findMatch(r, ['training', 'failed', 'cancelled']);
    if (existing && this.running.has(existing.id)) return existing;
    if (existing && existing.status === 'training') {
      const taken = await this.o.supernets.takeOver(existing.id, this.o.runnerId, this.staleMs);
      // Another live process trains it: follow its row.
      if (!taken) return existing;
      return this.launch(taken, r, opts);
    }
    const row = await this.o.supernets.create({
      activation: r.activation,
      datasetFingerprint: r.datasetFingerprint,
      spaceFingerprint: r.spaceFingerprint,
      dataset: r.datasetLabel,
      searchSpace: r.spec as unknown as Record<string, unknown>,
      imageSizes: r.imageSizes,
      budgetMinutes: this.trainingMinutes(opts.minutes),
      runnerId: this.o.runnerId,
    });
    return this.launch(row, r, opts);
  }

  /** Resumes training a supernet known by id (failed, cancelled or orphaned); a ready one is returned as is. */
  async resume(id: string, opts: { minutes?: number; seed?: number } = {}): Promise<Supernet> {
    const s = await this.get(id);
    if (s.status === 'ready' || this.running.has(id)) return s;
    const taken = await this.o.supernets.takeOver(id, this.o.runnerId, this.staleMs);
    if (!taken) return s;
    const spec = s.searchSpace as unknown as SearchSpaceSpec;
    const dataYaml = s.dataset && !s.dataset.startsWith('synthetic') ? s.dataset : null;
    return this.launch(
      taken,
      { ...this.resolveSpec(spec, dataYaml, s.activation), imageSizes: s.imageSizes },
      opts,
    );
  }

  /**
   * Waits until the supernet is ready (training it first, or following another process's run),
   * reporting progress; throws when its training fails or `signal` aborts the wait.
   */
  async waitReady(s: Supernet, opts: WaitOptions = {}): Promise<Supernet> {
    const onUpdate = (u: Supernet) => opts.onProgress?.(u);
    this.bus.on(s.id, onUpdate);
    try {
      for (;;) {
        if (opts.signal?.aborted) throw new Error(`stopped waiting for supernet ${s.id}`);
        const row = (await this.o.supernets.get(s.id)) ?? s;
        if (row.status === 'ready') return row;
        if (row.status !== 'training' && !this.running.has(row.id))
          throw new Error(`supernet ${row.id} ${row.status}: ${row.error ?? 'no reason given'}`);
        const local = this.running.get(row.id);
        if (local) {
          await raceAbort(
            local.done.catch(() => undefined),
            opts.signal,
          );
          continue;
        }
        // Trained by another process: its row is the only news.
        const stale = await this.o.supernets.takeOver(row.id, this.o.runnerId, this.staleMs);
        if (stale) {
          await this.resume(row.id);
          continue;
        }
        onUpdate(row);
        await raceAbort(new Promise((r) => setTimeout(r, 2000).unref()), opts.signal);
      }
    } finally {
      this.bus.off(s.id, onUpdate);
    }
  }

  /** Stops every training run of this process; rows become 'cancelled' (training again resumes). */
  async close(): Promise<void> {
    this.closed = true;
    const runs = [...this.running.values()];
    for (const r of runs) r.abort.abort('shutdown');
    await Promise.allSettled(runs.map((r) => r.done));
  }

  /** Cancels a training run of this process. */
  async cancel(id: string): Promise<Supernet> {
    const run = this.running.get(id);
    if (run) {
      run.abort.abort('cancel');
      await run.done.catch(() => undefined);
    }
    return this.get(id);
  }

  private launch(row: Supernet, r: ResolvedSupernet, opts: { minutes?: number; seed?: number }): Supernet {
    if (this.closed) throw new DomainError('ORCHESTRATOR.UNAVAILABLE', 'the orchestrator is shutting down');
    const abort = new AbortController();
    const done = this.runTraining(row, r, opts, abort.signal).finally(() => this.running.delete(row.id));
    done.catch(() => undefined);
    this.running.set(row.id, { done, abort });
    return row;
  }

  private async runTraining(
    row: Supernet,
    r: ResolvedSupernet,
    opts: { minutes?: number; seed?: number },
    signal: AbortSignal,
  ): Promise<Supernet> {
    const { supernets, runnerId, home } = this.o;
    const outDir = join(home, 'supernets', row.id);
    const minutes = this.trainingMinutes(opts.minutes ?? row.budgetMinutes ?? undefined);
    let last: SupernetProgress = row.progress ?? {
      fraction: 0,
      epoch: 0,
      etaSeconds: null,
      message: 'starting',
    };
    let lastWrite = 0;
    const publish = async (p: SupernetProgress, force = false) => {
      last = p;
      if (!force && Date.now() - lastWrite < 1000) return;
      lastWrite = Date.now();
      await supernets.progress(row.id, runnerId, p).catch(() => false);
      const fresh = await supernets.get(row.id).catch(() => null);
      if (fresh) this.bus.emit(row.id, fresh);
    };
    // Renews the heartbeat in phases that report nothing (data preparation, evaluation).
    const beat = setInterval(() => void publish(last, true), 10_000);
    beat.unref();
    try {
      await publish({ ...last, message: 'preparing the dataset' }, true);
      const dataset = r.dataYaml
        ? { dataYaml: resolve(r.dataYaml), ...(this.o.dataRoot ? { dataRoot: this.o.dataRoot } : {}) }
        : {
            dataYaml: await sharedSyntheticDataset(
              (await import('@detsearch/training')) as Training,
              home,
              this.synthetic,
            ),
            dataRoot: join(home, 'datasets'),
          };
      const lib = await (this.o.loadLibrary ?? (() => import('@detsearch/supernet')))();
      const result = await lib.trainSupernet({
        space: r.spec,
        activation: r.activation as (typeof ACTIVATIONS)[number],
        dataset,
        outDir,
        minutes,
        seed: opts.seed ?? 0,
        imageSizes: r.imageSizes,
        perSize: this.o.perSize ?? true,
        signal,
        onProgress: (p) => {
          const total = p.elapsedMs + p.etaMs;
          const sizes =
            p.sizes && p.sizes.length > 1
              ? ` (${p.sizes.map((q) => `${q.imageSize} px: epoch ${q.epoch + 1} step ${q.step}/${q.stepsPerEpoch}`).join(', ')})`
              : '';
          void publish({
            fraction: total > 0 ? Math.min(1, p.elapsedMs / total) : 0,
            epoch: p.epoch,
            etaSeconds: Math.round(p.etaMs / 1000),
            message: `${p.phase} epoch ${p.epoch + 1} step ${p.step}/${p.stepsPerEpoch} loss ${p.loss.toFixed(3)}${sizes}`,
          });
        },
      });
      let artifactKey: string | null = null;
      if (this.o.artifacts) {
        artifactKey = supernetArtifactKey(row.id, 'supernet.weights');
        await putFile(this.o.artifacts, artifactKey, result.weightsPath);
      }
      const done = await supernets.finish(row.id, runnerId, {
        status: 'ready',
        artifactKey,
        epochs: result.epochs,
        minutes: result.minutes,
        metrics: { ...result.metrics, status: result.status, resumed: result.resumed },
        sizeBytes: statSync(result.weightsPath).size,
        artifactPath: relative(home, result.weightsPath),
      });
      if (!done) throw new Error(`supernet ${row.id} was taken over by another process`);
      this.bus.emit(row.id, done);
      this.o.log?.('supernet ready', { supernetId: row.id, epochs: result.epochs, minutes: result.minutes });
      return done;
    } catch (err) {
      const reason = signal.aborted ? String(signal.reason) : null;
      const status = reason === 'cancel' || reason === 'shutdown' ? 'cancelled' : 'failed';
      const error =
        reason === 'shutdown'
          ? 'interrupted by a shutdown; training it again resumes from its checkpoints'
          : reason === 'cancel'
            ? 'cancelled'
            : (err as Error).message.slice(0, 4000);
      const ended = await supernets.finish(row.id, runnerId, { status, error }).catch(() => null);
      if (ended) this.bus.emit(row.id, ended);
      this.o.log?.('supernet training ended', { supernetId: row.id, status, error });
      throw err;
    } finally {
      clearInterval(beat);
    }
  }
}

function syntheticLabel(s: SyntheticDatasetOptions): string {
  return `synthetic (${s.images} images, seed ${s.seed}, ${s.size}px)`;
}
