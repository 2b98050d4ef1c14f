import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { DomainError } from '@detsearch/common';
import { ChildRunError } from '@detsearch/training';
import { supernetChildEntry } from './child-entry-path';
import type { CandidateScore, ScoreCandidateOptions } from './types';

/** Messages of a long-lived scoring child (see child-entry.ts). */
export type ScorerRequest = { type: 'score'; id: number; options: Omit<ScoreCandidateOptions, 'signal'> };
export type ScorerReply =
  | { type: 'scored'; id: number; result: CandidateScore }
  | { type: 'failed'; id: number; message: string; code?: string };

interface Pending {
  resolve: (r: CandidateScore) => void;
  reject: (e: Error) => void;
}

/**
 * A child process that scores candidates one after another and keeps what they share (the supernet,
 * the dataset, the BatchNorm recalibration images) between them: a search scores hundreds of
 * candidates, and starting a process, the wasm backend and the dataset for each would cost more than
 * the scoring. Requests queue in the child; `close()` (or the signal) ends it.
 */
export class CandidateScorer {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private exited = false;

  private constructor(signal?: AbortSignal) {
    const entry = supernetChildEntry();
    this.child = fork(entry.file, [], {
      execArgv: entry.execArgv,
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    this.child.stdout?.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    this.child.on('message', (raw) => {
      const m = raw as ScorerReply | { type: string };
      if (m.type !== 'scored' && m.type !== 'failed') return;
      const reply = m as ScorerReply;
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (reply.type === 'scored') p.resolve(reply.result);
      else
        p.reject(reply.code ? new DomainError(reply.code, reply.message) : new ChildRunError(reply.message));
    });
    this.child.on('exit', (code, sig) => {
      this.exited = true;
      const e = new ChildRunError(
        `supernet scorer exited ${sig ? `on signal ${sig}` : `with code ${code}`}`,
        'CHILD_EXITED',
      );
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    });
    signal?.addEventListener('abort', () => void this.close(), { once: true });
  }

  static open(options: { signal?: AbortSignal } = {}): CandidateScorer {
    return new CandidateScorer(options.signal);
  }

  /** Its process has exited (closed, killed or crashed): it scores nothing more. */
  get closed(): boolean {
    return this.exited;
  }

  score(options: Omit<ScoreCandidateOptions, 'signal' | 'inProcess'>): Promise<CandidateScore> {
    if (this.exited) return Promise.reject(new ChildRunError('supernet scorer is closed', 'CHILD_EXITED'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const request: ScorerRequest = { type: 'score', id, options };
      this.child.send(request);
    });
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    await exited;
  }
}

/** What the pool needs of a scoring process. */
type Scorer = Pick<CandidateScorer, 'score' | 'close' | 'closed'>;

/**
 * Scoring processes for concurrent requests (a search evaluating N trials at once): a request goes
 * to an idle process, else to a new one while there are fewer than `max`, else to the least busy.
 * The wasm backend is single-threaded, so N processes are how N cores score; each keeps its own
 * copy of the supernet and the data. A process that died (a crash, an OOM kill) is replaced by the
 * next request instead of failing every later one.
 */
export class CandidateScorerPool {
  private readonly slots: Array<{ scorer: Scorer; busy: number }> = [];
  private closing = false;

  private constructor(
    private readonly max: number,
    private readonly openScorer: () => Scorer,
    private readonly signal?: AbortSignal,
  ) {}

  /** `max` processes at most (default the machine's cores). */
  static open(
    options: {
      max?: number;
      signal?: AbortSignal;
      /** Replaces the scoring process (tests of the pool). */
      openScorer?: () => Scorer;
    } = {},
  ): CandidateScorerPool {
    const max = Math.max(1, Math.floor(options.max ?? availableParallelism()));
    return new CandidateScorerPool(
      max,
      options.openScorer ?? (() => CandidateScorer.open({ signal: options.signal })),
      options.signal,
    );
  }

  /** Processes open now. */
  get size(): number {
    return this.slots.length;
  }

  async score(options: Omit<ScoreCandidateOptions, 'signal' | 'inProcess'>): Promise<CandidateScore> {
    if (this.closing || this.signal?.aborted)
      throw new ChildRunError('supernet scorer is closed', 'CHILD_EXITED');
    for (let i = this.slots.length - 1; i >= 0; i--)
      if (this.slots[i]!.scorer.closed) this.slots.splice(i, 1);
    let slot = this.slots.find((s) => s.busy === 0);
    if (!slot && this.slots.length < this.max) {
      slot = { scorer: this.openScorer(), busy: 0 };
      this.slots.push(slot);
    }
    slot ??= this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    slot.busy++;
    try {
      return await slot.scorer.score(options);
    } finally {
      slot.busy--;
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map((s) => s.scorer.close()));
    this.slots.length = 0;
  }
}
