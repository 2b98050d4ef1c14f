import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { SearchOrchestrator, type SearchEvent } from '@detsearch/orchestrator';
import {
  DATABASE_URL,
  exited,
  queueSchemas,
  ROOT,
  spawnWorker,
  waitFor,
  type WorkerProcess,
} from './helpers';

const BUDGET = 9;
const EPOCHS = 3;

/**
 * Fault tolerance end to end: three `detsearch worker` processes share one search on the real
 * Postgres; one is killed with SIGKILL in the middle of a trial. Missed heartbeats give its trial
 * away (the reapers in the API process and in the surviving workers), another worker runs it again,
 * and the search ends with every budgeted trial completed exactly once.
 */
if (!DATABASE_URL) {
  describe('SIGKILL a worker process mid-trial', () => {
    it.skip('needs DATABASE_URL (Postgres)', () => {});
  });
} else {
  const url = DATABASE_URL;
  describe('SIGKILL a worker process mid-trial', () => {
    const db = queueSchemas(url, 'kill');
    const children: WorkerProcess[] = [];
    let orchestrator: SearchOrchestrator | undefined;

    afterAll(async () => {
      for (const w of children)
        if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
      await Promise.all(children.map((w) => exited(w.child)));
      await orchestrator?.close();
      await db.drop();
    });

    it('finishes with every budgeted trial completed exactly once; the killed trial ran again', async () => {
      // The API side first: it installs the schemas the workers then find.
      orchestrator = await SearchOrchestrator.open({
        databaseUrl: url,
        schema: db.schema,
        distributed: true,
        reaper: { staleMs: 1500, maxAttempts: 3 },
        pollMs: 500,
      });
      const env = {
        DATABASE_URL: url,
        DETSEARCH_DB_SCHEMA: db.schema,
        DETSEARCH_QUEUE_SCHEMA: db.queueSchema,
        DETSEARCH_SURROGATE_MS: '900',
        WORKER_HEARTBEAT_MS: '200',
        WORKER_STALE_MS: '1500',
        WORKER_POLL_MS: '500',
      };
      children.push(...(await Promise.all([spawnWorker(env), spawnWorker(env), spawnWorker(env)])));
      const [victim, ...survivors] = children;
      // The container health check: a worker on this host heartbeats.
      const health = spawnSync(
        process.execPath,
        ['-r', '@swc-node/register', 'apps/cli/src/main.ts', 'worker', '--health', '--json'],
        { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 },
      );
      expect(health.status).toBe(0);
      expect(JSON.parse(health.stdout).workers).toHaveLength(3);

      const events: SearchEvent[] = [];
      const { id } = await orchestrator.createSearch({
        strategy: 'random',
        evaluator: 'surrogate',
        budget: { trials: BUDGET },
        seed: 17,
        fidelity: { epochs: EPOCHS },
      });
      orchestrator.subscribe(id, (e) => events.push(e));

      // Kill the victim once it is inside a trial (an epoch recorded, more to come).
      const doomed = await waitFor(
        async () =>
          (await orchestrator!.listTrials(id, { status: 'running', limit: 20 })).items.find(
            (t) => t.workerId === victim!.id && t.epochsDone >= 1,
          ),
        60_000,
        'the victim to be mid-trial',
        50,
      );
      victim!.child.kill('SIGKILL');
      await exited(victim!.child);

      const done = await orchestrator.waitForSearch(id);
      expect(done.status).toBe('completed');
      const trials = (await orchestrator.listTrials(id, { limit: 100 })).items;
      const rows = await orchestrator.db.query<{ n: number; distinct_ids: number; distinct_numbers: number }>(
        `SELECT count(*)::int AS n, count(DISTINCT id)::int AS distinct_ids, count(DISTINCT number)::int AS distinct_numbers
         FROM trials WHERE search_id = $1`,
        [id],
      );
      expect(rows[0]).toEqual({ n: BUDGET, distinct_ids: BUDGET, distinct_numbers: BUDGET });
      expect(trials.map((t) => t.number).sort((a, b) => a - b)).toEqual([...Array(BUDGET).keys()]);
      expect(trials.every((t) => t.status === 'completed')).toBe(true);
      // Each trial's epochs were recorded once, by the attempt that finished it.
      expect(trials.every((t) => t.epochMetrics.length === EPOCHS && t.epochsDone === EPOCHS)).toBe(true);

      const retried = trials.find((t) => t.id === doomed.id)!;
      expect(retried.attempts).toBeGreaterThanOrEqual(2);
      expect(survivors.map((w) => w.id)).toContain(retried.workerId);
      expect(trials.filter((t) => t.workerId === victim!.id).every((t) => t.attempts === 1)).toBe(true);

      // Completed exactly once: one completion event per trial, none from the dead attempt. (A
      // worker's event is relayed through NOTIFY, so the last may arrive just after the loop ends.)
      const completions = await waitFor(
        () => {
          const c = events.filter((e) => e.type === 'trial-completed');
          return c.length >= BUDGET && c;
        },
        5000,
        'every completion event',
      );
      await new Promise((r) => setTimeout(r, 300)); // room for a duplicate to show up, if any
      expect(events.filter((e) => e.type === 'trial-completed')).toHaveLength(BUDGET);
      expect(new Set(completions.map((e) => e.trialId)).size).toBe(BUDGET);
      expect((await orchestrator.getSearch(id)).progress).toMatchObject({ completed: BUDGET, total: BUDGET });

      // Surviving workers stop gracefully on SIGTERM and leave the registry.
      for (const w of survivors) w.child.kill('SIGTERM');
      expect(await Promise.all(survivors.map((w) => exited(w.child)))).toEqual([0, 0]);
      expect(await orchestrator.workers.live(1500)).toEqual([]);
      // The stopped ones unregistered; the killed one's row simply went stale.
      expect((await orchestrator.workers.live(600_000)).map((w) => w.id)).toEqual([victim!.id]);
    });
  });
}
