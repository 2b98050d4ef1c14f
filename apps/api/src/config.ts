import { z } from 'zod';
import { ConfigError, loadConfig as loadProcessConfig, type Config } from '@detsearch/config';

export { ConfigError };

/**
 * The API's own limits and binding, on top of the one process configuration (libs/config).
 * Kept here, small, so they can move into its settings table as rows.
 */
const apiSettingsSchema = z.object({
  /** Address `serve` binds; loopback unless told otherwise (docker-compose sets 0.0.0.0). */
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  /** Requests one client (IP) may make per RATE_LIMIT_WINDOW_MS; 0 turns the limit off. */
  RATE_LIMIT: z.coerce.number().int().min(0).default(3000),
  /** Searches one client may launch per window (accepted launches only); 0 turns the limit off. */
  RATE_LIMIT_LAUNCH: z.coerce.number().int().min(0).default(30),
  RATE_LIMIT_WINDOW_MS: z.coerce.number().int().min(1000).default(60_000),
  /** This deployment's cap on a search's budget.trials (at most 100000). */
  MAX_TRIALS_PER_SEARCH: z.coerce.number().int().min(1).max(100_000).default(100_000),
  /** Deepest nesting accepted in a JSON body. */
  MAX_JSON_DEPTH: z.coerce.number().int().min(4).max(256).default(32),
});

export type ApiConfig = Config & z.infer<typeof apiSettingsSchema>;

/** The process configuration plus the API's settings; empty strings count as unset. */
export function loadConfig(env: Record<string, string | undefined> = process.env): ApiConfig {
  const base = loadProcessConfig(env);
  const keys = Object.keys(apiSettingsSchema.shape);
  const raw = Object.fromEntries(keys.map((k) => [k, env[k] === '' ? undefined : env[k]]));
  const parsed = apiSettingsSchema.safeParse(raw);
  if (!parsed.success)
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`));
  return { ...base, ...parsed.data };
}
