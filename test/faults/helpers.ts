import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { waitFor } from '../queue/helpers';

// One polling helper for every integration suite.
export { waitFor };

export const ROOT = resolve(__dirname, '../..');
/** The built CLI (`npm run build`): starts in a fraction of the time the TypeScript sources take. */
export const BIN = resolve(ROOT, 'bin/detsearch.js');

export interface Child {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | string>;
}

export function spawnCli(args: string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', API_KEY: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | string>((r) =>
    child.once('exit', (code, signal) => r(code ?? signal!)),
  );
  return { child, output: () => out, exited };
}

/** `detsearch serve --port 0` on the embedded database under `home`; resolves once it listens. */
export async function startServe(
  home: string,
  env: Record<string, string> = {},
): Promise<Child & { url: string; startedMs: number }> {
  const t0 = Date.now();
  const c = spawnCli(['serve', '--port', '0', '--host', '127.0.0.1'], {
    DATABASE_URL: '',
    DETSEARCH_HOME: home,
    ...env,
  });
  const url = await waitFor(
    () => {
      if (c.child.exitCode !== null) throw new Error(`serve exited with ${c.child.exitCode}: ${c.output()}`);
      return /listening on (http:\/\/\S+)/.exec(c.output())?.[1];
    },
    // A fresh home migrates first (seconds; minutes on a heavily loaded 2-core machine).
    240_000,
    'serve to listen',
    20,
  );
  return { ...c, url, startedMs: Date.now() - t0 };
}

/** One HTTP request with its duration; a timeout counts as the timeout. */
export async function timed(
  url: string,
  init: RequestInit = {},
  timeoutMs = 5000,
): Promise<{ ms: number; status: number; body: unknown }> {
  const t0 = performance.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { ms: performance.now() - t0, status: res.status, body };
  } catch {
    return { ms: performance.now() - t0, status: 0, body: null };
  }
}

export const json = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});
