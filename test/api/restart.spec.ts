import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from './helpers';

const ROOT = resolve(__dirname, '../..');
const BUDGET = 12;

interface Server {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/** Starts `detsearch serve --port 0` on the embedded database under `home`; resolves with its URL. */
async function startServe(home: string): Promise<Server> {
  const child = spawn(
    process.execPath,
    ['-r', '@swc-node/register', 'apps/cli/src/main.ts', 'serve', '--port', '0', '--host', '127.0.0.1'],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: '',
        API_KEY: '',
        DETSEARCH_HOME: home,
        DETSEARCH_SURROGATE_MS: '300',
        WORKER_CONCURRENCY: '2',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}: ${out}`);
      return /listening on (http:\/\/\S+)/.exec(out)?.[1];
    },
    60_000,
    'serve to listen',
  );
  return { child, url, output: () => out };
}

describe('kill -9 mid-search and restart (detsearch serve as a child process)', () => {
  const home = mkdtempSync(join(tmpdir(), 'detsearch-restart-'));
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(home, { recursive: true, force: true });
  });

  it('the search completes after the restart with exactly the budgeted number of trials', async () => {
    const first = await startServe(home);
    children.push(first.child);
    const created = await request(first.url)
      .post('/searches')
      .send({
        strategy: 'evolution',
        objectives: ['map50_95', 'latency'],
        budget: { trials: BUDGET },
        seed: 3,
        hardwareProfile: 'x86-server',
        fidelity: { epochs: 1 },
        evaluator: 'surrogate',
      })
      .expect(201);
    const id = created.body.id as string;

    // Kill once some trials are done and others are not: the hard case for resume.
    const before = await waitFor(
      async () => {
        const s = (await request(first.url).get(`/searches/${id}`)).body;
        return s.progress?.completed >= 2 ? s : undefined;
      },
      60_000,
      'two completed trials',
    );
    expect(before.status).toBe('running');
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));

    const second = await startServe(home);
    children.push(second.child);
    const done = await waitFor(
      async () => {
        const s = (await request(second.url).get(`/searches/${id}`)).body;
        return s.status === 'completed' || s.status === 'failed' ? s : undefined;
      },
      90_000,
      'the search to end after restart',
    );
    expect(done.status).toBe('completed');
    const trials = (
      await request(second.url).get(`/searches/${id}/trials?limit=1000&sort=number`).expect(200)
    ).body;
    expect(trials.total).toBe(BUDGET);
    const numbers = (trials.items as { number: number }[]).map((t) => t.number);
    expect(numbers).toEqual(Array.from({ length: BUDGET }, (_, i) => i));
    expect(
      (trials.items as { status: string }[]).every((t) => ['completed', 'pruned'].includes(t.status)),
    ).toBe(true);

    second.child.kill('SIGTERM');
    const code = await new Promise((r) => second.child.once('exit', (c, s) => r(c ?? s)));
    expect([0, 'SIGTERM']).toContain(code);
  }, 240_000);
});
