import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SearchOrchestrator,
  SurrogateEvaluator,
  type EvaluationContext,
  type EvaluationRequest,
  type TrialEvaluator,
  type TrialMetrics,
} from '@detsearch/orchestrator';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of s) parts.push(Buffer.from(p as Buffer));
  return Buffer.concat(parts);
}

/**
 * The surrogate's numbers plus real files, as the full evaluator leaves them: a model and weights
 * in a scratch folder of the trial. What it wrote is kept by trial id to compare with.
 */
class FileEvaluator implements TrialEvaluator {
  readonly name = 'files';
  readonly written = new Map<string, { model: Buffer; weights: Buffer; workDir: string }>();
  private readonly inner = new SurrogateEvaluator();
  constructor(private readonly scratch: string) {}

  async evaluate(req: EvaluationRequest, ctx: EvaluationContext): Promise<TrialMetrics> {
    const m = await this.inner.evaluate(req, ctx);
    const workDir = join(this.scratch, req.trialId);
    mkdirSync(workDir, { recursive: true });
    const model = randomBytes(40_000 + Math.floor(Math.random() * 1000));
    const weights = randomBytes(20_000);
    writeFileSync(join(workDir, 'model.onnx'), model);
    writeFileSync(join(workDir, 'weights.safetensors'), weights);
    this.written.set(req.trialId, { model, weights, workDir });
    return {
      ...m,
      onnxPath: join(workDir, 'model.onnx'),
      weightsPath: join(workDir, 'weights.safetensors'),
      workDir,
    };
  }
}

/** Retention and garbage collection, on the embedded database with each store it can use. */
for (const kind of ['fs', 'postgres'] as const) {
  describe(`artifact retention and gc (${kind} store, embedded database)`, () => {
    let o: SearchOrchestrator;
    const home = mkdtempSync(join(tmpdir(), `retention-${kind}-`));
    const files = new FileEvaluator(join(home, 'scratch'));

    beforeAll(async () => {
      o = await SearchOrchestrator.open({
        inMemory: true,
        home,
        artifacts: { kind },
        concurrency: 2,
        evaluators: { files },
      });
    });
    afterAll(async () => {
      await o?.close();
      rmSync(home, { recursive: true, force: true });
    });

    const launch = async (trials: number) => {
      const { id } = await o.createSearch({
        strategy: 'random',
        evaluator: 'files',
        objectives: ['map50_95', 'latency'],
        budget: { trials },
        searchSpace: { widthMultiple: { type: 'ordinal', values: [0.25, 0.5] }, imageSize: 320 },
        fidelity: { epochs: 1 },
      });
      expect((await o.waitForSearch(id)).status).toBe('completed');
      return id;
    };

    it('stores each trial’s model and weights by key, serves them with their checksum, sizes per search', async () => {
      expect(o.artifacts.kind).toBe(kind);
      const id = await launch(3);
      const trials = (await o.listTrials(id, { limit: 10 })).items;
      expect(trials).toHaveLength(3);
      let total = 0;
      for (const t of trials) {
        const w = files.written.get(t.id)!;
        expect(t.onnxPath).toBeNull();
        expect(t.modelKey).toBe(
          `searches/${id}/trials/${t.id}/a1/model-${t.genome.quantization.precision}.onnx`,
        );
        expect(t.weightsKey).toBe(`searches/${id}/trials/${t.id}/a1/weights.safetensors`);
        const m = await o.openTrialModel(t.id);
        expect(m.sha256).toBe(sha(w.model));
        expect(m.size).toBe(w.model.length);
        expect((await readAll(m.stream)).equals(w.model)).toBe(true);
        // the scratch folder is gone once stored
        expect(existsSync(w.workDir)).toBe(false);
        total += w.model.length + w.weights.length;
      }
      const view = await o.searchArtifacts(id);
      expect(view).toMatchObject({ searchId: id, store: kind, count: 6, bytes: total });
    });

    it('gc removes orphans only (dry run first); deleting a search deletes its artifacts', async () => {
      const keep = await launch(2);
      const trial = (await o.listTrials(keep, { limit: 1 })).items[0]!;
      const dead = '00000000-0000-4000-8000-00000000dead';
      const orphans = [
        `searches/${dead}/trials/${dead}/a1/model-fp32.onnx`, // search deleted
        `searches/${keep}/trials/${dead}/a1/model-fp32.onnx`, // trial deleted
        `searches/${keep}/trials/${trial.id}/a2/model-fp32.onnx`, // an attempt the row does not name
        `supernets/${dead}/supernet.weights`, // supernet deleted
      ];
      for (const k of orphans) await o.artifacts.put(k, Buffer.from('orphan'));
      const before = (await o.artifacts.list('')).length;

      const dry = await o.collectGarbage({ dryRun: true });
      expect(dry.dryRun).toBe(true);
      expect(dry.orphans.map((x) => x.key).sort()).toEqual([...orphans].sort());
      expect(dry.orphanBytes).toBe(orphans.length * 6);
      expect((await o.artifacts.list('')).length).toBe(before);

      const done = await o.collectGarbage();
      expect(done.orphans.map((x) => x.key).sort()).toEqual([...orphans].sort());
      expect((await o.artifacts.list('')).length).toBe(before - orphans.length);
      for (const k of orphans) expect(await o.artifacts.exists(k)).toBe(false);
      // what rows name is untouched
      expect(await o.artifacts.exists(trial.modelKey!)).toBe(true);
      expect((await o.collectGarbage({ dryRun: true })).orphans).toEqual([]);

      await o.deleteSearch(keep);
      expect(await o.artifacts.list(`searches/${keep}/`)).toEqual([]);
      await expect(o.openTrialModel(trial.id)).rejects.toMatchObject({ code: 'TRIAL.NOT_FOUND' });
    });

    it('serves a row written before the store from its file while it exists', async () => {
      const id = await launch(1);
      const t = (await o.listTrials(id, { limit: 1 })).items[0]!;
      const legacy = join(home, 'legacy-model.onnx');
      const bytes = randomBytes(12_345);
      writeFileSync(legacy, bytes);
      await o.db.query(`UPDATE trials SET model_key = NULL, onnx_path = $2 WHERE id = $1`, [t.id, legacy]);
      const m = await o.openTrialModel(t.id);
      expect(m.sha256).toBe(sha(bytes));
      expect(m.size).toBe(bytes.length);
      expect((await readAll(m.stream)).equals(bytes)).toBe(true);
      rmSync(legacy);
      await expect(o.openTrialModel(t.id)).rejects.toMatchObject({ code: 'MODEL.NOT_FOUND' });
    });
  });
}
