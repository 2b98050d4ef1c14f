import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, SETTINGS } from './settings';

describe('loadConfig', () => {
  it('fills every default, the same for the API, the worker and the CLI', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      PORT: 3000,
      DETSEARCH_HOME: './.detsearch',
      WORKER_CONCURRENCY: Math.min(64, availableParallelism()),
      LOG_LEVEL: 'info',
      BODY_LIMIT: '256kb',
      DETSEARCH_BACKEND: 'auto',
      DETSEARCH_SURROGATE_MS: 0,
      DETSEARCH_DISTRIBUTED: false,
    });
    expect(c.DATABASE_URL).toBeUndefined();
    expect(Object.keys(c).sort()).toEqual(Object.keys(SETTINGS).sort());
  });

  it('parses values and treats empty strings as unset', () => {
    const c = loadConfig({
      PORT: '8080',
      DETSEARCH_DISTRIBUTED: 'yes',
      WORKER_CONCURRENCY: '',
      DATA_ROOT: '/data',
    });
    expect(c).toMatchObject({
      PORT: 8080,
      DETSEARCH_DISTRIBUTED: true,
      WORKER_CONCURRENCY: Math.min(64, availableParallelism()),
      DATA_ROOT: '/data',
    });
  });

  it('names every bad variable in one error', () => {
    let err: unknown;
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', DETSEARCH_DISTRIBUTED: 'maybe' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message).toMatch(/^invalid configuration: /);
    expect(message).toMatch(/PORT /);
    expect(message).toMatch(/DATABASE_URL must be a postgres:\/\/ URL/);
    expect(message).toMatch(/DETSEARCH_DISTRIBUTED expected 1\/true\/yes or 0\/false\/no/);
  });
});
