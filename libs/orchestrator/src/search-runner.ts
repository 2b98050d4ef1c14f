import { buildIR, genomeKey, modelCost } from '@detsearch/genome';
import { predictLatency, type HardwareProfile } from '@detsearch/latency';
import type {
  Database,
  NewTrial,
  Search,
  SearchRepository,
  Trial,
  TrialLease,
  TrialRepository,
  Tx,
} from '@detsearch/persistence';
import {
  compileSearchSpace,
  validateSearchSpaceSpec,
  type CompiledSearchSpace,
} from '@detsearch/search-space';
import { createStrategy, type Strategy, type StrategyName, type TrialRecord } from '@detsearch/strategies';
import { promotes, rungIndex } from './asha';
import type { SearchEventBus } from './events';
import { constraintVector, objectiveVector } from './objectives';
import type { EpochDecision, EpochReport, SearchProgress, TrialEvaluator, TrialMetrics } from './types';

/** Error text of trials ended by a cancel; a resume re-queues exactly these. */
export const CANCELLED_REASON = 'search cancelled';

/** Hook for a job queue: called in the transaction that creates trials (issue 8: pg-boss jobs). */
export interface TrialDispatcher {
  enqueue(tx: Tx, trials: Trial[]): Promise<void>;
}

export interface RunnerDeps {
  db: Database;
  searches: SearchRepository;
  trials: TrialRepository;
  events: SearchEventBus;
  runnerId: string;
  concurrency: number;
  leaseMs: number;
  dispatcher?: TrialDispatcher;
  profile: (name: string) => HardwareProfile;
  log?: (msg: string, extra?: Record<string, unknown>) => void;
}

export type StopReason = 'cancel' | 'shutdown' | 'abandon' | 'lease-lost';

/**
 * Drives one search in this process: ask the strategy for as many candidates as there are free
 * slots, create them (one transaction), evaluate them with bounded concurrency, record, repeat
 * until the trial budget is created and finished, the wall clock runs out, or it is stopped.
 * All state lives in the rows, so a new runner continues where a dead one left off.
 */
export class SearchRunner {
  readonly done: Promise<void>;
  private readonly stop = new AbortController();
  private stopReason: StopReason | null = null;
  private readonly inFlight = new Map<string, Promise<void>>();
  private strategy!: Strategy;
  private space!: CompiledSearchSpace;
  private heartbeat: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  /** A trial finished while the loop was busy: the next wait returns at once. */
  private missedWake = false;

  constructor(
    private search: Search,
    private readonly evaluator: TrialEvaluator,
    private readonly deps: RunnerDeps,
  ) {
    this.done = this.run().catch((err) => this.fail(err));
  }

  get id(): string {
    return this.search.id;
  }

