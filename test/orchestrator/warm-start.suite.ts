import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIR } from '@detsearch/genome';
import { getHardwareProfile, predictLatency } from '@detsearch/latency';
import {
  SearchOrchestrator,
  SurrogateEvaluator,
  type EvaluationContext,
  type EvaluationRequest,
  type OrchestratorOptions,
  type TrialMetrics,
} from '@detsearch/orchestrator';
import type { Trial } from '@detsearch/persistence';
import { hypervolume } from '@detsearch/strategies';

/** The surrogate, counting the trainings it is asked for per search (and keeping the requests). */
class CountingSurrogate extends SurrogateEvaluator {
  readonly calls = new Map<string, number>();
  readonly requests: EvaluationRequest[] = [];
  override async evaluate(req: EvaluationRequest, ctx: EvaluationContext): Promise<TrialMetrics> {
    this.calls.set(req.searchId, (this.calls.get(req.searchId) ?? 0) + 1);
    this.requests.push(req);
    return super.evaluate(req, ctx);
  }
}

/** Hypervolume of (maximize mAP, minimize latency) against (mAP 0, `refLatency`). */
const hv = (points: { map50_95: number | null; latencyMs: number | null }[], refLatency: number) =>
  hypervolume(
    points.map((p) => [-p.map50_95!, p.latencyMs!]),
    [0, refLatency],
  );

/**
 * Warm starts on real persistence with the surrogate evaluator: a search for a second hardware
 * profile on the same (synthetic) data and fidelity starts from the first search's evaluations.
 */
