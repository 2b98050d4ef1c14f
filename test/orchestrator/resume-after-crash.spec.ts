import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SearchOrchestrator, SurrogateEvaluator, type OrchestratorOptions } from '@detsearch/orchestrator';
import { DATABASE_URL, dropSchema, uniqueSchema } from '../persistence/helpers';

const slow = () => ({ surrogate: new SurrogateEvaluator({ msPerTrial: 300 }) });

/**
 * A process dies mid-search (nothing more is written: no re-queue, no lease release); a new
 * process on the same database takes the search over and finishes it with exactly the budgeted
 * trials: none lost, none duplicated, the interrupted ones re-run.
 */
function crashSuite(kind: string, options: () => OrchestratorOptions, cleanup: () => Promise<void>) {
  describe(`resume after a crash on ${kind}`, () => {
    afterAll(cleanup);

    it('continues from the database with no lost or duplicated trials', async () => {
      const budget = 10;
      const a = await SearchOrchestrator.open({ ...options(), concurrency: 3, evaluators: slow() });
      const { id } = await a.createSearch({
        strategy: 'nsga2',
        evaluator: 'surrogate',
        budget: { trials: budget },
        seed: 21,
        fidelity: { epochs: 3 },
      });
      await new Promise<void>((resolve) => {
        const off = a.subscribe(id, (e) => {
          // A trial just started (so one is surely mid-run) after two have finished.
          if (e.type === 'trial-started' && e.progress.completed >= 2) {
            off();
            resolve();
          }
        });
      });
      const atCrash = (await a.listTrials(id, { limit: 100 })).items;
      const interrupted = atCrash.filter((t) => t.status === 'running').map((t) => t.id);
      expect(interrupted.length).toBeGreaterThan(0);
      await a.close({ abandon: true });

      const b = await SearchOrchestrator.open({ ...options(), concurrency: 3, evaluators: slow() });
      try {
        // B found the orphaned search on open (or on its sweep, once A's lease went stale).
        const deadline = Date.now() + 30_000;
        while ((await b.health()).activeSearches === 0 && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 100));
        const done = await b.waitForSearch(id);
        expect(done.status).toBe('completed');
        const trials = (await b.listTrials(id, { limit: 100 })).items;
        expect(trials).toHaveLength(budget);
        expect(trials.map((t) => t.number).sort((x, y) => x - y)).toEqual([...Array(budget).keys()]);
        expect(new Set(trials.map((t) => t.id)).size).toBe(budget);
        expect(trials.every((t) => t.status === 'completed')).toBe(true);
        // Finished before the crash: untouched. Interrupted: run again by B.
        for (const before of atCrash.filter((t) => t.status === 'completed')) {
          const after = trials.find((t) => t.id === before.id)!;
          expect(after.attempts).toBe(1);
          expect(after.map50_95).toBe(before.map50_95);
        }
        // Trials run in waves (same duration), so one seen running may have finished in A in the
        // instant before the crash: then untouched; every other one ran again in B, at least the
        // one whose start triggered the crash.
        const rerun = interrupted.map((tid) => trials.find((t) => t.id === tid)!);
        for (const after of rerun)
          if (after.workerId === a.runnerId) expect(after.attempts).toBe(1);
          else expect(after).toMatchObject({ attempts: 2, workerId: b.runnerId });
        expect(rerun.filter((t) => t.workerId === b.runnerId).length).toBeGreaterThan(0);
      } finally {
        await b.close();
      }
    });
  });
}

const home = mkdtempSync(join(tmpdir(), 'detsearch-crash-'));
crashSuite(
  'PGlite (data directory)',
  () => ({ home }),
  async () => rmSync(home, { recursive: true, force: true }),
);

const url = DATABASE_URL;
if (url) {
  const schema = uniqueSchema('crash');
  crashSuite(
    'Postgres',
    // A short lease so the second process may take the search over quickly.
    () => ({ databaseUrl: url, schema, leaseMs: 500 }),
    () => dropSchema(url, schema),
  );
}
