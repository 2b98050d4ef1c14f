import {
  isConnectionError,
  type Database,
  type Search,
  type SearchRepository,
  type Trial,
  type TrialLease,
  type TrialRepository,
  type TrialResult,
  type Tx,
} from '@detsearch/persistence';
import { rm } from 'node:fs/promises';
import { putFile, trialArtifactKey, type ArtifactStore } from '@detsearch/artifacts';
import { imageSizeByEpoch, promotes, rungIndex } from './asha';
import { constraintVector, objectiveVector } from '@detsearch/domain';
import type {
  EpochDecision,
  EpochReport,
  EstimatedMetrics,
  SearchEvent,
  SearchProgress,
  TrialEvaluator,
  TrialMetrics,
} from './types';

/** Where a trial job's progress events go: the local bus, and/or NOTIFY for other processes. */
export interface EventSink {
  publish(event: SearchEvent): void | Promise<void>;
  /**
   * Publishes as part of `tx`, delivered when it commits (Postgres NOTIFY is transactional): a
   * result and its 'trial-completed' event then exist together or not at all. Without it the
   * event is published right after the commit.
   */
  publishInTx?(event: SearchEvent, tx: Tx): Promise<void>;
}

export interface TrialJobDeps {
  db: Database;
  searches: SearchRepository;
  trials: TrialRepository;
  evaluatorFor(name: string): Promise<TrialEvaluator>;
  events: EventSink;
  /** How often a running attempt renews its heartbeat (its lease on the trial). */
  heartbeatMs: number;
  /**
   * Publish 'trial-started' and 'trial-epoch' without waiting for them (in order), so a worker's
   * next step does not wait on notification round trips. In-process subscribers want them inline.
   */
  backgroundEvents?: boolean;
  /**
   * Where the trial's model and weights go, so every machine can read them; rows then hold keys.
   * Without one (tests of the loop alone) the local path is recorded, as before the store existed.
   */
  artifacts?: ArtifactStore;
  log?: (msg: string, extra?: Record<string, unknown>) => void;
}

export interface TrialJobContext {
  /** Who runs the attempt (a worker id, or the search runner's id in-process). */
  workerId: string;
  /** Aborts the evaluation; nothing more is written for this attempt (the caller re-queues or cancels). */
  signal?: AbortSignal;
  /** The trial's search when the caller has it (in-process); else it is read. */
  search?: Search;
}

/**
 * 'finished': the result is stored. 'not-claimed': the trial was not queued (another worker has
 * it, it is finished, or it was cancelled): nothing was done. 'lost': the lease went away mid-run
 * (re-queued by a reaper, or the search was cancelled): the result was dropped. 'aborted': the
 * caller's signal stopped it.
 */
export type TrialJobOutcome = 'finished' | 'not-claimed' | 'lost' | 'aborted';

/**
 * Progress against the budget. `reused`: trials a warm start copied in (completed, numbered
 * first); they are reported apart and left out of `total`, `completed` and the fraction, since
 * they do not count against the budget.
 */
export function progressOf(
  c: Omit<SearchProgress, 'budget' | 'fraction' | 'reused'>,
  budget: number,
  reused = 0,
): SearchProgress {
  const own = { ...c, total: c.total - reused, completed: c.completed - reused };
  const finished = own.completed + own.pruned + own.failed;
  return { ...own, reused, budget, fraction: budget > 0 ? Math.min(1, finished / budget) : 1 };
}

/**
 * One trial job, the same code in every mode: claim the queued trial (a fencing token: worker id
 * plus attempt number), run the search's evaluator with heartbeats, record epochs and decide ASHA
 * promotions from the rows, store the result (accepted only while the claim still holds), publish
 * progress. The embedded search runner calls it in-process; `detsearch worker` calls it per job.
 */
export class TrialJobHandler {
  /** Background events, chained so they go out in order. */
  private pending: Promise<void> = Promise.resolve();

  constructor(private readonly deps: TrialJobDeps) {}

  /** Waits for background events still on their way (before closing the connection). */
  flush(): Promise<void> {
    return this.pending;
  }

  private emit(make: () => Promise<SearchEvent> | SearchEvent): Promise<void> {
    const publish = async () => {
      try {
        await this.deps.events.publish(await make());
      } catch (err) {
        this.deps.log?.('could not publish event', { error: String(err) });
      }
    };
    if (!this.deps.backgroundEvents) return publish();
    this.pending = this.pending.then(publish);
    return Promise.resolve();
  }

