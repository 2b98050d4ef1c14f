import type { Database, Trial, TrialRepository } from '@detsearch/persistence';
import type { TrialDispatcher } from '../search-runner';

export interface ReaperOptions {
  /** An attempt silent this long is presumed dead (default 30 s: six missed 5 s heartbeats). */
  staleMs?: number;
  /** Attempts a trial gets before a lost one fails it for good (default 3). */
  maxAttempts?: number;
}

export const DEFAULT_STALE_MS = 30_000;
export const DEFAULT_MAX_ATTEMPTS = 3;

export interface ReapResult {
  requeued: Trial[];
  failed: Trial[];
  /** Queued trials whose job was lost, given a new one. */
  redispatched: Pick<Trial, 'id' | 'searchId'>[];
}

/**
 * Finds trial attempts whose worker stopped heartbeating (SIGKILL, machine lost, network cut)
 * and, in one transaction, puts each back in the queue with a fresh job, or fails it with the
 * reason once it used up its attempts. Safe to run in every worker and in the API at once: each
 * stale row is taken by exactly one UPDATE. A presumed-dead worker that was only slow keeps
 * running, but its heartbeats, epochs and result are refused from then on (the fencing in
 * TrialRepository), so nothing it sends overwrites or duplicates the retry's.
 */
export class TrialReaper {
  readonly staleMs: number;
  readonly maxAttempts: number;

  constructor(
    private readonly db: Database,
    private readonly trials: TrialRepository,
    private readonly dispatcher: TrialDispatcher | undefined,
    options: ReaperOptions = {},
    private readonly log?: (msg: string, extra?: Record<string, unknown>) => void,
  ) {
    this.staleMs = options.staleMs ?? DEFAULT_STALE_MS;
    this.maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  }

  async sweep(searchId?: string): Promise<ReapResult> {
    const result: ReapResult = await this.db.transaction(
      async (tx) => {
        const r = await this.trials.reapStale(
          { staleMs: this.staleMs, maxAttempts: this.maxAttempts, ...(searchId ? { searchId } : {}) },
          tx,
        );
        // A queued trial whose job went missing (taken by a worker that lost its connection before
        // claiming the trial) would otherwise wait for the job's expiry, hours later.
        const redispatched = (await this.dispatcher?.orphans?.(tx, this.staleMs, searchId)) ?? [];
        await this.dispatcher?.enqueue(tx, [...r.requeued, ...redispatched]);
        return { ...r, redispatched };
      },
      { retries: 3 },
    );
    for (const t of result.requeued)
      this.log?.('re-queued a trial whose worker went silent', { trialId: t.id, error: t.error });
    for (const t of result.redispatched)
      this.log?.('re-dispatched a queued trial whose job was lost', { trialId: t.id });
    for (const t of result.failed)
      this.log?.('failed a trial that lost its worker too often', { trialId: t.id, error: t.error });
    return result;
  }

  /** Sweeps every `everyMs` until the returned function is called. */
  every(everyMs: number): () => void {
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      this.sweep()
        .catch((err) => this.log?.('reaper sweep failed', { error: String(err) }))
        .finally(() => (busy = false));
    }, everyMs);
    timer.unref();
    return () => clearInterval(timer);
  }
}
