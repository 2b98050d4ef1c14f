import { describe, expect, it } from 'vitest';
import { CandidateScorerPool } from './scorer';
import type { CandidateScore } from './types';

/** A stand-in scoring process: requests resolve when the test says so. */
function fakeScorer(id: number, log: string[]) {
  const pending: Array<() => void> = [];
  let closed = false;
  return {
    id,
    pending,
    crash: () => {
      closed = true;
    },
    scorer: {
      get closed() {
        return closed;
      },
      score: (o: { outDir: string }) =>
        new Promise<CandidateScore>((resolve) => {
          log.push(`${id}:${o.outDir}`);
          pending.push(() => resolve({ map50: id } as CandidateScore));
        }),
      close: async () => {
        closed = true;
      },
    },
  };
}

const request = (outDir: string) =>
  ({ outDir, genome: {}, dataset: {}, hardwareProfile: 'x86-server' }) as unknown as Parameters<
    CandidateScorerPool['score']
  >[0];

/** A pool of stand-in processes, and what they were asked. */
function poolOfFakes(max: number) {
  const log: string[] = [];
  const made: ReturnType<typeof fakeScorer>[] = [];
  const pool = CandidateScorerPool.open({
    max,
    openScorer: () => {
      const f = fakeScorer(made.length, log);
      made.push(f);
      return f.scorer;
    },
  });
  return { pool, made, log };
}

describe('CandidateScorerPool', () => {
  it('opens a process per concurrent request up to max, then queues on the least busy', async () => {
    const { pool, made, log } = poolOfFakes(2);
    const a = pool.score(request('a'));
    const b = pool.score(request('b'));
    const c = pool.score(request('c'));
    expect(pool.size).toBe(2);
    expect(log).toEqual(['0:a', '1:b', '0:c']);
    made[1]!.pending[0]!();
    expect((await b).map50).toBe(1);
    // Process 1 is idle again: the next request goes there, no third process opens.
    const d = pool.score(request('d'));
    expect(log.at(-1)).toBe('1:d');
    expect(pool.size).toBe(2);
    made[0]!.pending.forEach((r) => r());
    made[1]!.pending.forEach((r) => r());
    expect((await Promise.all([a, c, d])).map((s) => s.map50)).toEqual([0, 0, 1]);
    await pool.close();
    await expect(pool.score(request('e'))).rejects.toThrow(/closed/);
  });

  it('replaces a process that died instead of failing every later request', async () => {
    const { pool, made, log } = poolOfFakes(1);
    const a = pool.score(request('a'));
    made[0]!.pending[0]!();
    await a;
    made[0]!.crash();
    const b = pool.score(request('b'));
    expect(made).toHaveLength(2);
    expect(log.at(-1)).toBe('1:b');
    made[1]!.pending[0]!();
    expect((await b).map50).toBe(1);
    await pool.close();
  });

  it('scores nothing once its signal aborted', async () => {
    const abort = new AbortController();
    const pool = CandidateScorerPool.open({
      max: 1,
      signal: abort.signal,
      openScorer: () => fakeScorer(0, []).scorer,
    });
    abort.abort();
    await expect(pool.score(request('a'))).rejects.toThrow(/closed/);
    expect(pool.size).toBe(0);
  });
});
