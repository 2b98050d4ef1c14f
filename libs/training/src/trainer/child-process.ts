import { fork } from 'node:child_process';
import { join } from 'node:path';
import { DomainError } from '@detsearch/common';
import type { ChildMessage, ParentMessage } from './process-protocol';
import type { EpochDecision, EpochMetrics } from './types';

export interface ChildHooks {
  onLog?: (line: string) => void;
  onEpoch?: (m: EpochMetrics) => EpochDecision | Promise<EpochDecision>;
  /** Kill the child after this many ms (default: no limit). */
  timeoutMs?: number;
  /** Aborting kills the child (a cancelled search must not keep training). */
  signal?: AbortSignal;
  /** Structured progress a child entry sends (other libraries' job kinds). */
  onProgress?: (progress: unknown) => void;
  /** Another child entry (a library with job kinds of its own); default this library's. */
  entry?: { file: string; execArgv: string[] };
}

/** Error from a child run: the child's own error, or how the process died. */
export class ChildRunError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'ChildRunError';
  }
}

/**
 * The child entry next to this file: compiled JS as is, or the TS source through swc-node (under
 * vitest and the bench scripts), detected from this module's own extension.
 */
export function childEntry(
  dir: string = __dirname,
  base = 'child-entry',
  compiled = !__filename.endsWith('.ts'),
): { file: string; execArgv: string[] } {
  if (compiled) return { file: join(dir, `${base}.js`), execArgv: [] };
  let register = '@swc-node/register';
  try {
    register = require.resolve('@swc-node/register');
  } catch {
    // left to node's resolution from the working directory
  }
  return { file: join(dir, `${base}.ts`), execArgv: ['-r', register] };
}

/**
 * Runs a job kind ('train', 'trial') in a fresh Node process so that training (one core, wasm) never
 * blocks the caller's event loop and a crash or out-of-memory cannot take the caller down. Progress
 * arrives through the hooks; `onEpoch`'s decision travels back to the child. The child's stdout is
 * forwarded to this process's stderr, so a `--json` stdout stays clean.
 */
export function runInChild<T>(kind: string, payload: unknown, hooks: ChildHooks = {}): Promise<T> {
  const entry = hooks.entry ?? childEntry();
  const child = fork(entry.file, [], {
    execArgv: entry.execArgv,
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  child.stdout?.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      fn();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    };
    if (hooks.timeoutMs)
      timer = setTimeout(
        () =>
          finish(() =>
            reject(new ChildRunError(`${kind} process timed out after ${hooks.timeoutMs} ms`, 'TIMEOUT')),
          ),
        hooks.timeoutMs,
      );
    if (hooks.signal) {
      const onAbort = () => finish(() => reject(new ChildRunError(`${kind} process aborted`, 'ABORTED')));
      if (hooks.signal.aborted) onAbort();
      else {
        hooks.signal.addEventListener('abort', onAbort, { once: true });
        child.once('exit', () => hooks.signal?.removeEventListener('abort', onAbort));
      }
    }
    const send = (m: ParentMessage) => {
      if (child.connected) child.send(m);
    };
    child.on('message', (raw) => {
      const m = raw as ChildMessage;
      if (m.type === 'ready') send({ type: 'start', kind, payload });
      else if (m.type === 'log') hooks.onLog?.(m.line);
      else if (m.type === 'progress') hooks.onProgress?.(m.progress);
      else if (m.type === 'epoch') {
        Promise.resolve(hooks.onEpoch ? hooks.onEpoch(m.metrics) : 'continue')
          .catch(() => 'stop' as const)
          .then((decision) => send({ type: 'decision', epoch: m.metrics.epoch, decision }));
      } else if (m.type === 'result') finish(() => resolve(m.result as T));
      else if (m.type === 'error')
        // A domain error (bad genome, dataset outside DATA_ROOT) stays one across the process boundary.
        finish(() => reject(m.code ? new DomainError(m.code, m.message) : new ChildRunError(m.message)));
    });
    child.on('error', (e) => finish(() => reject(new ChildRunError(`${kind} process: ${e.message}`))));
    child.on('exit', (code, signal) =>
      finish(() =>
        reject(
          new ChildRunError(
            `${kind} process exited ${signal ? `on signal ${signal}` : `with code ${code}`} before reporting a result`,
            'CHILD_EXITED',
          ),
        ),
      ),
    );
  });
}
