import type { NestExpressApplication } from '@nestjs/platform-express';
import { Client } from 'pg';
import request from 'supertest';
import { SurrogateEvaluator, type SurrogateOptions } from '@detsearch/orchestrator';
import { createApp } from '../../apps/api/src/create-app';
import type { ApiConfig } from '../../apps/api/src/config';

export type Backend = 'pglite' | 'postgres';

export const POSTGRES_URL = process.env.DATABASE_URL;

export interface TestApp {
  app: NestExpressApplication;
  /** The 'surrogate' evaluator's options, read per evaluation: tests slow trials down with it. */
  surrogate: SurrogateOptions;
  http: () => ReturnType<typeof request>;
  close(): Promise<void>;
}

/**
 * Boots the API on in-memory PGlite, or on the Postgres of DATABASE_URL in a schema of its own
 * (dropped on close) so test files sharing the database do not see each other's rows.
 */
export async function bootApp(
  backend: Backend,
  tag: string,
  config: Partial<ApiConfig> = {},
): Promise<TestApp> {
  const schema = backend === 'postgres' ? `api_${tag}_${process.pid}` : undefined;
  const surrogate: SurrogateOptions = { msPerTrial: config.DETSEARCH_SURROGATE_MS ?? 0 };
  const app = await createApp({
    evaluators: { surrogate: new SurrogateEvaluator(surrogate) },
    env: {},
    config: {
      LOG_LEVEL: 'silent',
      WORKER_CONCURRENCY: 2,
      ...config,
      DATABASE_URL: backend === 'postgres' ? POSTGRES_URL : undefined,
    },
    inMemory: backend === 'pglite',
    schema,
  });
  return {
    app,
    surrogate,
    http: () => request(app.getHttpServer()),
    async close() {
      await app.close();
      if (schema && POSTGRES_URL) {
        const client = new Client({ connectionString: POSTGRES_URL });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await client.end();
      }
    },
  };
}

export interface SseEvent {
  event: string;
  data: unknown;
}

/** Parses a text/event-stream body into its events. */
export function parseSse(text: string): SseEvent[] {
  return text
    .split(/\n\n+/)
    .filter((block) => block.trim())
    .map((block) => {
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      return { event, data: data.length ? JSON.parse(data.join('\n')) : null };
    });
}

/** Minimal RFC 4180 reader (quoted fields, doubled quotes, embedded commas and newlines). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field || row.length) rows.push([...row, field]);
  return rows;
}

/** Objective vectors to minimize from a trial (mAP negated). */
export function minimized(
  t: { map50_95: number; latencyMs: number; sizeBytes?: number | null },
  objectives: string[],
) {
  return objectives.map((o) =>
    o === 'map50_95' ? -t.map50_95 : o === 'latency' ? t.latencyMs : Number(t.sizeBytes),
  );
}

export function dominates(a: number[], b: number[]): boolean {
  return a.every((v, k) => v <= b[k]!) && a.some((v, k) => v < b[k]!);
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