  async run(trialId: string, ctx: TrialJobContext): Promise<{ outcome: TrialJobOutcome; trial?: Trial }> {
    const { trials, searches } = this.deps;
    const claimed = await trials.claim(trialId, ctx.workerId);
    if (!claimed) return { outcome: 'not-claimed' };
    const { trial, lease } = claimed;
    const search = ctx.search ?? (await searches.get(trial.searchId));
    if (!search) return { outcome: 'lost' }; // deleted under us; the cascade took the trial too
    await this.emit(async () => ({
      type: 'trial-started',
      searchId: search.id,
      trialId: trial.id,
      number: trial.number,
      progress: await this.progress(search),
    }));

    const abort = new AbortController();
    let lost = false;
    const onStop = () => abort.abort(ctx.signal?.reason ?? 'stopped');
    ctx.signal?.addEventListener('abort', onStop, { once: true });
    if (ctx.signal?.aborted) onStop();
    const loseLease = () => {
      lost = true;
      abort.abort('lease lost');
    };
    const beat = setInterval(() => {
      if (abort.signal.aborted) return;
      trials.heartbeat(trial.id, lease).then(
        (mine) => {
          // Re-queued by a reaper or ended by a cancel: stop working on a result nobody will take.
          if (!mine) loseLease();
        },
        (err) => this.deps.log?.('heartbeat failed', { trialId: trial.id, error: String(err) }),
      );
    }, this.deps.heartbeatMs);
    beat.unref();

    let pruned = false;
    let metrics: TrialMetrics | null = null;
    let error: unknown = null;
    try {
      const evaluator = await this.deps.evaluatorFor(search.evaluator);
      const sizes = imageSizeByEpoch(search.fidelity, trial.imageSize ?? trial.genome.imageSize);
      metrics = await evaluator.evaluate(
        {
          trialId: trial.id,
          searchId: search.id,
          genome: trial.genome,
          fidelity: {
            epochs: trial.epochs,
            ...(trial.imageSize ? { imageSize: trial.imageSize } : {}),
            ...(search.fidelity.minEpochs !== undefined ? { minEpochs: search.fidelity.minEpochs } : {}),
            ...(sizes ? { imageSizeByEpoch: sizes } : {}),
          },
          hardwareProfile: search.hardwareProfile,
          ...(search.dataset ? { dataset: search.dataset } : {}),
          seed: search.seed,
        },
        {
          signal: abort.signal,
          onEpoch: async (m) => {
            if (abort.signal.aborted) return 'stop';
            const decision = await this.onEpoch(search, trial, lease, m);
            if (decision === 'lost') loseLease();
            else if (decision === 'stop') pruned = true;
            return decision === 'continue' ? 'continue' : 'stop';
          },
        },
      );
    } catch (err) {
      error = err;
    } finally {
      clearInterval(beat);
      ctx.signal?.removeEventListener('abort', onStop);
    }
    if (lost) return { outcome: 'lost' };
    if (ctx.signal?.aborted) return { outcome: 'aborted' };
    // The database, not the trial, failed (e.g. recording an epoch): no verdict on the trial. The
    // attempt is abandoned and re-queued (the reaper, or the in-process loop) to run again.
    if (error && isConnectionError(error)) throw error;

    const result = resultOf(search, trial, metrics, error, pruned);
    // Stored before the result commits (the row must never name a key that is not there); a store
    // failure is no verdict on the trial, so like a database failure it abandons the attempt.
    const keys = metrics ? await this.storeArtifacts(search, trial, lease, metrics) : [];
    if (keys.length > 0) {
      result.onnxPath = null;
      for (const k of keys) if (k.kind === 'model') result.modelKey = k.key;
      for (const k of keys) if (k.kind === 'weights') result.weightsKey = k.key;
    }
    const { events } = this.deps;
    const stored = await this.deps.db.transaction(
      async (tx) => {
        const t = await trials.finish(trial.id, lease, result, tx);
        if (!t) return null;
        // Only a trial that joined the Pareto front can change the best; finish() then holds the
        // search row's lock, so concurrent workers write the summary in commit order.
        const best = t.onFront ? await trials.bestSoFar(search.id, tx) : await searches.best(search.id, tx);
        if (t.onFront) await searches.setBest(search.id, best, tx);
        const event: SearchEvent = {
          type: 'trial-completed',
          searchId: search.id,
          trialId: t.id,
          number: t.number,
          status: t.status,
          map50_95: t.map50_95,
          latencyMs: t.latencyMs,
          progress: progressOf(await trials.counts(search.id, tx), search.budget.trials, search.reusedTrials),
          best,
          paretoSize: best?.paretoSize ?? 0,
        };
        if (events.publishInTx) await events.publishInTx(event, tx);
        return { t, event };
      },
      { retries: 3 },
    );
    if (!stored) {
      // Another attempt owns the trial now: this one's artifacts are nobody's.
      for (const k of keys) await this.deps.artifacts?.delete(k.key).catch(() => false);
      return { outcome: 'lost' };
    }
    if (keys.length > 0 && metrics?.workDir)
      await rm(metrics.workDir, { recursive: true, force: true }).catch(() => undefined);
    // Otherwise published after the commit, so whoever reacts to the event reads the stored row.
    if (!events.publishInTx) await this.emit(() => stored.event);
    return { outcome: 'finished', trial: stored.t };
  }

