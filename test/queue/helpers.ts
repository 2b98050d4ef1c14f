import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { DATABASE_URL, uniqueSchema } from '../persistence/helpers';

export { DATABASE_URL };
export const ROOT = resolve(__dirname, '../..');

/** A detsearch schema and a pg-boss schema of their own per test file, dropped afterwards. */
export interface QueueSchemas {
  url: string;
  schema: string;
  queueSchema: string;
  drop(): Promise<void>;
}

export function queueSchemas(url: string, prefix: string): QueueSchemas {
  const schema = uniqueSchema(prefix);
  const queueSchema = `${schema}_pgboss`;
  return {
    url,
    schema,
    queueSchema,
    async drop() {
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await client.query(`DROP SCHEMA IF EXISTS "${queueSchema}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs: number,
  what: string,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface WorkerProcess {
  child: ChildProcess;
  /** The worker id it printed when ready (host:pid:random). */
  id: string;
  output: () => string;
}

/**
 * Starts `detsearch worker` from the TypeScript sources (swc) as a child process and resolves
 * once it printed its ready line. `env` adds to the environment (schemas, timings).
 */
export async function spawnWorker(env: Record<string, string>, args: string[] = []): Promise<WorkerProcess> {
  const child = spawn(
    process.execPath,
    ['-r', '@swc-node/register', 'apps/cli/src/main.ts', 'worker', ...args],
    {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const id = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`worker exited with ${child.exitCode}: ${out}`);
      return /detsearch worker (\S+) ready/.exec(out)?.[1];
    },
    90_000,
    'the worker to be ready',
  );
  return { child, id, output: () => out };
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((r) => child.once('exit', (code) => r(code)));
}
