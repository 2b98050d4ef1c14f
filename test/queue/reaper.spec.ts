import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrialReaper, type TrialDispatcher } from '@detsearch/orchestrator';
import {
  SearchRepository,
  TrialRepository,
  type Database,
  type Trial,
  type TrialResult,
  type Tx,
} from '@detsearch/persistence';
import { openTarget, testTargets } from '../persistence/helpers';
import { newSearch, newTrial } from '../persistence/repository-contract';

/** Records what the reaper enqueued, as a queue would: inside the reaping transaction. */
class RecordingDispatcher implements TrialDispatcher {
  readonly sent: string[] = [];
  failNext = false;
  async enqueue(tx: Tx, trials: Trial[]): Promise<void> {
    await tx.query('SELECT 1');
    if (this.failNext) {
      this.failNext = false;
      throw new Error('queue unavailable');
    }
    this.sent.push(...trials.map((t) => t.id));
  }
}

const completed = (map: number): TrialResult => ({
  status: 'completed',
  map50_95: map,
  map50: map * 1.5,
  latencyMs: 3,
  objectiveValues: [-map, 3],
  constraintValues: [],
});

/** Makes a running attempt look silent for `ms` (a worker that stopped heartbeating). */
const silence = (db: Database, id: string, ms = 120_000) =>
  db.query(
    `UPDATE trials SET heartbeat_at = now() - make_interval(secs => $2::float8 / 1000) WHERE id = $1`,
    [id, ms],
  );

