import { resolve } from 'node:path';
import pino from 'pino';
import { z } from 'zod';
import { QueueWorker, type QueueWorkerOptions } from '@detsearch/orchestrator';

/**
 * Worker configuration (CONTRACT.md section 4 plus the queue's knobs), from the environment with
 * command-line overrides, validated once so a typo fails at start with the variable's name.
 */
const configSchema = z.object({
  DATABASE_URL: z
    .string({ required_error: 'is required: the Postgres that the API and the other workers share' })
    .trim()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
  /** Schema of the detsearch tables (default public); tests isolate themselves with it. */
  DETSEARCH_DB_SCHEMA: z.string().trim().optional(),
  /** pg-boss's schema (default pgboss, or <DETSEARCH_DB_SCHEMA>_pgboss). */
  DETSEARCH_QUEUE_SCHEMA: z.string().trim().optional(),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  WORKER_HEARTBEAT_MS: z.coerce.number().int().min(50).max(600_000).default(5_000),
  WORKER_STALE_MS: z.coerce.number().int().min(200).max(86_400_000).default(30_000),
  WORKER_POLL_MS: z.coerce.number().int().min(20).max(600_000).default(2_000),
  WORKER_GRACE_MS: z.coerce.number().int().min(0).max(3_600_000).default(10_000),
  TRIAL_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(3),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Where a --measure-only worker writes the profile it refits to this device's measurements. */
  DETSEARCH_HOME: z.string().trim().default('./.detsearch'),
});

export type WorkerConfig = z.infer<typeof configSchema>;

export class WorkerConfigError extends Error {
  override readonly name = 'WorkerConfigError';
}

export interface WorkerOverrides {
  concurrency?: number;
  measureOnly?: boolean;
  profile?: string;
}

/** Reads and checks the configuration; empty strings count as unset. */
export function loadWorkerConfig(env: Record<string, string | undefined> = process.env): WorkerConfig {
  const keys = Object.keys(configSchema.shape) as (keyof WorkerConfig)[];
  const raw = Object.fromEntries(keys.map((k) => [k, env[k] === '' ? undefined : env[k]]));
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success)
    throw new WorkerConfigError(
      `invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`,
    );
  if (parsed.data.WORKER_STALE_MS <= 2 * parsed.data.WORKER_HEARTBEAT_MS)
    throw new WorkerConfigError(
      'invalid configuration: WORKER_STALE_MS must exceed twice WORKER_HEARTBEAT_MS, or live workers look dead',
    );
  return parsed.data;
}

export function workerOptions(config: WorkerConfig, overrides: WorkerOverrides = {}): QueueWorkerOptions {
  const schema = config.DETSEARCH_DB_SCHEMA;
  return {
    databaseUrl: config.DATABASE_URL,
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
  };
}

/**
 * Runs a worker until SIGTERM/SIGINT: the first signal stops it gracefully (running trials get
 * WORKER_GRACE_MS to finish, then go back to the queue), a second one exits at once.
 * Logs go to stderr as JSON; stdout gets one line when the worker is ready.
 */
export async function runWorker(overrides: WorkerOverrides = {}, env = process.env): Promise<QueueWorker> {
  const config = loadWorkerConfig(env);
  const logger = pino({ level: config.LOG_LEVEL, name: 'worker' }, pino.destination(2));
  const worker = await QueueWorker.start({
    ...workerOptions(config, overrides),
    ...(env.DETSEARCH_HOME ? { home: env.DETSEARCH_HOME } : {}),
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
