/**
 * API benchmark: leaderboard and Pareto-export latency through HTTP on loopback, with
 * 1,000 and 100,000 stored trials in one search, on embedded PGlite and (when DATABASE_URL is set)
 * on Postgres. Trials are bulk-seeded with persistence's seedTrials (synthetic rows, realistic
 * spread of statuses and metrics). Each case: warm-up, then sequential keep-alive requests, the
 * clock stopping when the whole body has been read. Deep pages are asked for twice, by offset
 * and by keyset cursor (after=), at the same positions.
 *
 *   npm run bench:api        (env: BENCH_REQUESTS, default 200; BENCH_SIZES, default 1000,100000;
 *                             BENCH_BACKENDS, default pglite plus postgres when DATABASE_URL is set;
 *                             BENCH_CASE_SECONDS, default 60: a row stops early after 10+ requests)
 *
 * Prints a markdown table and writes it to bench/results/api.md.
 * Targets: p99 < 50 ms at 1,000 trials, < 300 ms at 100,000.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { SearchOrchestrator } from '@detsearch/orchestrator';
import { seedTrials } from '@detsearch/persistence';
import { startServer } from '../apps/api/src/create-app';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);
/** A case that misses its target by far stops after this long, reporting the requests it made. */
const CASE_SECONDS = Number(process.env.BENCH_CASE_SECONDS ?? 60);
const WARMUP = Math.max(5, Math.round(REQUESTS / 10));
const SIZES = (process.env.BENCH_SIZES ?? '1000,100000').split(',').map(Number);
const DATABASE_URL = process.env.DATABASE_URL || undefined;
const BACKENDS = (process.env.BENCH_BACKENDS ?? (DATABASE_URL ? 'pglite,postgres' : 'pglite')).split(',') as (
  'pglite' | 'postgres'
)[];
const TARGET_P99_MS = (n: number) => (n <= 1000 ? 50 : 300);
const log = (s: string) => process.stderr.write(`${s}\n`);

interface Case {
  name: string;
  /** Path for request i (deep pages vary their offset). */
  path: (i: number) => string;
}

/** Distinct deep positions the two deep-page rows visit, in the same order. */
const DEEP_POSITIONS = 50;

/** Offset of deep request i: pseudo-random over the first 90% of the trials. */
const deepOffset = (n: number, i: number) =>
  Math.floor(((((i % DEEP_POSITIONS) * 7919) % 1000) / 1000) * Math.max(0, Math.floor(n * 0.9) - 50));

/**
 * The nextCursor a client holds on reaching each deep position (the cursor ending the page just
 * before it), fetched once, untimed, so the cursor row asks for exactly the pages the offset row does.
 */
async function deepCursors(orchestrator: SearchOrchestrator, id: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < DEEP_POSITIONS; i++) {
    const offset = deepOffset(n, i);
    if (offset === 0) {
      out.push('');
      continue;
    }
    // The page ending right before `offset` (a short first page when offset < 50).
    const before = await orchestrator.leaderboard(id, {
      sort: '-params',
      limit: Math.min(50, offset),
      offset: Math.max(0, offset - 50),
    });
    out.push(before.nextCursor ?? '');
  }
  return out;
}

function cases(id: string, n: number, cursors: string[]): Case[] {
  const page = `/searches/${id}/trials?sort=-params&limit=50`;
  return [
    { name: 'leaderboard top 50 by -map50_95', path: () => `/searches/${id}/trials?sort=-map50_95&limit=50` },
    {
      name: 'leaderboard completed, by latencyMs',
      path: () => `/searches/${id}/trials?sort=latencyMs&status=completed&limit=50`,
    },
    {
      name: 'leaderboard page at random offset, by -params',
      path: (i) => `${page}&offset=${deepOffset(n, i)}`,
    },
    {
      name: 'leaderboard deep page via cursor, by -params',
      path: (i) => {
        const c = cursors[i % DEEP_POSITIONS]!;
        return c ? `${page}&after=${c}` : page;
      },
    },
    { name: 'Pareto front JSON', path: () => `/searches/${id}/pareto` },
    { name: 'Pareto front CSV', path: () => `/searches/${id}/pareto?format=csv` },
  ];
}

// One keep-alive socket per case: a socket idle through seeding may have been closed by the server.
let agent = new Agent({ keepAlive: true, maxSockets: 1 });