for (const target of testTargets()) {
  describe(`reaper, retry limit and late results on ${target.kind}`, () => {
    let db: Database;
    let searches: SearchRepository;
    let trials: TrialRepository;

    beforeAll(async () => {
      db = await openTarget(target);
      searches = new SearchRepository(db);
      trials = new TrialRepository(db);
    });
    afterAll(async () => {
      await db?.close();
      await target.cleanup();
    });

    async function searchWithTrials(n: number) {
      const s = await searches.create(newSearch());
      const created = await trials.create(Array.from({ length: n }, (_, i) => newTrial(s.id, i)));
      return { s, created };
    }

    it('re-queues a silent attempt with a new job in the same transaction, leaves live ones alone', async () => {
      const { created } = await searchWithTrials(3);
      const [a, b, c] = created;
      const dead = (await trials.claim(a!.id, 'w-dead'))!;
      await trials.claim(b!.id, 'w-live');
      await silence(db, a!.id);
      const dispatcher = new RecordingDispatcher();
      const reaper = new TrialReaper(db, trials, dispatcher, { staleMs: 30_000, maxAttempts: 3 });

      const r = await reaper.sweep();
      expect(r.requeued.map((t) => t.id)).toEqual([a!.id]);
      expect(r.failed).toEqual([]);
      expect(dispatcher.sent).toEqual([a!.id]);
      const after = (await trials.get(a!.id))!;
      expect(after).toMatchObject({ status: 'queued', workerId: null, attempts: dead.lease.attempt });
      expect(after.error).toMatch(/attempt 1 lost: no heartbeat for \d+ s from w-dead; re-queued/);
      expect((await trials.get(b!.id))!.status).toBe('running');
      expect((await trials.get(c!.id))!.status).toBe('queued');
      expect((await reaper.sweep()).requeued).toEqual([]); // nothing stale any more

      // The queue refuses the job: the re-queue rolls back with it, and the next sweep retries.
      const again = (await trials.claim(a!.id, 'w-dead-2'))!;
      await silence(db, a!.id);
      dispatcher.failNext = true;
      await expect(reaper.sweep()).rejects.toThrow('queue unavailable');
      expect((await trials.get(a!.id))!).toMatchObject({ status: 'running', workerId: 'w-dead-2' });
      expect((await reaper.sweep()).requeued.map((t) => t.id)).toEqual([a!.id]);
      expect(again.lease.attempt).toBe(2);
    });

    it('fails a trial with the reason once its attempts are used up, without a new job', async () => {
      const { created } = await searchWithTrials(1);
      const id = created[0]!.id;
      const dispatcher = new RecordingDispatcher();
      const reaper = new TrialReaper(db, trials, dispatcher, { staleMs: 30_000, maxAttempts: 2 });
      for (let attempt = 1; attempt <= 2; attempt++) {
        const claimed = (await trials.claim(id, `w${attempt}`))!;
        expect(claimed.lease.attempt).toBe(attempt);
        await silence(db, id);
        await reaper.sweep();
      }
      const t = (await trials.get(id))!;
      expect(t.status).toBe('failed');
      expect(t.attempts).toBe(2);
      expect(t.error).toMatch(/worker lost: no heartbeat for \d+ s from w2 on attempt 2 of 2; not retried/);
      expect(dispatcher.sent).toEqual([id]); // only the first loss was retried
      expect(await trials.claim(id, 'w3')).toBeNull();
      expect((await trials.counts(t.searchId)).failed).toBe(1);
    });

    it('never lets a late result from a worker presumed dead overwrite or duplicate the retry', async () => {
      const { s, created } = await searchWithTrials(1);
      const id = created[0]!.id;
      const slow = (await trials.claim(id, 'w-slow'))!;
      await trials.recordEpoch(id, slow.lease, { epoch: 1, map50_95: 0.1 }, 0);
      await silence(db, id);
      await new TrialReaper(db, trials, new RecordingDispatcher(), { staleMs: 30_000 }).sweep();
      const retry = (await trials.claim(id, 'w-retry'))!;
      expect(retry.lease.attempt).toBe(2);
      expect(retry.trial.epochMetrics).toEqual([]); // the lost attempt's epochs were dropped

      // The presumed-dead worker wakes up: every write of its attempt is refused.
      expect(await trials.heartbeat(id, slow.lease)).toBe(false);
      expect(await trials.recordEpoch(id, slow.lease, { epoch: 2, map50_95: 0.9 }, 0)).toBe(false);
      expect(await trials.finish(id, slow.lease, completed(0.9))).toBeNull();

      const stored = await trials.finish(id, retry.lease, completed(0.4));
      expect(stored).toMatchObject({ status: 'completed', map50_95: 0.4, workerId: 'w-retry', attempts: 2 });
      // Too late even after the retry finished, and the retry's own duplicate is refused too.
      expect(await trials.finish(id, slow.lease, completed(0.9))).toBeNull();
      expect(await trials.finish(id, retry.lease, completed(0.5))).toBeNull();
      const row = (await trials.get(id))!;
      expect(row.map50_95).toBe(0.4);
      expect((await trials.counts(s.id)).completed).toBe(1);
      expect((await trials.pareto(s.id)).map((t) => t.id)).toEqual([id]);
    });

    it('takes each stale trial exactly once when reapers run at the same time', async () => {
      const { created } = await searchWithTrials(6);
      for (const t of created) {
        await trials.claim(t.id, 'w-gone');
        await silence(db, t.id);
      }
      const dispatchers = [new RecordingDispatcher(), new RecordingDispatcher(), new RecordingDispatcher()];
      const reapers = dispatchers.map((d) => new TrialReaper(db, trials, d, { staleMs: 30_000 }));
      await Promise.all(reapers.map((r) => r.sweep()));
      const sent = dispatchers.flatMap((d) => d.sent);
      expect(sent.sort()).toEqual(created.map((t) => t.id).sort());
    });

    it('releases a stopping worker’s trials (and only its own) back to the queue', async () => {
      const { created } = await searchWithTrials(3);
      await trials.claim(created[0]!.id, 'w-stopping');
      await trials.claim(created[1]!.id, 'w-stopping');
      await trials.claim(created[2]!.id, 'w-other');
      const released = await trials.release('w-stopping');
      expect(released.map((t) => t.id).sort()).toEqual([created[0]!.id, created[1]!.id].sort());
      expect(released.every((t) => t.status === 'queued' && t.workerId === null)).toBe(true);
      expect((await trials.get(created[2]!.id))!.status).toBe('running');
    });
  });
}
