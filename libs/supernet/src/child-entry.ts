/**
 * Entry of a supernet child process (runInChild with supernetChildEntry): one job, 'supernet-train'
 * 'supernet-score' or 'supernet-score-many', with progress streamed back over IPC, then the result or the error.
 */
import { isDomainError } from '@detsearch/common';
import type { ChildMessage, ParentMessage } from '@detsearch/training';
import { scoreCandidateInProcess, scoreCandidatesInProcess, type ScoreCandidatesOptions } from './score';
import type { ScorerReply, ScorerRequest } from './scorer';
import { trainSupernetInProcess } from './train';
import type { ScoreCandidateOptions, TrainSupernetOptions } from './types';

function send(m: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(m, undefined, {}, () => resolve());
  });
}

async function run(kind: string, payload: unknown): Promise<void> {
  try {
    let result: unknown;
    if (kind === 'supernet-train')
      result = await trainSupernetInProcess(
        payload as TrainSupernetOptions,
        (progress) => void send({ type: 'progress', progress }),
      );
    else if (kind === 'supernet-score')
      result = await scoreCandidateInProcess(payload as ScoreCandidateOptions);
    else if (kind === 'supernet-score-many')
      result = await scoreCandidatesInProcess(payload as ScoreCandidatesOptions);
    else throw new Error(`unknown job kind '${kind}'`);
    await send({ type: 'result', result });
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    await send({
      type: 'error',
      message: err.message,
      ...(isDomainError(e) ? { code: (e as { code: string }).code } : {}),
      stack: err.stack,
    });
  }
}

/** A long-lived scorer's request (CandidateScorer): one at a time, in arrival order. */
let queue: Promise<void> = Promise.resolve();
function scoreOne(r: ScorerRequest): void {
  queue = queue.then(async () => {
    try {
      const result = await scoreCandidateInProcess(r.options);
      process.send?.({ type: 'scored', id: r.id, result } satisfies ScorerReply);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      process.send?.({
        type: 'failed',
        id: r.id,
        message: err.message,
        ...(isDomainError(e) ? { code: (e as { code: string }).code } : {}),
      } satisfies ScorerReply);
    }
  });
}

if (process.send) {
  process.on('message', (raw) => {
    const m = raw as ParentMessage;
    if (m.type === 'start') void run(m.kind, m.payload).finally(() => process.disconnect());
    else if ((m as { type: string }).type === 'score') void scoreOne(m as unknown as ScorerRequest);
  });
  void send({ type: 'ready' });
}
