import { availableParallelism } from 'node:os';
import { parse as parsePath, resolve as resolvePath } from 'node:path';
import { z } from 'zod';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const flag = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['1', 'true', 'yes', '0', 'false', 'no'].includes(v), 'expected 1/true/yes or 0/false/no')
  .transform((v) => v === '1' || v === 'true' || v === 'yes');

/**
 * Every environment variable the service reads, validated once at start. A new setting is one
 * row here; processes read the typed result of `loadConfig`, libs take it as options.
 */
export const SETTINGS = {
  DATABASE_URL: {
    schema: z
      .string()
      .trim()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
      .optional(),
    description: 'Postgres; absent: embedded PGlite under DETSEARCH_HOME',
  },
  DETSEARCH_HOME: {
    schema: z.string().trim().min(1).default('./.detsearch'),
    description: 'embedded database, trial artifacts, generated datasets, fitted profiles',
  },
  ARTIFACT_STORE: {
    schema: z.enum(['fs', 'postgres', 's3']).optional(),
    description:
      'where models, weights and supernets are stored: fs (DETSEARCH_HOME/artifacts), postgres (the database), s3; default postgres with DATABASE_URL, else fs',
  },
  ARTIFACT_S3_BUCKET: {
    schema: z.string().trim().min(3).optional(),
    description: 'the bucket of ARTIFACT_STORE=s3',
  },
  ARTIFACT_S3_ENDPOINT: {
    schema: z.string().trim().url('must be a URL such as http://127.0.0.1:9000').optional(),
    description: 'S3-compatible endpoint (MinIO, Ceph, ...); absent: AWS',
  },
  ARTIFACT_S3_REGION: { schema: z.string().trim().min(1).default('us-east-1'), description: 'S3 region' },
  ARTIFACT_S3_ACCESS_KEY_ID: {
    schema: z.string().trim().min(1).optional(),
    description: "S3 access key; absent: the AWS SDK's default credential chain",
  },
  ARTIFACT_S3_SECRET_ACCESS_KEY: { schema: z.string().min(1).optional(), description: 'S3 secret key' },
  ARTIFACT_S3_FORCE_PATH_STYLE: {
    schema: flag.optional(),
    description: 'bucket in the URL path rather than the host name (default: on with an endpoint)',
  },
  ARTIFACT_S3_PREFIX: {
    schema: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9._/-]*$/, 'letters, digits, . _ - / only')
      .optional(),
    description: 'prefix of every object key in the bucket, e.g. detsearch/',
  },
  PORT: { schema: z.coerce.number().int().min(0).max(65_535).default(3000), description: 'API port' },
  API_KEY: {
    schema: z.string().min(8, 'must be at least 8 characters').optional(),
    description: 'required on mutating routes when set',
  },
  LOG_LEVEL: { schema: z.enum(LOG_LEVELS).default('info'), description: 'pino log level' },
  BODY_LIMIT: {
    schema: z
      .string()
      .regex(/^\d+(b|kb|mb)$/i, "must look like '256kb'")
      .default('256kb'),
    description: 'largest accepted request body; a bigger one gets 413',
  },
  HOST: {
    schema: z.string().trim().min(1).default('127.0.0.1'),
    description: 'address `serve` binds; loopback unless told otherwise (docker-compose sets 0.0.0.0)',
  },
  RATE_LIMIT: {
    schema: z.coerce.number().int().min(0).default(3000),
    description:
      'requests one client address may make per window, across routes (/health, /metrics exempt); 0: off',
  },
  RATE_LIMIT_LAUNCH: {
    schema: z.coerce.number().int().min(0).default(30),
    description: 'searches one client may launch per window (accepted launches only); 0: off',
  },
  RATE_LIMIT_WINDOW_MS: {
    schema: z.coerce.number().int().min(1000).default(60_000),
    description: 'the window of RATE_LIMIT and RATE_LIMIT_LAUNCH',
  },
  MAX_TRIALS_PER_SEARCH: {
    schema: z.coerce.number().int().min(1).max(100_000).default(100_000),
    description: "this deployment's cap on a search's budget.trials",
  },
  MAX_JSON_DEPTH: {
    schema: z.coerce.number().int().min(4).max(256).default(32),
    description: 'deepest nesting accepted in a JSON request body',
  },
  DATA_ROOT: {
    schema: z.string().trim().min(1).optional(),
    description: 'datasets are only read below it (default: the working directory)',
  },
  DETSEARCH_BACKEND: {
    schema: z.string().trim().min(1).default('auto'),
    description: 'tfjs backend: tensorflow-gpu, tensorflow, wasm, cpu; auto tries them in that order',
  },
  DETSEARCH_SURROGATE_MS: {
    schema: z.coerce.number().min(0).default(0),
    description: 'time the surrogate evaluator spends per trial (scale and fault tests)',
  },
  DETSEARCH_DISTRIBUTED: {
    schema: flag.default('0'),
    description: 'with DATABASE_URL: trials go to worker processes through pg-boss',
  },
  DETSEARCH_DB_SCHEMA: {
    schema: z.string().trim().optional(),
    description: 'schema of the detsearch tables (default public); tests isolate themselves with it',
  },
  DETSEARCH_QUEUE_SCHEMA: {
    schema: z.string().trim().optional(),
    description: "pg-boss's schema (default pgboss, or <DETSEARCH_DB_SCHEMA>_pgboss)",
  },
  WORKER_CONCURRENCY: {
    // One training process per core: the wasm trainer is single-threaded.
    schema: z.coerce
      .number()
      .int()
      .min(1)
      .max(64)
      .default(Math.min(64, Math.max(1, availableParallelism()))),
    description:
      "trials a process evaluates at once (training uses a core each); default this machine's cores",
  },
  WORKER_MEASURE_PROFILE: {
    schema: z.string().trim().min(1).optional(),
    description: 'makes the worker entry a latency-measurement worker for this hardware profile',
  },
  WORKER_HEARTBEAT_MS: {
    schema: z.coerce.number().int().min(50).max(600_000).default(5_000),
    description: 'worker heartbeat period',
  },
  WORKER_STALE_MS: {
    schema: z.coerce.number().int().min(200).max(86_400_000).default(30_000),
    description: 'a silent attempt is re-queued after this long',
  },
  WORKER_POLL_MS: {
    schema: z.coerce.number().int().min(20).max(600_000).default(2_000),
    description: 'queue poll period without notifications',
  },
  WORKER_GRACE_MS: {
    schema: z.coerce.number().int().min(0).max(3_600_000).default(10_000),
    description: 'time running trials get to finish on SIGTERM',
  },
  TRIAL_MAX_ATTEMPTS: {
    schema: z.coerce.number().int().min(1).max(100).default(3),
    description: 'attempts before a trial fails',
  },
} as const satisfies Record<string, { schema: z.ZodTypeAny; description: string }>;

