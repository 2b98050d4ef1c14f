import { availableParallelism } from 'node:os';
import { buildIR, genomeKey, modelCost } from '@detsearch/genome';
import { predictLatency, predictedProvenance, type HardwareProfile } from '@detsearch/latency';
import {
  asBackgroundWork,
  isConnectionError,
  type Database,
  type NewTrial,
  type Search,
  type SearchRepository,
  type Trial,
  type TrialRepository,
  type Tx,
} from '@detsearch/persistence';
import {
  compileSearchSpace,
  validateSearchSpaceSpec,
  type CompiledSearchSpace,
} from '@detsearch/search-space';
import { createStrategy } from '@detsearch/domain';
import type { Strategy, TrialRecord } from '@detsearch/strategies';
import type { ArtifactStore } from '@detsearch/artifacts';
import type { SearchEventBus } from './events';
import { runFinalStage, type FinalStageDeps } from './final-stage';
import { progressOf, TrialJobHandler, type EventSink } from './trial-job';
import { preferDistinctTrainings } from './distinct-trainings';
import { warmStart } from './warm-start';
import type { SearchProgress, TrialEvaluator } from './types';

/** Error text of trials ended by a cancel; a resume re-queues exactly these. */
export const CANCELLED_REASON = 'search cancelled';

/** Hook for a job queue: called in the transaction that creates trials (pg-boss jobs). */
export interface TrialDispatcher {
  enqueue(tx: Tx, trials: Pick<Trial, 'id' | 'searchId'>[]): Promise<void>;
  /** Queued trials whose job was lost (a queue with jobs that can go missing implements it). */
  orphans?(tx: Tx, staleMs: number, searchId?: string): Promise<Pick<Trial, 'id' | 'searchId'>[]>;
}

/**
 * Queue mode: trials are evaluated by `detsearch worker` processes that take their jobs from the
 * queue; the loop only creates trials (with their jobs, through the dispatcher) and waits.
 */
export interface QueueMode {
  /** How many trials to keep queued or running: the live workers' slots plus a little prefetch. */
  outstanding(): Promise<number>;
  /** Re-check the rows this often even without a notification (a dropped LISTEN connection). */
  pollMs: number;
}

export interface RunnerDeps {
  db: Database;
  searches: SearchRepository;
  trials: TrialRepository;
  /** This process's bus: live events (relayed from other processes in queue mode). */
  events: SearchEventBus;
  /** Where the loop's own events go (default: `events`); in queue mode also to other processes. */
  sink?: EventSink;
  runnerId: string;
  /** In-process: trials evaluated at once. */
  concurrency: number;
  leaseMs: number;
  dispatcher?: TrialDispatcher;
  /** Absent: trials are evaluated in this process through the same job handler workers use. */
  queue?: QueueMode;
  /** In-process trial heartbeat (default 10 s). */
  heartbeatMs?: number;
  profile: (name: string) => HardwareProfile;
  /** Where trials' models and weights are stored (rows hold their keys). */
  artifacts?: ArtifactStore;
  log?: (msg: string, extra?: Record<string, unknown>) => void;
}

export type StopReason = 'cancel' | 'shutdown' | 'abandon' | 'lease-lost';

/**
 * Drives one search: ask the strategy for as many candidates as there are free slots, create them
 * (one transaction, with their queue jobs when there is a queue), have them evaluated, repeat
 * until the trial budget is created and finished, the wall clock runs out, or it is stopped.
 * In-process, trials run here with bounded concurrency through the TrialJobHandler; in queue mode
 * workers run the same handler and the loop waits for their results in the rows. All state lives
 * in the rows, so a new runner continues where a dead one left off.
 */
export class SearchRunner {
  readonly done: Promise<void>;
  private readonly stop = new AbortController();
  /** Aborted when the wall-clock budget runs out: in-process trials still running then stop. */
  private readonly wallClock = new AbortController();
  private stopReason: StopReason | null = null;
  private readonly inFlight = new Map<string, Promise<void>>();
  private strategy!: Strategy;
  private space!: CompiledSearchSpace;
  private heartbeat: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  /** An attempt here ended with a lost connection: its row is still 'running' under this runner. */
  private abandonedTrials = false;
  /** A trial finished while the loop was busy: the next wait returns at once. */
  private missedWake = false;
  private readonly handler: TrialJobHandler;
  private readonly sink: EventSink;

