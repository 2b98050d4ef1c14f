import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SearchRepository, Supernet } from '@detsearch/persistence';
import type { CandidateScore, ScoreCandidateOptions } from '@detsearch/supernet';
import { parseGenome } from '@detsearch/genome';
import { DEFAULT_SUPERNET_ADAPT_STEPS } from '../launch';
import type { SupernetService } from '../supernets/supernet-service';
import { SupernetEvaluator } from './supernet';

const home = mkdtempSync(join(tmpdir(), 'sn-evaluator-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** The evaluator as a worker runs it (no prepare): the search and its supernet come from the stores. */
function evaluatorFor(request: Record<string, unknown>) {
  const seen: Omit<ScoreCandidateOptions, 'signal'>[] = [];
  const supernet = { id: 'sn-1', epochs: 3, minutes: 2 } as Supernet;
  const searches = {
    get: async (id: string) => ({ id, supernetId: supernet.id, request }),
  } as unknown as SearchRepository;
  const service = {
    home,
    dataRoot: home,
    get: async () => supernet,
    weightsPath: async () => join(home, 'supernet.weights'),
  } as unknown as SupernetService;
  const evaluator = new SupernetEvaluator({
    service,
    searches,
    loadSupernet: async () => ({
      CandidateScorerPool: undefined as never,
      scoreCandidate: async (o: ScoreCandidateOptions): Promise<CandidateScore> => {
        const { signal: _signal, ...rest } = o;
        seen.push(rest);
        const weightsPath = join(home, `w${seen.length}`);
        writeFileSync(weightsPath, 'weights');
        return {
          map50: 0.2,
          map50_95: 0.1,
          fp32Map50: 0.2,
          fp32Map50_95: 0.1,
          latencyMs: 5,
          measuredLatencyMs: 4,
          params: 1000,
          gflops: 0.1,
          sizeBytes: 100,
          onnxPath: join(home, 'model.onnx'),
          weightsPath,
          seconds: 1,
        };
      },
    }),
  });
  return { evaluator, seen };
}

describe('supernet evaluator', () => {
  const req = (trialId: string) => ({
    trialId,
    searchId: 's1',
    genome: parseGenome({ depthMultiple: 0.33, widthMultiple: 0.25, imageSize: 128 }),
    fidelity: { epochs: 1 },
    hardwareProfile: 'x86-server',
    dataset: join(home, 'data.yaml'),
  });
  const ctx = { signal: new AbortController().signal, onEpoch: () => 'continue' as const };

  it("scores each candidate after the search's adaptation steps, the default when it names none", async () => {
    const named = evaluatorFor({ evaluator: 'supernet', supernetAdaptSteps: 7 });
    const m = await named.evaluator.evaluate(req('t1'), ctx);
    expect(named.seen[0]).toMatchObject({ adaptSteps: 7, supernetPath: join(home, 'supernet.weights') });
    expect(m).toMatchObject({ estimate: true, map50: 0.2 });
    expect(m.notes).toMatch(/7 adaptation steps/);

    const none = evaluatorFor({ evaluator: 'supernet', supernetAdaptSteps: 0 });
    const m0 = await none.evaluator.evaluate(req('t2'), ctx);
    expect(none.seen[0]!.adaptSteps).toBe(0);
    expect(m0.notes).not.toMatch(/adaptation/);

    const unnamed = evaluatorFor({ evaluator: 'supernet' });
    await unnamed.evaluator.evaluate(req('t3'), ctx);
    expect(unnamed.seen[0]!.adaptSteps).toBe(DEFAULT_SUPERNET_ADAPT_STEPS);
  });
});
