import { z } from 'zod';

/** Service configuration (CONTRACT.md section 4), validated once at start so a typo fails loudly. */
const configSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  DATABASE_URL: z
    .string()
    .trim()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  DETSEARCH_HOME: z.string().trim().min(1).default('./.detsearch'),
  /** Datasets (data.yaml) are read only below this folder; GET /datasets lists them. */
  DATA_ROOT: z.string().trim().min(1).default('.'),
  API_KEY: z.string().min(8, 'must be at least 8 characters').optional(),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Largest accepted request body; a bigger one gets 413. */
  BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/i, "must look like '256kb'")
    .default('256kb'),
});

export type ApiConfig = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid configuration: ${issues.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** Reads the environment; empty strings count as unset (as `FOO= cmd` usually means). */
export function loadConfig(env: Record<string, string | undefined> = process.env): ApiConfig {
  const keys = Object.keys(configSchema.shape) as (keyof ApiConfig)[];
  const raw = Object.fromEntries(keys.map((k) => [k, env[k] === '' ? undefined : env[k]]));
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success)
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  return parsed.data;
}
