import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '@detsearch/common';
import {
  fullEvaluatorUnavailable,
  SearchOrchestrator,
  SurrogateEvaluator,
  type OrchestratorOptions,
  type SearchEvent,
} from '@detsearch/orchestrator';
import type { Trial } from '@detsearch/persistence';

/** O(n^2) reference: is `p` dominated by any of `others` (minimization)? */
function dominated(p: number[], others: number[][]): boolean {
  return others.some((q) => q.every((v, k) => v <= p[k]!) && q.some((v, k) => v < p[k]!));
}

async function collect(it: AsyncIterable<SearchEvent>): Promise<SearchEvent[]> {
  const out: SearchEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

async function allTrials(o: SearchOrchestrator, id: string): Promise<Trial[]> {
  return (await o.listTrials(id, { limit: 1000 })).items;
}

async function expectDomainError(p: Promise<unknown>, code: string): Promise<void> {
  await expect(p).rejects.toBeInstanceOf(DomainError);
  await expect(p).rejects.toMatchObject({ code });
}

/**
 * End-to-end behaviour of the orchestrator facade with the surrogate evaluator, on one database
 * per file (PGlite in memory, or a Postgres schema).
 */
export function orchestratorSuite(
  kind: string,
  options: () => OrchestratorOptions,
  cleanup: () => Promise<void>,
) {
  describe(`SearchOrchestrator on ${kind}`, () => {
    let o: SearchOrchestrator;

    beforeAll(async () => {
      o = await SearchOrchestrator.open({
        ...options(),
        concurrency: 3,
        // A few ms per trial, so the loop really runs trials concurrently and cancels mid-flight.
        evaluators: {
          surrogate: new SurrogateEvaluator({ msPerTrial: 20 }),
          // Slow enough that a cancel always finds trials in flight.
          'slow-surrogate': new SurrogateEvaluator({ msPerTrial: 400 }),
          // Trials far longer than a wall-clock budget.
          'stalled-surrogate': new SurrogateEvaluator({ msPerTrial: 120_000 }),
          // A process without the training stack: launching the default evaluator must fail cleanly.
          full: fullEvaluatorUnavailable,
        },
      });
    });
    afterAll(async () => {
      await o?.close();
      await cleanup();
    });

    it('runs a search to completion: exactly the budget, ASHA prunes, events, leaderboard, Pareto', async () => {
      const budget = 24;
      const { id, status } = await o.createSearch({
        name: 'e2e',
        strategy: 'evolution',
        evaluator: 'surrogate',
        objectives: ['map50_95', 'latency'],
        budget: { trials: budget },
        seed: 11,
        hardwareProfile: 'jetson-orin-nano',
        searchSpace: { widthMultiple: { type: 'ordinal', values: [0.25, 0.5, 0.75] }, imageSize: 320 },
        fidelity: { epochs: 9, minEpochs: 1, eta: 3 },
      });
      expect(status).toBe('queued');
      const events = collect(o.events(id));
      const done = await o.waitForSearch(id);
      expect(done.status).toBe('completed');
      expect(done.progress).toMatchObject({ total: budget, budget, queued: 0, running: 0, fraction: 1 });
      expect(done.progress.completed + done.progress.pruned).toBe(budget);

      const trials = await allTrials(o, id);
      expect(trials).toHaveLength(budget);
      expect(trials.map((t) => t.number).sort((a, b) => a - b)).toEqual([...Array(budget).keys()]);
      const pruned = trials.filter((t) => t.status === 'pruned');
      const completed = trials.filter((t) => t.status === 'completed');
      expect(pruned.length).toBeGreaterThan(0);
      expect(completed.length).toBeGreaterThan(0);
      for (const t of pruned) {
        // Pruned trials keep their partial metrics.
        expect(t.epochsDone).toBeLessThan(9);
        expect(t.epochMetrics).toHaveLength(t.epochsDone);
        expect(t.map50_95).not.toBeNull();
      }
      for (const t of completed) {
        expect(t.epochsDone).toBe(9);
        expect(t).toMatchObject({ backend: 'surrogate', evaluator: 'surrogate', attempts: 1 });
        expect(t.notes).toMatch(/SURROGATE/);
        expect(t.objectiveValues).toEqual([-t.map50_95!, t.latencyMs!]);
        expect(t.latencyPerProfile['jetson-orin-nano']).toBe(t.latencyMs);
      }

      const ev = await events;
      expect(ev[0]!.type).toBe('snapshot');
      expect(ev[ev.length - 1]).toMatchObject({ type: 'search-completed', status: 'completed' });
      // Subscribed before the loop ran: every trial's start and end was seen.
      expect(ev.filter((e) => e.type === 'trial-started')).toHaveLength(budget);
      expect(ev.filter((e) => e.type === 'trial-completed')).toHaveLength(budget);

      // Best so far is the best feasible completed trial.
      const bestMap = Math.max(...completed.map((t) => t.map50_95!));
      expect(done.best?.map50_95).toBe(bestMap);

      // Leaderboard in several orders.
      const byMap = await o.listTrials(id, { sort: '-map50_95', limit: 5 });
      expect(byMap.total).toBe(budget);
      const maps = byMap.items.map((t) => t.map50_95!);
      expect(maps).toEqual([...maps].sort((a, b) => b - a));
      const fast = await o.listTrials(id, { sort: 'latencyMs', status: 'completed', limit: 100 });
      expect(fast.total).toBe(completed.length);
      const lat = fast.items.map((t) => t.latencyMs!);
      expect(lat).toEqual([...lat].sort((a, b) => a - b));
      const page2 = await o.listTrials(id, { sort: 'number', limit: 5, offset: 5 });
      expect(page2.items.map((t) => t.number)).toEqual([5, 6, 7, 8, 9]);

      // Pareto: every exported point non-dominated, every non-dominated completed trial exported.
      const front = await o.pareto(id);
      const vec = (t: { map50_95: number | null; latencyMs: number | null }) => [-t.map50_95!, t.latencyMs!];
      const all = completed.map(vec);
      expect(front.points.length).toBeGreaterThan(0);
      for (const p of front.points) expect(dominated(vec(p), all)).toBe(false);
      const expected = completed.filter((t) => !dominated(vec(t), all)).map((t) => t.id);
      expect(front.points.map((p) => p.trialId).sort()).toEqual(expected.sort());
      expect(front.considered).toBe(completed.length);
      expect(done.best?.paretoSize).toBe(expected.length);

      const csv = (await o.paretoCsv(id)).trim().split('\n');
      expect(csv[0]).toBe(
        'trial_id,number,map50_95,map50,latency_ms,latency_source,latency_provenance,reused,reused_from_trial_id,size_bytes,params,gflops,evaluator,backend,' +
          'estimate_map50_95,finetuned_map50_95,finetuned_map50,genome_key,genome',
      );
      expect(csv).toHaveLength(front.points.length + 1);
      // The surrogate predicts latency on the search's profile, and every point says so.
      for (const p of front.points) {
        expect(p.latencySource).toBe('predicted');
        expect(p.latencyProvenance).toBe('predicted for jetson-orin-nano (uncalibrated datasheet profile)');
      }
      expect(csv.slice(1).every((l) => l.includes(',surrogate,surrogate,'))).toBe(true);

      const one = await o.getTrial(front.points[0]!.trialId);
      expect(one.searchId).toBe(id);
      await expectDomainError(o.openTrialModel(one.id), 'MODEL.NOT_FOUND');
      expect((await o.listSearches()).map((s) => s.id)).toContain(id);
    });

    it('keeps the Pareto front to feasible trials under a latency budget', async () => {
      const { id } = await o.createSearch({
        strategy: 'random',
        evaluator: 'surrogate',
        budget: { trials: 12 },
        seed: 5,
        hardwareProfile: 'jetson-orin-nano',
        constraints: { maxLatencyMs: 4 },
        fidelity: { epochs: 2 },
      });
      await o.waitForSearch(id);
      const trials = await allTrials(o, id);
      expect(trials).toHaveLength(12);
      for (const t of trials) {
        expect(t.status).toBe('completed');
        expect(t.constraintValues![0]).toBeCloseTo(t.latencyMs! - 4, 9);
      }
      expect(trials.some((t) => t.violation! > 0)).toBe(true);
      const front = await o.pareto(id);
      for (const p of front.points) expect(p.latencyMs).toBeLessThanOrEqual(4);
      expect(front.points.length).toBeGreaterThan(0);
      // Every feasible non-dominated trial is there, infeasible ones never.
      const feasible = trials.filter((t) => t.violation === 0);
      const vec = (t: Trial) => [-t.map50_95!, t.latencyMs!];
      const want = feasible.filter((t) => !dominated(vec(t), feasible.map(vec))).map((t) => t.id);
      expect(front.points.map((p) => p.trialId).sort()).toEqual(want.sort());
      expect(front.considered).toBe(trials.length);
    });

    it('stops at the wall-clock budget with no trial left queued or running', async () => {
      const t0 = Date.now();
      const { id } = await o.createSearch({
        strategy: 'random',
        evaluator: 'slow-surrogate',
        budget: { trials: 500, wallClockMinutes: 0.02 },
        seed: 2,
        fidelity: { epochs: 2 },
      });
      const done = await o.waitForSearch(id);
      expect(Date.now() - t0).toBeLessThan(20_000);
      expect(done.status).toBe('completed');
      expect(done.progress.total).toBeGreaterThan(0);
      expect(done.progress.total).toBeLessThan(500);
      expect(done.progress.queued + done.progress.running).toBe(0);
    });

    it('stops trials still running when the wall clock runs out, instead of waiting for them', async () => {
      const t0 = Date.now();
      const { id } = await o.createSearch({
        strategy: 'random',
        evaluator: 'stalled-surrogate',
        budget: { trials: 4, wallClockMinutes: 0.02 },
        seed: 2,
        fidelity: { epochs: 2 },
      });
      const done = await o.waitForSearch(id);
      expect(Date.now() - t0).toBeLessThan(20_000);
      expect(done.status).toBe('completed');
      expect(done.progress.queued + done.progress.running).toBe(0);
      const rows = (await o.listTrials(id, { limit: 100 })).items;
      expect(rows.length).toBeGreaterThan(0);
      for (const t of rows) {
        expect(t.status).toBe('failed');
        expect(t.error).toMatch(/wall-clock budget/);
      }
    });

    it('rejects bad launches without creating anything', async () => {
      const before = (await o.listSearches({ limit: 1000 })).length;
      await expectDomainError(
        o.createSearch({ strategy: 'annealing', evaluator: 'surrogate', budget: { trials: 2 } }),
        'SEARCH.UNKNOWN_STRATEGY',
      );
      await expectDomainError(
        o.createSearch({ preset: 'nope', evaluator: 'surrogate', budget: { trials: 2 } }),
        'PRESET.UNKNOWN',
      );
      await expectDomainError(
        o.createSearch({
          strategy: 'random',
          evaluator: 'surrogate',
          budget: { trials: 2 },
          hardwareProfile: 'x',
        }),
        'PROFILE.UNKNOWN',
      );
      // The default evaluator ('full') is missing in this process: rejected, nothing created.
      await expectDomainError(
        o.createSearch({ strategy: 'random', budget: { trials: 2 } }),
        'EVALUATOR.UNAVAILABLE',
      );
      await expectDomainError(
        o.createSearch({ strategy: 'random', evaluator: 'magic', budget: { trials: 2 } }),
        'EVALUATOR.UNKNOWN',
      );
      expect((await o.listSearches({ limit: 1000 })).length).toBe(before);
    });

    it('answers unknown ids with *.NOT_FOUND', async () => {
      const missing = '7b0e4c1e-0000-4000-8000-000000000000';
      await expectDomainError(o.getSearch(missing), 'SEARCH.NOT_FOUND');
      await expectDomainError(o.getSearch('garbage'), 'SEARCH.NOT_FOUND');
      await expectDomainError(o.cancel(missing), 'SEARCH.NOT_FOUND');
      await expectDomainError(o.resume(missing), 'SEARCH.NOT_FOUND');
      await expectDomainError(o.listTrials(missing), 'SEARCH.NOT_FOUND');
      await expectDomainError(o.pareto(missing), 'SEARCH.NOT_FOUND');
      await expectDomainError(o.paretoCsv(missing), 'SEARCH.NOT_FOUND');
      await expectDomainError(o.getTrial(missing), 'TRIAL.NOT_FOUND');
      await expectDomainError(o.openTrialModel(missing), 'TRIAL.NOT_FOUND');
      await expectDomainError(o.searchArtifacts(missing), 'SEARCH.NOT_FOUND');
      await expectDomainError(collect(o.events(missing)), 'SEARCH.NOT_FOUND');
      const h = await o.health();
      expect(h).toMatchObject({ ok: true, database: { ok: true } });
      expect(h.evaluators).toEqual(expect.arrayContaining(['surrogate', 'full']));
    });

    it('cancels mid-search, then resumes to exactly the budget', async () => {
      const budget = 12;
      const { id } = await o.createSearch({
        strategy: 'random',
        evaluator: 'slow-surrogate',
        budget: { trials: budget },
        seed: 9,
        fidelity: { epochs: 3 },
      });
      await new Promise<void>((resolve) => {
        const off = o.subscribe(id, (e) => {
          if (e.type === 'trial-completed' && e.progress.completed >= 3) {
            off();
            resolve();
          }
        });
      });
      const cancelled = await o.cancel(id);
      expect(cancelled.status).toBe('cancelled');
      expect(cancelled.progress.queued + cancelled.progress.running).toBe(0);
      expect(cancelled.progress.total).toBeLessThan(budget);
      const stopped = await allTrials(o, id);
      // Whatever was unfinished at the cancel ended as cancelled (there may have been nothing in
      // flight at that instant: the loop yields between trials).
      for (const t of stopped)
        expect(t.status === 'completed' || (t.status === 'failed' && t.error === 'search cancelled')).toBe(
          true,
        );
      // Cancelling twice is fine; a finished search cannot be cancelled again into another state.
      expect((await o.cancel(id)).status).toBe('cancelled');

      const resumed = await o.resume(id);
      expect(resumed.status).toBe('running');
      const done = await o.waitForSearch(id);
      expect(done.status).toBe('completed');
      const trials = await allTrials(o, id);
      expect(trials).toHaveLength(budget);
      expect(new Set(trials.map((t) => t.number)).size).toBe(budget);
      expect(trials.every((t) => t.status === 'completed')).toBe(true);
      await expectDomainError(o.cancel(id), 'SEARCH.INVALID_STATE');
      await expectDomainError(o.resume(id), 'SEARCH.INVALID_STATE');
    });
  });
}
