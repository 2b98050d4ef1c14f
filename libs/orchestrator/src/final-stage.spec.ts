import { describe, expect, it } from 'vitest';
import type { Search, Trial, TrialRepository } from '@detsearch/persistence';
import { finalists, meanAndSpread, runFinalStage } from './final-stage';
import type { SearchEvent, TrialEvaluator } from './types';

const t = (number: number, map50_95: number | null, latencyMs: number, genomeKey = `g${number}`) =>
  ({ id: `t${number}`, number, map50_95, latencyMs, genomeKey }) as Trial;

describe('final stage', () => {
  it("picks the front's best K by mAP@0.5:0.95, ties by latency then trial number", () => {
    const front = [t(0, 0.2, 5), t(1, 0.4, 9), t(2, 0.3, 3), t(3, 0.4, 7), t(4, 0.4, 7)];
    expect(finalists(front, 3).map((x) => x.number)).toEqual([3, 4, 1]);
    expect(finalists(front, 10)).toHaveLength(5);
    expect(finalists(front, 0)).toEqual([]);
    expect(finalists([t(0, null, 1), t(1, 0.1, 1)], 1).map((x) => x.number)).toEqual([1]);
  });

  it('fine-tunes a genome on the front twice only once', () => {
    const front = [t(0, 0.4, 7, 'a'), t(1, 0.4, 7, 'a'), t(2, 0.3, 3, 'b'), t(3, 0.2, 2, 'c')];
    expect(finalists(front, 2).map((x) => x.number)).toEqual([0, 2]);
  });

  it('reports the mean over seeds and their sample standard deviation (none for one seed)', () => {
    expect(meanAndSpread([0.3])).toEqual({ mean: 0.3, std: null });
    const two = meanAndSpread([0.3, 0.5]);
    expect(two.mean).toBeCloseTo(0.4, 12);
    expect(two.std).toBeCloseTo(Math.SQRT2 * 0.1, 12);
  });

  it('fine-tunes `concurrency` finalists at once, each recorded, a failure not stopping the others', async () => {
    const front = [t(0, 0.5, 1), t(1, 0.4, 1), t(2, 0.3, 1), t(3, 0.2, 1)];
    const recorded: string[] = [];
    let running = 0;
    let most = 0;
    const evaluator = {
      name: 'fake',
      evaluate: async () => {
        throw new Error('not used');
      },
      fineTune: async (req: { trialId: string }) => {
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 20));
        running--;
        if (req.trialId === 't1') throw new Error('out of memory');
        return { map50: 0.6, map50_95: 0.4, onnxPath: null, seconds: 1 };
      },
    } as unknown as TrialEvaluator;
    const events: SearchEvent[] = [];
    await runFinalStage({
      search: {
        id: 's',
        seed: 0,
        hardwareProfile: 'x86-server',
        dataset: null,
        fineTune: { topK: 4, epochs: 1, seeds: 1 },
      } as unknown as Search,
      evaluator,
      trials: {
        pareto: async () => front,
        recordFineTune: async (id: string) => void recorded.push(id),
      } as unknown as TrialRepository,
      signal: new AbortController().signal,
      publish: (e) => void events.push(e),
      concurrency: 2,
    });
    expect(most).toBe(2);
    expect(recorded.sort()).toEqual(['t0', 't2', 't3']);
    const ends = events.filter((e) => (e as { phase?: string }).phase !== 'started');
    expect(ends.map((e) => (e as { phase: string }).phase).sort()).toEqual([
      'completed',
      'completed',
      'completed',
      'failed',
    ]);
  });
});
