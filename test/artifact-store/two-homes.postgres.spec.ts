import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import * as ort from 'onnxruntime-node';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SearchOrchestrator } from '@detsearch/orchestrator';
import { createApp } from '../../apps/api/src/create-app';
import { ORCHESTRATOR } from '../../apps/api/src/tokens';
import {
  exited,
  queueSchemas,
  ROOT,
  spawnWorker,
  waitFor,
  type QueueSchemas,
  type WorkerProcess,
} from '../queue/helpers';
import { DATABASE_URL } from '../persistence/helpers';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** One tiny real trial: 64 px, width 0.125, fp32, one epoch on the synthetic shapes. */
const LAUNCH = {
  name: 'artifacts travel',
  strategy: 'random',
  evaluator: 'full',
  objectives: ['map50_95', 'latency'],
  hardwareProfile: 'raspberry-pi-4',
  budget: { trials: 1 },
  fidelity: { epochs: 1, imageSize: 64 },
  searchSpace: {
    depthMultiple: 0.33,
    widthMultiple: 0.125,
    imageSize: 64,
    activation: 'relu',
    separable: [],
    quantization: 'fp32',
  },
};

/** Runs the CLI from the sources with `env`; resolves with its exit code and output. */
function cli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/cli/src/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return exited(child).then((code) => ({ code, out, err }));
}

async function firstOutput(bytes: Uint8Array, size: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  const input = new ort.Tensor('float32', new Float32Array(3 * size * size).fill(0.5), [1, 3, size, size]);
  const out = await session.run({ [session.inputNames[0]!]: input });
  return out[session.outputNames[0]!]!.data as Float32Array;
}

/**
 * Two machines as far as files go: the API (this process) and a `detsearch worker` (a child
 * process) share only the Postgres database, each with its own DETSEARCH_HOME. The worker trains
 * and exports a real model; the API serves it from the artifact store, byte for byte.
 */