  /** Puts the attempt's model and weights in the artifact store; their keys (none without a store). */
  private async storeArtifacts(
    search: Search,
    trial: Trial,
    lease: TrialLease,
    metrics: TrialMetrics,
  ): Promise<{ kind: 'model' | 'weights'; key: string }[]> {
    const store = this.deps.artifacts;
    if (!store) return [];
    const precision = trial.genome.quantization?.precision ?? 'fp32';
    const files = [
      ...(metrics.onnxPath
        ? [{ kind: 'model' as const, path: metrics.onnxPath, name: `model-${precision}.onnx` }]
        : []),
      ...(metrics.weightsPath
        ? [{ kind: 'weights' as const, path: metrics.weightsPath, name: 'weights.safetensors' }]
        : []),
    ];
    const out: { kind: 'model' | 'weights'; key: string }[] = [];
    for (const f of files) {
      const key = trialArtifactKey(search.id, trial.id, lease.attempt, f.name);
      const info = await putFile(store, key, f.path);
      this.deps.log?.('artifact stored', {
        trialId: trial.id,
        key,
        size: info.size,
        sha256: info.sha256,
        store: store.kind,
      });
      out.push({ kind: f.kind, key });
    }
    return out;
  }

  /** Records the epoch and, at a rung, decides promotion; 'lost' when the lease is gone. */
  private async onEpoch(
    search: Search,
    trial: Trial,
    lease: TrialLease,
    m: EpochReport,
  ): Promise<EpochDecision | 'lost'> {
    const fidelity = search.fidelity;
    const rung = rungIndex(fidelity, m.epoch);
    const ok = await this.deps.trials.recordEpoch(trial.id, lease, m, Math.max(0, rung));
    if (!ok) return 'lost';
    let decision: EpochDecision = 'continue';
    if (rung >= 0 && m.map50_95 !== undefined) {
      const competitors = await this.deps.trials.rungEntries(search.id, m.epoch);
      decision = promotes(trial.id, competitors, search.objectives, fidelity.eta ?? 3) ? 'continue' : 'stop';
    }
    await this.emit(() => ({
      type: 'trial-epoch',
      searchId: search.id,
      trialId: trial.id,
      number: trial.number,
      epoch: m,
      decision,
    }));
    return decision;
  }

  private async progress(search: Search): Promise<SearchProgress> {
    return progressOf(await this.deps.trials.counts(search.id), search.budget.trials, search.reusedTrials);
  }
}

export function resultOf(
  search: Search,
  trial: Trial,
  metrics: TrialMetrics | null,
  error: unknown,
  pruned: boolean,
): TrialResult {
  if (!metrics) {
    const message = error instanceof Error ? error.message : String(error ?? 'evaluator returned nothing');
    return { status: 'failed', error: message.slice(0, 4000) };
  }
  const inputs = {
    map50_95: metrics.map50_95,
    latencyMs: metrics.latencyMs,
    sizeBytes: metrics.sizeBytes,
    params: metrics.params,
    gflops: metrics.gflops,
  };
  return {
    status: pruned ? 'pruned' : 'completed',
    map50: metrics.map50,
    map50_95: metrics.map50_95,
    fp32Map50_95: metrics.fp32Map50_95 ?? null,
    latencyMs: metrics.latencyMs,
    latencyPerProfile: { [search.hardwareProfile]: metrics.latencyMs },
    measuredLatencyMs: metrics.measuredLatencyMs ?? null,
    latencySource: metrics.latencySource ?? null,
    latencyProvenance: metrics.latencyProvenance ?? null,
    params: metrics.params,
    gflops: metrics.gflops,
    sizeBytes: metrics.sizeBytes,
    objectiveValues: objectiveVector(search.objectives, inputs),
    constraintValues: constraintVector(search.constraints, inputs),
    backend: metrics.backend,
    notes: metrics.notes ?? null,
    onnxPath: metrics.onnxPath ?? null,
    epochMetrics: metrics.epochs.length > 0 ? metrics.epochs : trial.epochMetrics,
    ...((metrics as EstimatedMetrics).estimate
      ? { estimateMap50: metrics.map50, estimateMap50_95: metrics.map50_95 }
      : {}),
  };
}