  constructor(
    private search: Search,
    private readonly evaluator: TrialEvaluator,
    private readonly deps: RunnerDeps,
  ) {
    this.sink = deps.sink ?? deps.events;
    this.handler = new TrialJobHandler({
      db: deps.db,
      searches: deps.searches,
      trials: deps.trials,
      evaluatorFor: async () => evaluator,
      events: this.sink,
      heartbeatMs: deps.heartbeatMs ?? 10_000,
      ...(deps.artifacts ? { artifacts: deps.artifacts } : {}),
      log: deps.log,
    });
    // Background priority on the embedded connection: request handlers' reads go first.
    this.done = asBackgroundWork(() => this.run().catch((err) => this.fail(err)));
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
    this.strategy = createStrategy(this.search.strategy);
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
    let outcome: { timeUp: boolean; exhausted: string | null };
    try {
      await this.prepareEvaluator();
      if (!this.stopReason) await this.untilConnected(() => this.warmStart());
      // Reused trials are rows of the search but not part of its budget.
      const cap = budget + this.search.reusedTrials;
      outcome = await this.untilConnected(() =>
        this.deps.queue ? this.loopQueued(cap, deadline, this.deps.queue) : this.loopInProcess(cap, deadline),
      );
      await Promise.allSettled(this.inFlight.values());
      if (!this.stopReason) await runFinalStage(this.finalStageDeps());
    } finally {
      await Promise.allSettled(this.inFlight.values());
      await this.disposeEvaluator();
    }
    const { timeUp, exhausted } = outcome;
    this.clearHeartbeat();
    if (!this.writable) return;
    if (this.stopReason === 'shutdown') {
      // Let another process (or the next start) pick the search up at once. In queue mode the
      // workers keep running its trials; only trials evaluated here go back in the queue.
      if (!this.deps.queue) await trials.requeue(this.id, { workerIds: [this.deps.runnerId] });
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

  private finalStageDeps(): FinalStageDeps {
    return {
      search: this.search,
      evaluator: this.evaluator,
      trials: this.deps.trials,
      signal: this.stop.signal,
      publish: (e) => this.sink.publish(e),
      ...(this.deps.artifacts ? { artifacts: this.deps.artifacts } : {}),
      log: this.deps.log,
      // Fine-tunings train here (not on queue workers): as many at once as trials ran, up to the cores.
      concurrency: Math.min(this.deps.concurrency, availableParallelism()),
    };
  }

  /**
   * Runs the loop again (it reads all it needs from the rows) while the database connection is what
   * fails: a killed session or an outage pauses the search instead of failing it.
   */
  private async untilConnected<T>(loop: () => Promise<T>): Promise<T> {
    for (let wait = 100; ; wait = Math.min(2000, wait * 2)) {
      try {
        return await loop();
      } catch (err) {
        if (!isConnectionError(err) || this.stopReason) throw err;
        this.deps.log?.('database connection lost; the search loop retries', {
          searchId: this.id,
          error: String(err),
        });
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  /** Evaluates trials here, `concurrency` at a time. */
  private async loopInProcess(budget: number, deadline: number) {
    const { trials } = this.deps;
    let timeUp = false;
    let exhausted: string | null = null;
    for (;;) {
      // A fast evaluator resolves everything in microtasks; without a macrotask turn per round the
      // loop would hold the event loop (and every request, and SIGTERM) until the budget is spent.
      await yieldToEventLoop();
      if (this.stopReason) break;
      if (Date.now() >= deadline) {
        timeUp = true;
        // Trials still running stop now (their rows are failed below), not when they end.
        this.wallClock.abort('wall-clock budget spent');
      }
      if (this.abandonedTrials && this.inFlight.size === 0) {
        // None of ours is in flight, so any row running under this runner was abandoned: run it again.
        await trials.requeue(this.id, { workerIds: [this.deps.runnerId] });
        this.abandonedTrials = false;
      }
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
      await this.waitForSlot(deadline);
    }
    return { timeUp, exhausted };
  }

  /**
   * Queue mode: keep `outstanding()` trials queued or running (each created with its job in one
   * transaction) and wait for workers to finish them; decisions come from the rows as in-process.
   */
  private async loopQueued(budget: number, deadline: number, queue: QueueMode) {
    const { trials } = this.deps;
    let timeUp = false;
    let exhausted: string | null = null;
    const unsubscribe = this.deps.events.subscribe(this.id, (e) => {
      if (e.type === 'trial-completed') this.poke();
    });
    try {
      for (;;) {
        await yieldToEventLoop();
        if (this.stopReason) break;
        if (Date.now() >= deadline) timeUp = true;
        const c = await trials.counts(this.id);
        let open = c.queued + c.running;
        if (!timeUp && c.total < budget) {
          const want = Math.min((await queue.outstanding()) - open, budget - c.total);
          if (want > 0 && !this.stopReason) {
            const fresh = await this.createTrials(want);
            open += fresh.length;
            if (fresh.length === 0 && open === 0) {
              exhausted = `the strategy proposed no new candidate after ${c.total} trials (search space exhausted?)`;
              break;
            }
          }
        }
        if (open === 0 && (timeUp || c.total >= budget)) break;
        if (timeUp) break; // unfinished trials are failed below; their workers notice at the next heartbeat
        await this.waitForWake(Math.min(queue.pollMs, Math.max(1, deadline - Date.now())));
      }
    } finally {
      unsubscribe();
    }
    return { timeUp, exhausted };
  }

  private async createTrials(n: number): Promise<Trial[]> {
    const { db, trials, dispatcher } = this.deps;
    const profile = this.deps.profile(this.search.hardwareProfile);
    return db.transaction(
      async (tx) => {
        const history = await trials.history(this.id, tx);
        // Queued and running rows go in as they are: they are the strategy's pending points, so
        // asks made while other workers run propose different candidates (see the strategies).
        const records: TrialRecord[] = history.map((h) => ({
          params: h.searchParams as TrialRecord['params'],
          status: h.status,
          ...(h.objectiveValues ? { values: h.objectiveValues } : {}),
          ...(h.constraintValues ? { constraints: h.constraintValues } : {}),
          fidelity: h.epochsDone,
        }));
        const fidelity = this.search.fidelity;
        const trainingKey = this.evaluator.trainingKey?.bind(this.evaluator);
        // Repeats are dropped where a second evaluation would only repeat a result.
        const onlyNewGenomes = trainingKey !== undefined || this.evaluator.repeatable === true;
        const asked = this.strategy.ask(
          {
            space: this.space,
            history: records,
            seed: this.search.seed,
            objectives: this.search.objectives.length,
          },
          // Spare proposals to choose new genomes and distinct trainings from (strategies are pure:
          // asking is cheap).
          onlyNewGenomes ? n * TRAINING_KEY_SPARE : n,
        );
        let points = asked;
        if (onlyNewGenomes) {
          const tried = history.map((h) => this.space.decode(h.searchParams as TrialRecord['params']));
          // A genome already tried, or proposed twice, would only repeat a result.
          const seen = new Set(tried.map(genomeKey));
          const fresh = asked
            .map((params) => ({ params, genome: this.space.decode(params) }))
            .filter(({ genome }) => {
              const key = genomeKey(genome);
              if (seen.has(key)) return false;
              seen.add(key);
              return true;
            });
          let chosen = fresh;
          if (trainingKey) {
            const trainFidelity = {
              epochs: fidelity.epochs,
              ...(fidelity.imageSize ? { imageSize: fidelity.imageSize } : {}),
            };
            const running = new Set(
              history.flatMap((h, i) =>
                h.status === 'queued' || h.status === 'running'
                  ? [trainingKey(tried[i]!, trainFidelity)]
                  : [],
              ),
            );
            chosen = preferDistinctTrainings(fresh, (c) => trainingKey(c.genome, trainFidelity), running);
          }
          points = chosen.slice(0, n).map((c) => c.params);
        }
        const first = await trials.nextNumber(this.id, tx);
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
            latencySource: 'predicted',
            latencyProvenance: predictedProvenance(profile),
            evaluator: this.search.evaluator,
          };
        });
        const created = await trials.create(rows, tx);
        await dispatcher?.enqueue(tx, created);
        return created;
        // A deadlock victim is asked again: the strategy is a pure function of the rows it reads.
      },
      { retries: 3 },
    );
  }

  private start(trial: Trial): void {
    const p = yieldToEventLoop()
      .then(() =>
        this.handler.run(trial.id, {
          workerId: this.deps.runnerId,
          signal: AbortSignal.any([this.stop.signal, this.wallClock.signal]),
          search: this.search,
        }),
      )
      .then(() => undefined)
      .catch((err) => {
        this.deps.log?.('trial execution error', { trialId: trial.id, error: String(err) });
        if (isConnectionError(err)) this.abandonedTrials = true;
      })
      .finally(() => {
        this.inFlight.delete(trial.id);
        this.poke();
      });
    this.inFlight.set(trial.id, p);
  }

  private poke(): void {
    if (this.wake) this.wake();
    else this.missedWake = true;
  }

  private waitForSlot(deadline: number): Promise<void> {
    // Nothing in flight and nothing creatable (e.g. queued rows claimed elsewhere): poll. Else
    // until a trial ends, or the wall clock does.
    if (this.inFlight.size === 0) return this.waitForWake(200);
    return this.waitForWake(deadline === Infinity ? undefined : Math.max(1, deadline - Date.now()));
  }

  private waitForWake(timeoutMs?: number): Promise<void> {
    if (this.stopReason || this.missedWake) {
      this.missedWake = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      this.wake = () => {
        this.wake = null;
        clearTimeout(timer);
        resolve();
      };
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => this.wake?.(), timeoutMs);
        timer.unref();
      }
    });
  }

  async progress(): Promise<SearchProgress> {
    return progressOf(
      await this.deps.trials.counts(this.id),
      this.search.budget.trials,
      this.search.reusedTrials,
    );
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

  /** Earlier evaluations of the same genomes at the same fidelity, copied in before the first ask. */
  private async warmStart(): Promise<void> {
    const before = this.search.warmStartKey;
    this.search = await warmStart(this.search, {
      db: this.deps.db,
      searches: this.deps.searches,
      trials: this.deps.trials,
      space: this.space,
      profile: this.deps.profile(this.search.hardwareProfile),
    });
    if (before === null && this.search.reusedTrials > 0)
      this.deps.log?.('warm start: reused earlier evaluations', {
        searchId: this.id,
        reused: this.search.reusedTrials,
      });
  }

  /** The evaluator's search-level work (e.g. a shared supernet), once, before the first trial. */
  private async prepareEvaluator(): Promise<void> {
    if (!this.evaluator.prepare || this.stopReason) return;
    const f = this.search.fidelity;
    try {
      await this.evaluator.prepare({
        searchId: this.id,
        space: this.space.spec,
        ...(this.search.dataset ? { dataset: this.search.dataset } : {}),
        hardwareProfile: this.search.hardwareProfile,
        fidelity: { ...f },
        seed: this.search.seed,
        signal: this.stop.signal,
        onProgress: (p) => {
          this.deps.log?.('evaluator prepare', { searchId: this.id, ...p });
          void this.sink.publish({ type: 'prepare-progress', searchId: this.id, ...p });
        },
      });
    } catch (err) {
      // Stopped while preparing (cancel, shutdown): end like a stop during the loop.
      if (!this.stopReason) throw err;
      return;
    }
    // prepare may have recorded things on the row (e.g. the supernet it found or trained).
    this.search = (await this.deps.searches.get(this.id)) ?? this.search;
  }

  /** Releases what `prepare` built; a failure here is logged, never the search's outcome. */
  private async disposeEvaluator(): Promise<void> {
    if (!this.evaluator.dispose) return;
    try {
      await this.evaluator.dispose({ searchId: this.id });
    } catch (err) {
      this.deps.log?.('evaluator dispose failed', { searchId: this.id, error: String(err) });
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
    if (isConnectionError(err)) {
      // Not the search's fault: leave it running; once its lease lapses, a sweep resumes it.
      this.deps.log?.('search loop stopped by a lost database connection; it will be resumed', {
        searchId: this.id,
        error: message,
      });
      return;
    }
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
    const { searches, trials } = this.deps;
    const best = await trials.bestSoFar(this.id);
    await searches.setBest(this.id, best);
    await searches.releaseLease(this.id, this.deps.runnerId);
    const row = await searches.get(this.id);
    await this.sink.publish({
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

/** Proposals asked per free slot when the evaluator shares trainings between genomes. */
const TRAINING_KEY_SPARE = 4;

/** One macrotask turn: timers, I/O callbacks and signal handlers run before the caller goes on. */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export { progressOf };