export function warmStartSuite(
  kind: string,
  options: () => OrchestratorOptions,
  cleanup: () => Promise<void>,
) {
  describe(`warm starts on ${kind}`, () => {
    let o: SearchOrchestrator;
    const evaluator = new CountingSurrogate();
    const all = async (id: string): Promise<Trial[]> => (await o.listTrials(id, { limit: 1000 })).items;
    const base = {
      evaluator: 'surrogate',
      objectives: ['map50_95', 'latency'],
      searchSpace: {
        imageSize: 320,
        quantization: { type: 'categorical', choices: ['fp32', 'int8-static-per-channel'] },
      },
      fidelity: { epochs: 3 },
    };
    let first: { id: string; trials: Trial[] };

    beforeAll(async () => {
      o = await SearchOrchestrator.open({
        ...options(),
        concurrency: 4,
        evaluators: { surrogate: evaluator },
      });
      const { id } = await o.createSearch({
        ...base,
        name: 'pi',
        strategy: 'random',
        budget: { trials: 30 },
        seed: 1,
        hardwareProfile: 'raspberry-pi-4',
      });
      expect((await o.waitForSearch(id)).status).toBe('completed');
      first = { id, trials: await all(id) };
      expect(first.trials.every((t) => !t.reused)).toBe(true);
    });
    afterAll(async () => {
      await o?.close();
      await cleanup();
    });

    it('a search for another profile starts from the first one: its front with zero trainings, then improves', async () => {
      const budget = 12;
      const { id } = await o.createSearch({
        ...base,
        name: 'orin',
        strategy: 'evolution',
        budget: { trials: budget },
        seed: 2,
        hardwareProfile: 'jetson-orin-nano',
      });
      const done = await o.waitForSearch(id);
      expect(done.status).toBe('completed');
      const trials = await all(id);
      const reused = trials.filter((t) => t.reused);
      const own = trials.filter((t) => !t.reused);
      const distinct = new Set(first.trials.map((t) => t.genomeKey)).size;

      // Every earlier genome, numbered first, outside the budget, never trained again.
      expect(reused).toHaveLength(distinct);
      expect(reused.map((t) => t.number)).toEqual([...Array(distinct).keys()]);
      expect(done.progress).toMatchObject({
        reused: distinct,
        total: budget,
        completed: budget,
        fraction: 1,
      });
      expect(own).toHaveLength(budget);
      expect(evaluator.calls.get(id)).toBe(budget);

      // mAP as trained for the Pi; latency predicted for the Orin.
      const orin = getHardwareProfile('jetson-orin-nano');
      const sources = new Map(first.trials.map((t) => [t.id, t]));
      for (const t of reused) {
        const src = sources.get(t.reusedFromTrialId!)!;
        expect(src).toBeDefined();
        expect(t).toMatchObject({
          status: 'completed',
          map50_95: src.map50_95,
          genomeKey: src.genomeKey,
          latencySource: 'predicted',
          attempts: 0,
          workerId: null,
        });
        expect(t.latencyMs).toBeCloseTo(predictLatency(buildIR(t.genome), orin).predictedMs, 9);
        expect(t.latencyMs).not.toBeCloseTo(src.latencyMs!, 3);
      }

      // The strategy was told: nothing it proposed repeats a reused genome.
      const reusedKeys = new Set(reused.map((t) => t.genomeKey));
      expect(own.some((t) => reusedKeys.has(t.genomeKey))).toBe(false);

      // Hypervolume for the Orin: the reused trials alone equal the first search re-scored for it
      // (no training yet), and the new trials add to it.
      const rescored = first.trials.map((t) => ({
        map50_95: t.map50_95,
        latencyMs: predictLatency(buildIR(t.genome), orin).predictedMs,
      }));
      const ref = 1.1 * Math.max(...trials.map((t) => t.latencyMs!));
      const atStart = hv(reused, ref);
      expect(atStart).toBeGreaterThan(0);
      expect(atStart).toBeCloseTo(hv(rescored, ref), 12);
      expect(hv(trials, ref)).toBeGreaterThan(atStart);

      // Marked everywhere: leaderboard rows, Pareto front (API and CSV), the CSV of the leaderboard.
      const board = await o.leaderboard(id, { limit: 1000 });
      expect(board.items.filter((r) => r.reused)).toHaveLength(distinct);
      expect(board.items.find((r) => r.reused)?.reusedFromTrialId).toBeTruthy();
      const front = await o.pareto(id);
      expect(front.points.length).toBeGreaterThan(0);
      for (const p of front.points) expect(typeof p.reused).toBe('boolean');
      expect((await o.paretoCsv(id)).split('\n')[0]).toContain('reused');
    });

    it('can be turned off per search, and needs the same fidelity', async () => {
      const off = await o.createSearch({
        ...base,
        strategy: 'random',
        budget: { trials: 3 },
        seed: 3,
        hardwareProfile: 'nvidia-t4',
        warmStart: false,
      });
      const other = await o.createSearch({
        ...base,
        fidelity: { epochs: 4 },
        strategy: 'random',
        budget: { trials: 3 },
        seed: 3,
        hardwareProfile: 'nvidia-t4',
      });
      for (const id of [off.id, other.id]) {
        const done = await o.waitForSearch(id);
        expect(done.progress.reused).toBe(0);
        expect((await all(id)).every((t) => !t.reused)).toBe(true);
      }
      await expect(
        o.createSearch({ ...base, strategy: 'random', budget: { trials: 1 }, warmStart: 'no' }),
      ).rejects.toMatchObject({
        code: 'SEARCH.INVALID',
        field: 'warmStart',
      });
    });

    it('reused trials over the new latency limit are infeasible', async () => {
      const pi = getHardwareProfile('raspberry-pi-4');
      const latencies = first.trials
        .map((t) => predictLatency(buildIR(t.genome), pi).predictedMs)
        .sort((a, b) => a - b);
      const limit = latencies[Math.floor(latencies.length / 2)]!;
      const { id } = await o.createSearch({
        ...base,
        strategy: 'random',
        budget: { trials: 2 },
        seed: 4,
        hardwareProfile: 'raspberry-pi-4',
        constraints: { maxLatencyMs: limit },
      });
      await o.waitForSearch(id);
      const reused = (await all(id)).filter((t) => t.reused);
      expect(reused.length).toBeGreaterThan(0);
      for (const t of reused) {
        expect(t.feasible).toBe(t.latencyMs! <= limit);
        if (!t.feasible) expect(t.onFront).toBe(false);
      }
      expect(reused.some((t) => !t.feasible)).toBe(true);
      // From the first search (same profile) the stored latency is kept; from the others, predicted.
      const sources = new Map(first.trials.map((t) => [t.id, t]));
      for (const t of reused) {
        const src = sources.get(t.reusedFromTrialId!);
        if (src) expect(t.latencyMs).toBe(src.latencyMs);
        else expect(t.latencyMs).toBeCloseTo(predictLatency(buildIR(t.genome), pi).predictedMs, 9);
      }
    });

    it('image-size rungs: each rung segment trains at its size, promoted trials at the full size', async () => {
      const { id } = await o.createSearch({
        ...base,
        strategy: 'random',
        budget: { trials: 9 },
        seed: 9,
        hardwareProfile: 'raspberry-pi-4',
        fidelity: { epochs: 9, minEpochs: 1, eta: 3, imageSizes: [160, 224] },
        warmStart: false,
      });
      const done = await o.waitForSearch(id);
      expect(done.status).toBe('completed');
      expect(done.fidelity).toMatchObject({ imageSizes: [160, 224] });
      const requests = evaluator.requests.filter((r) => r.searchId === id);
      expect(requests).toHaveLength(9);
      for (const r of requests)
        expect(r.fidelity.imageSizeByEpoch).toEqual([160, 224, 224, 320, 320, 320, 320, 320, 320]);
      // ASHA still prunes at the small sizes and completes the rest at the full size.
      const trials = await all(id);
      expect(trials.some((t) => t.status === 'pruned')).toBe(true);
      expect(trials.some((t) => t.status === 'completed' && t.epochsDone === 9)).toBe(true);
    });
  });
}
