import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { QueueWorker } from '@detsearch/orchestrator';
import { loadWorkerConfig, workerOptions } from '../../apps/worker/src/worker-app';
import { ROOT } from './helpers';

describe('worker configuration', () => {
  it('needs DATABASE_URL, with a message that says so', async () => {
    expect(() => loadWorkerConfig({})).toThrow(/DATABASE_URL is required/);
    expect(() => loadWorkerConfig({ DATABASE_URL: 'mysql://x' })).toThrow(
      /DATABASE_URL must be a postgres:\/\/ URL/,
    );
    await expect(QueueWorker.start({ databaseUrl: '' })).rejects.toThrow(/needs DATABASE_URL/);
  });

  it('defaults to one trial per core and derives the queue schema from the database schema', () => {
    const config = loadWorkerConfig({ DATABASE_URL: 'postgres://h/db', DETSEARCH_DB_SCHEMA: 't1' });
    expect(workerOptions(config)).toMatchObject({
      kind: 'trials',
      concurrency: Math.min(64, availableParallelism()),
      schema: 't1',
      queueSchema: 't1_pgboss',
      heartbeatMs: 5000,
      staleMs: 30_000,
      maxAttempts: 3,
    });
    expect(
      workerOptions(config, { measureOnly: true, profile: 'jetson-nano', concurrency: 2 }),
    ).toMatchObject({
      kind: 'measure',
      profile: 'jetson-nano',
      concurrency: 2,
    });
    expect(() =>
      loadWorkerConfig({
        DATABASE_URL: 'postgres://h/db',
        WORKER_HEARTBEAT_MS: '5000',
        WORKER_STALE_MS: '6000',
      }),
    ).toThrow(/WORKER_STALE_MS must exceed twice WORKER_HEARTBEAT_MS/);
    expect(() => loadWorkerConfig({ DATABASE_URL: 'postgres://h/db', WORKER_CONCURRENCY: '0' })).toThrow(
      /WORKER_CONCURRENCY/,
    );
  });

  it('`detsearch worker` without DATABASE_URL exits 2 with one line on stderr', () => {
    const r = spawnSync(process.execPath, ['-r', '@swc-node/register', 'apps/cli/src/main.ts', 'worker'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: '' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^detsearch: invalid configuration: DATABASE_URL is required/);
  });
});
