import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CONSTRAINT_TABLE,
  constraintVector,
  createStrategy,
  ERROR_CODES,
  FINISHED_TRIAL_STATUSES,
  httpStatusFor,
  OBJECTIVE_TABLE,
  objectiveValues,
  objectiveVector,
  STRATEGY_NAMES,
  STRATEGY_TABLE,
  TRIAL_STATUSES,
} from './index';

const metrics = { map50_95: 0.4, latencyMs: 12, sizeBytes: 2e6, params: 1.5e6, gflops: 4.2 };

describe('objective and constraint registries', () => {
  it('minimizes every objective, negating the maximized ones', () => {
    expect(objectiveVector(['map50_95', 'latency', 'size'], metrics)).toEqual([-0.4, 12, 2e6]);
    expect(objectiveVector(['latency', 'map50_95'], metrics)).toEqual([12, -0.4]);
    expect(objectiveValues(['size', 'map50_95'], metrics)).toEqual({ size: 2e6, map50_95: 0.4 });
  });

  it('ranks a missing value worst', () => {
    expect(objectiveVector(['map50_95', 'latency'], { map50_95: 0.3, latencyMs: null })).toEqual([
      -0.3,
      Infinity,
    ]);
  });

  it('computes constraint values in table order, feasible when <= 0', () => {
    expect(
      constraintVector(
        { minMap50_95: 0.5, maxLatencyMs: 10, maxGflops: 5, maxParams: 2e6, maxSizeBytes: 1e6 },
        metrics,
      ),
    ).toEqual([2, 1e6, 1.5e6 - 2e6, 4.2 - 5, 0.5 - 0.4]);
    expect(constraintVector({}, metrics)).toEqual([]);
  });

  it('names a distinct trial column for every objective and a unique key for every constraint', () => {
    expect(new Set(OBJECTIVE_TABLE.map((o) => o.column)).size).toBe(OBJECTIVE_TABLE.length);
    expect(new Set(CONSTRAINT_TABLE.map((c) => c.name)).size).toBe(CONSTRAINT_TABLE.length);
    for (const o of OBJECTIVE_TABLE) expect(o.column).toMatch(/^[a-z0-9_]+$/);
  });
});

describe('trial statuses', () => {
  it('declares each status once with whether it is terminal', () => {
    expect(TRIAL_STATUSES).toEqual(['queued', 'running', 'completed', 'pruned', 'failed']);
    expect(FINISHED_TRIAL_STATUSES).toEqual(['completed', 'pruned', 'failed']);
  });
});

describe('strategy registry', () => {
  it('creates every registered strategy under its own name', () => {
    expect(STRATEGY_NAMES).toEqual(STRATEGY_TABLE.map((s) => s.name));
    for (const name of STRATEGY_NAMES) expect(createStrategy(name).name).toBe(name);
    expect(() => createStrategy('annealing')).toThrow(/unknown strategy 'annealing'.*random/);
  });
});

/** Every 'AREA.CODE' literal passed as a DomainError code in the sources. */
function codesInSources(): Set<string> {
  const root = resolve(__dirname, '../../..');
  const found = new Set<string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (name === 'node_modules' || name === 'dist' || name === 'public') continue;
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts') && !name.endsWith('.spec.ts')) {
        const text = readFileSync(path, 'utf8');
        for (const m of text.matchAll(
          /(?:DomainError\(\s*|code === |zodToDomainError\([^,]+,\s*)'([A-Z_]+\.[A-Z_]+)'/g,
        ))
          found.add(m[1]!);
      }
    }
  };
  for (const top of ['libs', 'apps']) walk(join(root, top));
  return found;
}

describe('error codes', () => {
  it('maps codes to statuses from the table, unknown codes to 400', () => {
    expect(httpStatusFor('SEARCH.NOT_FOUND')).toBe(404);
    expect(httpStatusFor('SEARCH.CONFLICT_STATE')).toBe(409);
    expect(httpStatusFor('ORCHESTRATOR.UNAVAILABLE')).toBe(503);
    expect(httpStatusFor('GENOME.INVALID')).toBe(400);
    expect(httpStatusFor('SOMETHING.NEW')).toBe(400);
  });

  it('lists every code the sources raise', () => {
    const codes = codesInSources();
    expect(codes.size).toBeGreaterThan(20);
    const missing = [...codes].filter((c) => !(c in ERROR_CODES));
    expect(missing).toEqual([]);
  });
});
