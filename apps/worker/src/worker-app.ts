import { resolve } from 'node:path';
import pino from 'pino';
import { ConfigError, loadConfig, type Config } from '@detsearch/config';
import { setDetsearchHome } from '@detsearch/latency';
import { artifactOptionsFromConfig } from '@detsearch/artifacts';
import { QueueWorker, type QueueWorkerOptions } from '@detsearch/orchestrator';

/** The process configuration, with the Postgres a worker cannot run without. */
export type WorkerConfig = Config & { DATABASE_URL: string };

export class WorkerConfigError extends Error {
  override readonly name = 'WorkerConfigError';
}

export interface WorkerOverrides {
  concurrency?: number;
  measureOnly?: boolean;
  profile?: string;
}

/** Reads and checks the configuration once (see libs/config); empty strings count as unset. */
export function loadWorkerConfig(env?: Record<string, string | undefined>): WorkerConfig {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) throw new WorkerConfigError(err.message);
    throw err;
  }
  if (!config.DATABASE_URL)
    throw new WorkerConfigError(
      'invalid configuration: DATABASE_URL is required: the Postgres that the API and the other workers share',
    );
  if (config.WORKER_STALE_MS <= 2 * config.WORKER_HEARTBEAT_MS)
    throw new WorkerConfigError(
      'invalid configuration: WORKER_STALE_MS must exceed twice WORKER_HEARTBEAT_MS, or live workers look dead',
    );
  return config as WorkerConfig;
}

export function workerOptions(config: WorkerConfig, overrides: WorkerOverrides = {}): QueueWorkerOptions {
  const schema = config.DETSEARCH_DB_SCHEMA;
  return {
    databaseUrl: config.DATABASE_URL,
    home: config.DETSEARCH_HOME,
    artifacts: artifactOptionsFromConfig(config),
    ...(schema ? { schema } : {}),
    queueSchema: config.DETSEARCH_QUEUE_SCHEMA ?? (schema ? `${schema}_pgboss` : undefined),
    kind: overrides.measureOnly ? 'measure' : 'trials',
    ...(overrides.profile ? { profile: overrides.profile } : {}),
    ...(overrides.measureOnly ? { measure: { calibrationHome: resolve(config.DETSEARCH_HOME) } } : {}),
    concurrency: overrides.concurrency ?? config.WORKER_CONCURRENCY,
    heartbeatMs: config.WORKER_HEARTBEAT_MS,
    staleMs: config.WORKER_STALE_MS,
    pollMs: config.WORKER_POLL_MS,
    graceMs: config.WORKER_GRACE_MS,
    maxAttempts: config.TRIAL_MAX_ATTEMPTS,
    evaluatorSettings: {
      home: config.DETSEARCH_HOME,
      dataRoot: config.DATA_ROOT,
      backend: config.DETSEARCH_BACKEND,
      surrogateMs: config.DETSEARCH_SURROGATE_MS,
    },
  };
}

/**
 * Runs a worker until SIGTERM/SIGINT: the first signal stops it gracefully (running trials get
 * WORKER_GRACE_MS to finish, then go back to the queue), a second one exits at once.
 * Logs go to stderr as JSON; stdout gets one line when the worker is ready.
 */
export async function runWorker(
  overrides: WorkerOverrides = {},
  env?: Record<string, string | undefined>,
): Promise<QueueWorker> {
  const config = loadWorkerConfig(env);
  setDetsearchHome(config.DETSEARCH_HOME);
  const logger = pino({ level: config.LOG_LEVEL, name: 'worker' }, pino.destination(2));
  const worker = await QueueWorker.start({
    ...workerOptions(config, overrides),
    log: (msg, extra) => logger.info(extra ?? {}, msg),
  });
  const what =
    worker.kind === 'measure'
      ? `latency on profile ${overrides.profile}`
      : `trials, concurrency ${worker.concurrency}`;
  process.stdout.write(`detsearch worker ${worker.id} ready (${what})\n`);
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) process.exit(130);
    logger.info({ signal, busy: worker.busy }, 'stopping: finishing or releasing running jobs');
    worker.stop().then(
      () => {
        logger.info({ stats: worker.stats }, 'stopped');
        process.exit(0);
      },
      (err) => {
        logger.error({ error: String(err) }, 'unclean stop');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return worker;
}
