/**
 * Entry of a training child process (see runInChild). Waits for one `start` message, runs the job
 * kind with progress streamed back over IPC, replies with the result or the error, and exits.
 */
import { isDomainError } from '@detsearch/common';
import { loadConfig } from '@detsearch/config';
import { setDetsearchHome } from '@detsearch/latency';
import { runTrialInProcess, type TrialRequest } from '../trial/run-trial';
import type { ChildMessage, ParentMessage } from './process-protocol';
import { trainDetector } from './train';
import type { EpochDecision, EpochMetrics, TrainHooks, TrainJob } from './types';

type Handler = (payload: unknown, hooks: TrainHooks) => Promise<unknown>;

// A process entry like the apps: its settings come from the config it inherits, once.
const config = loadConfig();
setDetsearchHome(config.DETSEARCH_HOME);

/** The process's backend and DATA_ROOT where the job leaves them open. */
function withProcessDefaults(payload: unknown): unknown {
  const job = payload as { backend?: string; dataset?: { dataYaml?: string; dataRoot?: string } };
  const dataset =
    job.dataset && 'dataYaml' in job.dataset && job.dataset.dataRoot === undefined && config.DATA_ROOT
      ? { ...job.dataset, dataRoot: config.DATA_ROOT }
      : job.dataset;
  return { ...job, backend: job.backend ?? config.DETSEARCH_BACKEND, ...(dataset ? { dataset } : {}) };
}

const HANDLERS: Record<string, Handler> = {
  train: async (payload, hooks) => (await trainDetector(payload as TrainJob, hooks)).summary,
  trial: (payload, hooks) => runTrialInProcess(payload as TrialRequest, hooks),
};

function send(m: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(m, undefined, {}, () => resolve());
  });
}

const decisions = new Map<number, (d: EpochDecision) => void>();

async function run(kind: string, payload: unknown): Promise<void> {
  const handler = HANDLERS[kind];
  if (!handler) {
    await send({ type: 'error', message: `unknown job kind '${kind}'` });
    return;
  }
  const hooks: TrainHooks = {
    onLog: (line) => void send({ type: 'log', line }),
    onEpoch: (metrics: EpochMetrics) =>
      new Promise<EpochDecision>((resolve) => {
        decisions.set(metrics.epoch, resolve);
        void send({ type: 'epoch', metrics });
      }),
  };
  try {
    const result = await handler(withProcessDefaults(payload), hooks);
    await send({ type: 'result', result });
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    await send({
      type: 'error',
      message: err.message,
      ...(isDomainError(e) ? { code: (e as { code: string }).code } : {}),
      stack: err.stack,
    });
  }
}

if (process.send) {
  process.on('message', (raw) => {
    const m = raw as ParentMessage;
    if (m.type === 'start') {
      void run(m.kind, m.payload).finally(() => process.disconnect());
    } else if (m.type === 'decision') {
      decisions.get(m.epoch)?.(m.decision);
      decisions.delete(m.epoch);
    }
  });
  void send({ type: 'ready' });
}