if (!DATABASE_URL) {
  describe('artifacts travel between machines', () => {
    it.skip('needs DATABASE_URL: a worker and the API share only a Postgres server (PGlite is one process)', () => {});
  });
} else {
  const url = DATABASE_URL;
  describe('artifacts travel between machines', () => {
    let db: QueueSchemas;
    let app: NestExpressApplication;
    let worker: WorkerProcess;
    const apiHome = mkdtempSync(join(tmpdir(), 'home-api-'));
    const workerHome = mkdtempSync(join(tmpdir(), 'home-worker-'));
    const cliHome = mkdtempSync(join(tmpdir(), 'home-cli-'));

    beforeAll(async () => {
      db = queueSchemas(url, 'travel');
      app = await createApp({
        env: {},
        config: {
          LOG_LEVEL: 'silent',
          RATE_LIMIT: 0,
          RATE_LIMIT_LAUNCH: 0,
          DATABASE_URL: url,
          DETSEARCH_HOME: apiHome,
          DETSEARCH_DISTRIBUTED: true,
        },
        schema: db.schema,
      });
      worker = await spawnWorker({
        DATABASE_URL: url,
        DETSEARCH_HOME: workerHome,
        DETSEARCH_DB_SCHEMA: db.schema,
        DETSEARCH_QUEUE_SCHEMA: db.queueSchema,
        DETSEARCH_BACKEND: 'wasm',
        WORKER_HEARTBEAT_MS: '1000',
        WORKER_STALE_MS: '60000',
        WORKER_POLL_MS: '500',
        LOG_LEVEL: 'info',
      });
    }, 180_000);

    afterAll(async () => {
      if (worker) {
        worker.child.kill('SIGTERM');
        await Promise.race([exited(worker.child), new Promise((r) => setTimeout(r, 15_000))]);
        if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
      }
      await app?.close();
      await db?.drop();
      for (const d of [apiHome, workerHome, cliHome]) rmSync(d, { recursive: true, force: true });
    });

    it("serves the worker's model byte for byte from the store; it loads in onnxruntime; export --trial and delete use the store too", async () => {
      const http = () => request(app.getHttpServer());
      const { id } = (await http().post('/searches').send(LAUNCH).expect(201)).body as { id: string };
      const search = await waitFor(
        async () => {
          const s = (await http().get(`/searches/${id}`).expect(200)).body as {
            status: string;
            error?: string;
          };
          if (s.status === 'failed' || s.status === 'cancelled')
            throw new Error(`search ${s.status}: ${s.error}`);
          return s.status === 'completed' ? s : null;
        },
        240_000,
        'the search to complete',
        500,
      );
      expect(search.status).toBe('completed');
      const rows = (await http().get(`/searches/${id}/trials?view=full`).expect(200)).body.items as {
        id: string;
        status: string;
        error: string | null;
        workerId: string;
        modelKey: string | null;
        weightsKey: string | null;
        onnxPath: string | null;
      }[];
      expect(rows).toHaveLength(1);
      const trial = rows[0]!;
      expect(trial.status, trial.error ?? '').toBe('completed');
      // The worker ran it; the row names store keys, no path of the worker's disk.
      // (the API shows worker ids hashed, not host names)
      expect(trial.workerId).toBe(`w-${sha(Buffer.from(worker.id)).slice(0, 12)}`);
      expect(trial.onnxPath).toBeNull();
      expect(trial.modelKey).toMatch(new RegExp(`^searches/${id}/trials/${trial.id}/a1/model-fp32\\.onnx$`));
      expect(trial.weightsKey).toMatch(/\/weights\.safetensors$/);
      // Nothing of the trial on the API's disk (the default store on Postgres is the database).
      expect(existsSync(join(apiHome, 'trials'))).toBe(false);
      expect(existsSync(join(apiHome, 'artifacts'))).toBe(false);
      // The worker's scratch folder went once the artifacts were stored.
      expect(existsSync(join(workerHome, 'trials', id, trial.id))).toBe(false);

      // What the worker exported: the checksum it computed reading its file while storing it.
      const stored = worker
        .output()
        .split('\n')
        .filter((l) => l.includes('artifact stored'))
        .map((l) => JSON.parse(l) as { key: string; sha256: string; size: number; store: string });
      const exported = stored.find((s) => s.key === trial.modelKey);
      expect(exported, worker.output().slice(-2000)).toBeDefined();
      expect(exported!.store).toBe('postgres');

      const res = await http()
        .get(`/trials/${trial.id}/model.onnx`)
        .buffer(true)
        .parse((r, done) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => done(null, Buffer.concat(chunks)));
        })
        .expect(200);
      const bytes = res.body as Buffer;
      expect(bytes.length).toBe(exported!.size);
      expect(sha(bytes)).toBe(exported!.sha256);
      expect(res.headers['content-length']).toBe(String(bytes.length));
      expect(res.headers['x-checksum-sha256']).toBe(exported!.sha256);
      const fromApi = await firstOutput(bytes, 64);
      expect(fromApi.length).toBeGreaterThan(0);
      expect(fromApi.every(Number.isFinite)).toBe(true);

      // Sizes per search.
      const listed = (await http().get(`/searches/${id}/artifacts`).expect(200)).body as {
        store: string;
        count: number;
        bytes: number;
        items: { key: string; size: number; sha256: string }[];
      };
      expect(listed.store).toBe('postgres');
      expect(listed.items.map((i) => i.key).sort()).toEqual([trial.modelKey, trial.weightsKey].sort());
      expect(listed.bytes).toBe(listed.items.reduce((a, i) => a + i.size, 0));

      // A third machine: the CLI re-exports from the stored weights; same network, same outputs.
      const out = join(cliHome, 'again.onnx');
      const exportRun = await cli(
        ['export', '--trial', trial.id, '--precision', 'fp32', '--out', out, '--json'],
        {
          DATABASE_URL: url,
          DETSEARCH_HOME: cliHome,
          DETSEARCH_DB_SCHEMA: db.schema,
        },
      );
      expect(exportRun.code, exportRun.err).toBe(0);
      expect(JSON.parse(exportRun.out)).toMatchObject({
        trained: true,
        weights: `artifact ${trial.weightsKey}`,
      });
      const again = await firstOutput(readFileSync(out), 64);
      expect(again.length).toBe(fromApi.length);
      let maxDiff = 0;
      for (let i = 0; i < again.length; i++) maxDiff = Math.max(maxDiff, Math.abs(again[i]! - fromApi[i]!));
      expect(maxDiff).toBeLessThan(1e-4);
      // The CLI fetched into a scratch folder and removed it; nothing stays in its home.
      expect(readdirSync(cliHome).filter((f) => f !== 'again.onnx' && f !== 'profiles')).toEqual([]);

      // Deleting the search deletes its artifacts.
      await http().delete(`/searches/${id}`).expect(204);
      await http().get(`/trials/${trial.id}/model.onnx`).expect(404);
      const orchestrator = app.get<SearchOrchestrator>(ORCHESTRATOR);
      expect(await orchestrator.artifacts.list(`searches/${id}/`)).toEqual([]);
      const rowsLeft = await orchestrator.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM artifact_objects WHERE key LIKE $1`,
        [`searches/${id}/%`],
      );
      expect(rowsLeft[0]!.n).toBe(0);
    }, 420_000);
  });
}
