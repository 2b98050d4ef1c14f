import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  EvaluationContext,
  EvaluationRequest,
  SearchPreparation,
  TrialMetrics,
} from '@detsearch/domain';
import { SearchOrchestrator, SurrogateEvaluator, type TrialEvaluator } from '@detsearch/orchestrator';

/** The surrogate with search-level hooks that record when they run relative to the trials. */
class HookedEvaluator implements TrialEvaluator {
  readonly name = 'hooked';
  readonly calls: string[] = [];
  prepared: Omit<SearchPreparation, 'signal' | 'onProgress'> | null = null;
  private readonly inner = new SurrogateEvaluator({ msPerTrial: 5 });

  constructor(private readonly failPrepare = false) {}

  async prepare(s: SearchPreparation): Promise<void> {
    this.calls.push('prepare');
    const { signal, onProgress, ...rest } = s;
    expect(signal.aborted).toBe(false);
    onProgress({ message: 'supernet epoch 1/1', fraction: 1 });
    this.prepared = rest;
    if (this.failPrepare) throw new Error('supernet training diverged');
  }

  async dispose(s: { searchId: string }): Promise<void> {
    this.calls.push(`dispose:${s.searchId}`);
  }

  evaluate(req: EvaluationRequest, ctx: EvaluationContext): Promise<TrialMetrics> {
    this.calls.push('trial');
    return this.inner.evaluate(req, ctx);
  }
}

/** An evaluator whose result is a function of the genome (like a supernet estimate). */
class RepeatableEvaluator implements TrialEvaluator {
  readonly name = 'repeatable';
  readonly repeatable = true;
  readonly genomes: string[] = [];
  private readonly inner = new SurrogateEvaluator({ msPerTrial: 5 });

  evaluate(req: EvaluationRequest, ctx: EvaluationContext): Promise<TrialMetrics> {
    this.genomes.push(JSON.stringify(req.genome));
    return this.inner.evaluate(req, ctx);
  }
}

describe('evaluator prepare/dispose hooks', () => {
  let o: SearchOrchestrator;
  const hooked = new HookedEvaluator();
  const failing = new HookedEvaluator(true);
  const repeatable = new RepeatableEvaluator();
  const logs: string[] = [];

  beforeAll(async () => {
    o = await SearchOrchestrator.open({
      inMemory: true,
      concurrency: 2,
      evaluators: { hooked, failing, repeatable },
      log: (msg) => logs.push(msg),
    });
  });
  afterAll(() => o?.close());

  const launch = (evaluator: string) =>
    o.createSearch({
      strategy: 'random',
      evaluator,
      objectives: ['map50_95', 'latency'],
      budget: { trials: 4 },
      seed: 3,
      searchSpace: { widthMultiple: { type: 'ordinal', values: [0.25, 0.5] }, imageSize: 320 },
      fidelity: { epochs: 2 },
    });

  it('prepares once before the first trial and disposes once after the last', async () => {
    const { id } = await launch('hooked');
    const done = await o.waitForSearch(id);
    expect(done.status).toBe('completed');
    expect(hooked.calls).toEqual(['prepare', 'trial', 'trial', 'trial', 'trial', `dispose:${id}`]);
    expect(hooked.prepared).toMatchObject({
      searchId: id,
      hardwareProfile: done.hardwareProfile,
      fidelity: { epochs: 2 },
      seed: 3,
      space: { widthMultiple: { type: 'ordinal', values: [0.25, 0.5] }, imageSize: 320 },
    });
    expect(logs).toContain('evaluator prepare');
  });

  it('fails the search when prepare throws, runs no trial, and still disposes', async () => {
    const { id } = await launch('failing');
    const done = await o.waitForSearch(id);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/supernet training diverged/);
    expect(failing.calls).toEqual(['prepare', `dispose:${id}`]);
  });

  it('never evaluates a genome twice with a repeatable evaluator; the search ends when none is left', async () => {
    // Two genomes in the space, a budget of four: a random strategy proposes repeats.
    const { id } = await o.createSearch({
      strategy: 'random',
      evaluator: 'repeatable',
      objectives: ['map50_95', 'latency'],
      budget: { trials: 4 },
      seed: 3,
      searchSpace: {
        depthMultiple: 0.33,
        widthMultiple: { type: 'ordinal', values: [0.25, 0.5] },
        imageSize: 320,
        separable: [],
        activation: 'relu',
        quantization: 'fp32',
      },
      fidelity: { epochs: 2 },
    });
    const done = await o.waitForSearch(id);
    expect(done.status).toBe('completed');
    expect(repeatable.genomes).toHaveLength(2);
    expect(new Set(repeatable.genomes).size).toBe(2);
    expect(done.progress.completed).toBe(2);
    expect(done.error).toMatch(/no new candidate/);
  });
});