  /** Stops the loop. 'cancel': in-flight trials are aborted (the caller marks rows). 'shutdown':
   * in-flight trials are aborted and re-queued for whoever resumes. 'abandon': a simulated crash,
   * nothing more is written. */
  requestStop(reason: StopReason): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    this.stop.abort(reason);
    this.wake?.();
  }

  private get writable(): boolean {
    return this.stopReason !== 'abandon' && this.stopReason !== 'lease-lost';
  }

  private async run(): Promise<void> {
    const { searches, trials } = this.deps;
    this.space = compileSearchSpace(validateSearchSpaceSpec(this.search.searchSpace));
    this.strategy = createStrategy(this.search.strategy as StrategyName);
    const started = await searches.transition(this.id, ['queued', 'running'], 'running', { started: true });
    if (!started) return; // cancelled between launch and start
    this.search = started;
    this.heartbeat = setInterval(() => void this.renewLease(), Math.max(50, this.deps.leaseMs / 3));
    this.heartbeat.unref();

    const budget = this.search.budget.trials;
    const deadline =
      this.search.budget.wallClockMinutes !== undefined && this.search.startedAt
        ? this.search.startedAt.getTime() + this.search.budget.wallClockMinutes * 60_000
        : Infinity;
    let timeUp = false;
    let exhausted: string | null = null;

    for (;;) {
      if (this.stopReason) break;
      if (Date.now() >= deadline) timeUp = true;
      // Trials already queued (re-queued after a crash, or by a resume) go first.
      if (this.inFlight.size < this.deps.concurrency && !timeUp) {
        for (const t of await trials.byStatus(this.id, 'queued')) {
          if (this.inFlight.size >= this.deps.concurrency) break;
          if (!this.inFlight.has(t.id)) this.start(t);
        }
      }
      const free = this.deps.concurrency - this.inFlight.size;
      const created = (await trials.counts(this.id)).total;
      if (free > 0 && created < budget && !timeUp && !this.stopReason) {
        const fresh = await this.createTrials(Math.min(free, budget - created));
        for (const t of fresh) this.start(t);
        if (fresh.length === 0 && this.inFlight.size === 0) {
          exhausted = `the strategy proposed no new candidate after ${created} trials (search space exhausted?)`;
          break;
        }
      }
      if (this.inFlight.size === 0) {
        const c = await trials.counts(this.id);
        if (timeUp || (c.total >= budget && c.queued === 0 && c.running === 0)) break;
      }
      await this.waitForSlot();
    }

    await Promise.allSettled(this.inFlight.values());
    this.clearHeartbeat();
    if (!this.writable) return;
    if (this.stopReason === 'shutdown') {
      // Let another process (or the next start) pick the search up at once.
      await trials.requeue(this.id, { workerIds: [this.deps.runnerId] });
      await searches.releaseLease(this.id, this.deps.runnerId);
      return;
    }
    if (this.stopReason === 'cancel') {
      // Rows created while the cancel was on its way end too.
      await trials.failUnfinished(this.id, CANCELLED_REASON);
      await this.finishSearch(null);
      return;
    }
    if (timeUp) await trials.failUnfinished(this.id, 'wall-clock budget spent before the trial finished');
    const finished = await searches.transition(this.id, ['running'], 'completed', {
      finished: true,
      ...(exhausted ? { error: exhausted } : {}),
    });
    if (finished) this.search = finished;
    await this.finishSearch(null);
  }

  private async createTrials(n: number): Promise<Trial[]> {
    const { db, trials, dispatcher } = this.deps;
    const profile = this.deps.profile(this.search.hardwareProfile);
    return db.transaction(async (tx) => {
      const history = await trials.history(this.id, tx);
      const records: TrialRecord[] = history.map((h) => ({
        params: h.searchParams as TrialRecord['params'],
        status: h.status,
        ...(h.objectiveValues ? { values: h.objectiveValues } : {}),
        ...(h.constraintValues ? { constraints: h.constraintValues } : {}),
        fidelity: h.epochsDone,
      }));
      const points = this.strategy.ask(
        {
          space: this.space,
          history: records,
          seed: this.search.seed,
          objectives: this.search.objectives.length,
        },
        n,
      );
      const first = await trials.nextNumber(this.id, tx);
      const fidelity = this.search.fidelity;
      const rows: NewTrial[] = points.map((params, i) => {
        const genome = this.space.decode(params);
        const ir = buildIR(genome);
        const cost = modelCost(ir);
        const latencyMs = predictLatency(ir, profile).predictedMs;
        return {
          searchId: this.id,
          number: first + i,
          genome,
          genomeKey: genomeKey(genome),
          searchParams: params,
          epochs: fidelity.epochs,
          imageSize: fidelity.imageSize ?? null,
          params: cost.params,
          gflops: cost.gflops,
          sizeBytes: cost.weightBytes[genome.quantization.precision],
          latencyMs,
          latencyPerProfile: { [profile.name]: latencyMs },
          evaluator: this.search.evaluator,
        };
      });
      const created = await trials.create(rows, tx);
      await dispatcher?.enqueue(tx, created);
      return created;
    });
  }

  private start(trial: Trial): void {
    const p = this.execute(trial)
      .catch((err) => this.deps.log?.('trial execution error', { trialId: trial.id, error: String(err) }))
      .finally(() => {
        this.inFlight.delete(trial.id);
        if (this.wake) this.wake();
        else this.missedWake = true;
      });
    this.inFlight.set(trial.id, p);
  }

  private waitForSlot(): Promise<void> {
    if (this.stopReason || this.missedWake) {
      this.missedWake = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = null;
        resolve();
      };
      // Nothing in flight and nothing creatable (e.g. queued rows claimed elsewhere): poll.
      if (this.inFlight.size === 0) setTimeout(() => this.wake?.(), 200).unref();
    });
  }

  private async execute(queued: Trial): Promise<void> {
    const { trials, events } = this.deps;
    const claimed = await trials.claim(queued.id, this.deps.runnerId);
    if (!claimed) return;
    const { trial, lease } = claimed;
    events.publish({
      type: 'trial-started',
      searchId: this.id,
      trialId: trial.id,
      number: trial.number,
      progress: await this.progress(),
    });
    const abort = new AbortController();
    const onStop = () => abort.abort(this.stopReason);
    this.stop.signal.addEventListener('abort', onStop, { once: true });
    const beat = setInterval(() => {
      if (this.writable) void trials.heartbeat(trial.id, lease).catch(() => undefined);
    }, 10_000);
    beat.unref();
    let pruned = false;
    let lost = false;
    let metrics: TrialMetrics | null = null;
    let error: unknown = null;
    try {
      metrics = await this.evaluator.evaluate(
        {
          trialId: trial.id,
          searchId: this.id,
          genome: trial.genome,
          fidelity: { epochs: trial.epochs, ...(trial.imageSize ? { imageSize: trial.imageSize } : {}) },
          hardwareProfile: this.search.hardwareProfile,
          ...(this.search.dataset ? { dataset: this.search.dataset } : {}),
          seed: this.search.seed,
        },
        {
          signal: abort.signal,
          onEpoch: async (m) => {
            const decision = await this.onEpoch(trial, lease, m);
            if (decision === 'lost') lost = true;
            else if (decision === 'stop') pruned = true;
            return decision === 'continue' ? 'continue' : 'stop';
          },
        },
      );
    } catch (err) {
      error = err;
    } finally {
      clearInterval(beat);
      this.stop.signal.removeEventListener('abort', onStop);
    }
    // Stopped by cancel/shutdown/crash, or someone else owns the trial now: record nothing here.
    if (lost || this.stopReason) return;

    const stored = await trials.finish(trial.id, lease, this.resultOf(trial, metrics, error, pruned));
    if (!stored) return;
    const best = await trials.bestSoFar(this.id);
    await this.deps.searches.setBest(this.id, best);
    events.publish({
      type: 'trial-completed',
      searchId: this.id,
      trialId: stored.id,
      number: stored.number,
      status: stored.status,
      map50_95: stored.map50_95,
      latencyMs: stored.latencyMs,
      progress: await this.progress(),
      best,
      paretoSize: best?.paretoSize ?? 0,
    });
  }

  private resultOf(trial: Trial, metrics: TrialMetrics | null, error: unknown, pruned: boolean) {
    if (!metrics) {
      const message = error instanceof Error ? error.message : String(error ?? 'evaluator returned nothing');
      return { status: 'failed' as const, error: message.slice(0, 4000) };
    }
    const inputs = {
      map50_95: metrics.map50_95,
      latencyMs: metrics.latencyMs,
      sizeBytes: metrics.sizeBytes,
      params: metrics.params,
      gflops: metrics.gflops,
    };
    return {
      status: pruned ? ('pruned' as const) : ('completed' as const),
      map50: metrics.map50,
      map50_95: metrics.map50_95,
      fp32Map50_95: metrics.fp32Map50_95 ?? null,
      latencyMs: metrics.latencyMs,
      latencyPerProfile: { [this.search.hardwareProfile]: metrics.latencyMs },
      measuredLatencyMs: metrics.measuredLatencyMs ?? null,
      params: metrics.params,
      gflops: metrics.gflops,
      sizeBytes: metrics.sizeBytes,
      objectiveValues: objectiveVector(this.search.objectives, inputs),
      constraintValues: constraintVector(this.search.constraints, inputs),
      backend: metrics.backend,
      notes: metrics.notes ?? null,
      onnxPath: metrics.onnxPath ?? null,
      epochMetrics: metrics.epochs.length > 0 ? metrics.epochs : trial.epochMetrics,
    };
  }

  /** Records the epoch and, at a rung, decides promotion; 'lost' when the lease is gone. */
  private async onEpoch(trial: Trial, lease: TrialLease, m: EpochReport): Promise<EpochDecision | 'lost'> {
    if (this.stopReason) return 'stop';
    const fidelity = this.search.fidelity;
    const rung = rungIndex(fidelity, m.epoch);
    const ok = await this.deps.trials.recordEpoch(trial.id, lease, m, Math.max(0, rung));
    if (!ok) return 'lost';
    let decision: EpochDecision = 'continue';
    if (rung >= 0 && m.map50_95 !== undefined) {
      const competitors = await this.deps.trials.rungEntries(this.id, m.epoch);
      decision = promotes(trial.id, competitors, this.search.objectives, fidelity.eta ?? 3)
        ? 'continue'
        : 'stop';
    }
    this.deps.events.publish({
      type: 'trial-epoch',
      searchId: this.id,
      trialId: trial.id,
      number: trial.number,
      epoch: m,
      decision,
    });
    return decision;
  }

  async progress(): Promise<SearchProgress> {
    return progressOf(await this.deps.trials.counts(this.id), this.search.budget.trials);
  }

  private async renewLease(): Promise<void> {
    if (!this.writable) return;
    try {
      const mine = await this.deps.searches.renewLease(this.id, this.deps.runnerId);
      if (!mine) {
        this.deps.log?.('lease lost; another runner took the search over', { searchId: this.id });
        this.requestStop('lease-lost');
        return;
      }
      // A cancel issued through another process shows up here.
      const row = await this.deps.searches.get(this.id);
      if (row && row.status === 'cancelled') this.requestStop('cancel');
    } catch (err) {
      this.deps.log?.('lease renewal failed', { searchId: this.id, error: String(err) });
    }
  }

  private clearHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private async fail(err: unknown): Promise<void> {
    this.clearHeartbeat();
    this.stop.abort('failed');
    await Promise.allSettled(this.inFlight.values());
    if (!this.writable) return;
    const message = err instanceof Error ? err.message : String(err);
    this.deps.log?.('search failed', { searchId: this.id, error: message });
    try {
      await this.deps.trials.failUnfinished(this.id, `search failed: ${message}`.slice(0, 4000));
      await this.deps.searches.transition(this.id, ['queued', 'running'], 'failed', {
        error: message,
        finished: true,
      });
      await this.finishSearch(message);
    } catch (e) {
      this.deps.log?.('could not record search failure', { searchId: this.id, error: String(e) });
    }
  }

  private async finishSearch(error: string | null): Promise<void> {
    const { searches, trials, events } = this.deps;
    const best = await trials.bestSoFar(this.id);
    await searches.setBest(this.id, best);
    await searches.releaseLease(this.id, this.deps.runnerId);
    const row = await searches.get(this.id);
    events.publish({
      type: 'search-completed',
      searchId: this.id,
      status: row?.status ?? 'failed',
      progress: await this.progress(),
      best,
      paretoSize: best?.paretoSize ?? 0,
      error: row?.error ?? error,
    });
  }
}

export function progressOf(c: Omit<SearchProgress, 'budget' | 'fraction'>, budget: number): SearchProgress {
  const finished = c.completed + c.pruned + c.failed;
  return { ...c, budget, fraction: budget > 0 ? Math.min(1, finished / budget) : 1 };
}