function get(base: URL, path: string): Promise<{ status: number; ms: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request({ host: base.hostname, port: base.port, path, agent }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

interface Row {
  backend: string;
  trials: number;
  case: string;
  /** Requests measured (fewer than asked when the case ran out of time). */
  n: number;
  p50: number;
  p99: number;
  max: number;
  kb: number;
  target: number;
}

async function measure(base: URL, c: Case): Promise<Omit<Row, 'backend' | 'trials' | 'target'>> {
  agent.destroy();
  agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const deadline = performance.now() + CASE_SECONDS * 1000;
  for (let i = 0; i < WARMUP && performance.now() < deadline; i++) await get(base, c.path(i));
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < REQUESTS && (i < 10 || performance.now() < deadline); i++) {
    const r = await get(base, c.path(i));
    if (r.status !== 200) throw new Error(`${c.name}: HTTP ${r.status} for ${c.path(i)}`);
    times.push(r.ms);
    bytes = r.bytes;
  }
  times.sort((a, b) => a - b);
  return {
    case: c.name,
    n: times.length,
    p50: quantile(times, 0.5),
    p99: quantile(times, 0.99),
    max: times.at(-1)!,
    kb: bytes / 1024,
  };
}

async function benchBackend(backend: 'pglite' | 'postgres'): Promise<Row[]> {
  const schema = backend === 'postgres' ? `bench_api_${process.pid}` : undefined;
  const orchestrator = await SearchOrchestrator.open({
    databaseUrl: backend === 'postgres' ? DATABASE_URL : undefined,
    inMemory: backend === 'pglite',
    schema,
  });
  const { app, url } = await startServer({
    env: {},
    config: { LOG_LEVEL: 'warn', PORT: 0 },
    orchestrator,
    host: '127.0.0.1',
  });
  const base = new URL(url);
  const rows: Row[] = [];
  try {
    for (const n of SIZES) {
      // A finished one-trial surrogate search, then n - 1 synthetic trials beside its real one.
      const { id } = await orchestrator.createSearch({
        name: `bench-${n}`,
        strategy: 'random',
        objectives: ['map50_95', 'latency'],
        budget: { trials: 1 },
        seed: 1,
        hardwareProfile: 'nvidia-t4',
        evaluator: 'surrogate',
      });
      await orchestrator.waitForSearch(id);
      const t0 = performance.now();
      await seedTrials(orchestrator.db, id, n - 1, { seed: n });
      // What autovacuum would do on a live Postgres; PGlite has no autovacuum daemon.
      await orchestrator.db.query('ANALYZE trials');
      log(`${backend}: seeded ${n} trials in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      const cursors = await deepCursors(orchestrator, id, n);
      for (const c of cases(id, n, cursors)) {
        const r = await measure(base, c);
        rows.push({ backend, trials: n, target: TARGET_P99_MS(n), ...r });
        log(`${backend} ${n} ${r.case}: n ${r.n}, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`);
      }
    }
  } finally {
    await app.close();
    if (schema && DATABASE_URL) {
      const client = new Client({ connectionString: DATABASE_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    }
  }
  return rows;
}

async function main(): Promise<void> {
  const loadStart = loadavg()[0]!;
  const rows: Row[] = [];
  for (const backend of BACKENDS) rows.push(...(await benchBackend(backend)));
  agent.destroy();
  const f = (x: number) => x.toFixed(1);
  const table = [
    '| backend | trials | request | n | p50 ms | p99 ms | max ms | body KiB | p99 target | |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.backend} | ${r.trials.toLocaleString('en-US')} | ${r.case} | ${r.n} | ${f(r.p50)} | ${f(r.p99)} | ${f(r.max)} | ${f(r.kb)} | < ${r.target} | ${r.p99 < r.target ? 'met' : '**missed**'} |`,
    ),
  ].join('\n');
  const header =
    `# API benchmark (\`npm run bench:api\`)\n\n${new Date().toISOString()} · ${cpus()[0]?.model ?? 'cpu'} · ` +
    `${cpus().length} cores · Node ${process.version} · up to ${REQUESTS} sequential keep-alive requests per row ` +
    `(n) after ${WARMUP} warm-up, ${CASE_SECONDS} s per row at most · load average ${loadStart.toFixed(2)} at start, ${loadavg()[0]!.toFixed(2)} at end (shared machine)\n\n` +
    'Trials bulk-seeded with `seedTrials` (about 78% completed, 20% pruned, 2% failed) into one search, then ' +
    '`ANALYZE trials`. Times are client-side: request sent to last body byte, over loopback. The two deep-page ' +
    `rows visit the same ${DEEP_POSITIONS} pseudo-random positions in the first 90% of the \`-params\` order, one by ` +
    '`offset`, one by `after` (the nextCursor a client paging there holds, fetched untimed beforehand).\n';
  const text = `${header}\n${table}\n`;
  process.stdout.write(text);
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'api.md'), text);
}

main().catch((err) => {
  process.stderr.write(`bench:api: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