export type SettingName = keyof typeof SETTINGS;
export type Config = { [K in SettingName]: z.infer<(typeof SETTINGS)[K]['schema']> };

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly issues: string[]) {
    super(`invalid configuration: ${issues.join('; ')}`);
  }
}

/**
 * Reads and checks every setting; empty strings count as unset (as `FOO= cmd` usually means).
 * Throws one ConfigError listing every bad variable by name.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const out: Record<string, unknown> = {};
  const issues: string[] = [];
  for (const [name, setting] of Object.entries(SETTINGS)) {
    const raw = env[name] === '' ? undefined : env[name];
    const r = (setting.schema as z.ZodTypeAny).safeParse(raw);
    if (r.success) out[name] = r.data;
    else issues.push(...r.error.issues.map((i) => `${name} ${i.message}`));
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return out as Config;
}

/**
 * The command line reads the dataset its user names, wherever it is: without DATA_ROOT set, the
 * confinement opens to that path's filesystem root for this process and the training children it
 * starts (they read the same variable). With DATA_ROOT set it still applies, as it always does for
 * the API, where clients name the paths. Load the configuration after calling this.
 */
export function allowDatasetAnywhere(
  path: string,
  env: Record<string, string | undefined> = process.env,
): void {
  if (!env.DATA_ROOT) env.DATA_ROOT = parsePath(resolvePath(path)).root;
}
