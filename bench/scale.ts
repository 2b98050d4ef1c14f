/**
 * Scale benchmark: trials per minute with 1, 2, 4 and 8 `detsearch worker` processes
 * sharing one search on Postgres, the surrogate evaluator sleeping a fixed time per trial (so the
 * cores are not the limit and the numbers show what the queue costs: dispatch latency, claims,
 * heartbeats, result writes, the search loop's asks).
 *
 *   npm run bench:scale   (env: DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test;
 *                          BENCH_TRIAL_MS, default 2000; BENCH_TRIALS_PER_WORKER, default 8;
 *                          BENCH_WORKERS, default 1,2,4,8)
 *
 * Each row: a fresh schema (and pg-boss schema), N worker processes started and registered before
 * the clock starts, one search of N x BENCH_TRIALS_PER_WORKER trials (random strategy, one epoch),
 * timed from launch to the search's completion. Scaling efficiency = rate(N) / (N x rate(1));
 * "of ideal" compares with N workers that spend exactly BENCH_TRIAL_MS per trial and nothing else.
 * Prints a markdown table and writes it to bench/results/scale.md. Target: efficiency >= 0.8 at 8.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { SearchOrchestrator } from '@detsearch/orchestrator';

const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const TRIAL_MS = Number(process.env.BENCH_TRIAL_MS ?? 2000);
const PER_WORKER = Number(process.env.BENCH_TRIALS_PER_WORKER ?? 8);
const WORKERS = (process.env.BENCH_WORKERS ?? '1,2,4,8').split(',').map(Number);
const ROOT = resolve(__dirname, '..');
const log = (s: string) => process.stderr.write(`${s}\n`);

interface Row {
  workers: number;
  trials: number;
  wallS: number;
  perMinute: number;
  idealPerMinute: number;
  /** Mean time from a trial's creation to its claim by a worker. */
  waitMs: number;
  /** Mean time a worker held a trial beyond the evaluator's sleep (claim to finish, minus TRIAL_MS). */
  overheadMs: number;
}

function spawnWorker(env: Record<string, string>): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/worker/src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const ready = new Promise<void>((resolveReady, reject) => {
    const onData = (d: Buffer) => {
      out += d;
      if (/ready \(/.test(out)) resolveReady();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d) => (out += d));
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}: ${out}`)));
  });
  return { child, ready };
}

async function dropSchemas(schemas: string[]): Promise<void> {
  const client = new Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  } finally {
    await client.end();
  }
}

async function runCase(n: number): Promise<Row> {
  const schema = `bench_scale_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const queueSchema = `${schema}_pgboss`;
  const orchestrator = await SearchOrchestrator.open({
    databaseUrl: DATABASE_URL,
    schema,
    queueSchema,
    distributed: true,
    resumeOrphans: false,
    log: (msg, extra) => log(`  [orchestrator] ${msg} ${JSON.stringify(extra ?? {})}`),
  });
  const children: ChildProcess[] = [];
  try {
    const env = {
      DATABASE_URL,
      DETSEARCH_DB_SCHEMA: schema,
      DETSEARCH_QUEUE_SCHEMA: queueSchema,
      DETSEARCH_SURROGATE_MS: String(TRIAL_MS),
      WORKER_CONCURRENCY: '1',
      WORKER_HEARTBEAT_MS: '1000',
      WORKER_STALE_MS: '10000',
      LOG_LEVEL: 'warn',
    };
    const started = Array.from({ length: n }, () => spawnWorker(env));
    children.push(...started.map((s) => s.child));
    await Promise.all(started.map((s) => s.ready));
    while ((await orchestrator.workers.liveSlots(10_000)) < n) await new Promise((r) => setTimeout(r, 100));

    const trials = n * PER_WORKER;
    const t0 = performance.now();
    const { id } = await orchestrator.createSearch({
      strategy: 'random',
      evaluator: 'surrogate',
      budget: { trials },
      seed: 1,
      fidelity: { epochs: 1 },
    });
    const done = await orchestrator.waitForSearch(id);
    const wallS = (performance.now() - t0) / 1000;
    if (done.status !== 'completed' || done.progress.completed !== trials)
      throw new Error(`search ended ${done.status} (${done.error}) with ${JSON.stringify(done.progress)}`);
    const [timing] = await orchestrator.db.query<{ wait: number; held: number }>(
      `SELECT avg(extract(epoch FROM started_at - created_at)) * 1000 AS wait,
         avg(extract(epoch FROM finished_at - started_at)) * 1000 AS held
       FROM trials WHERE search_id = $1`,
      [id],
    );
    return {
      workers: n,
      trials,
      wallS,
      perMinute: (trials / wallS) * 60,
      idealPerMinute: (n * 60_000) / TRIAL_MS,
      waitMs: Number(timing!.wait),
      overheadMs: Number(timing!.held) - TRIAL_MS,
    };
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(
      children.map((c) =>
        c.exitCode !== null || c.signalCode !== null ? null : new Promise((r) => c.once('exit', r)),
      ),
    );
    await orchestrator.close();
    await dropSchemas([schema, queueSchema]);
  }
}

async function main(): Promise<void> {
  log(
    `bench:scale: ${TRIAL_MS} ms per trial, ${PER_WORKER} trials per worker, workers ${WORKERS.join(', ')} on ${DATABASE_URL}`,
  );
  const rows: Row[] = [];
  for (const n of WORKERS) {
    const row = await runCase(n);
    rows.push(row);
    log(
      `  ${n} workers: ${row.trials} trials in ${row.wallS.toFixed(1)} s = ${row.perMinute.toFixed(1)}/min`,
    );
  }
  const base = rows.find((r) => r.workers === 1);
  const lines = [
    `# Scale: trials per minute vs worker processes`,
    '',
    `\`npm run bench:scale\` on ${new Date().toISOString().slice(0, 10)}: PostgreSQL, surrogate evaluator sleeping ` +
      `${TRIAL_MS} ms per trial (DETSEARCH_SURROGATE_MS), ${PER_WORKER} trials per worker, one epoch, random ` +
      `strategy; each worker a separate \`detsearch worker\` process (WORKER_CONCURRENCY=1); search loop in the ` +
      `benchmark process. Host: ${cpus().length} cores, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} at the end (shared machine).`,
    '',
    '| workers | trials | wall s | trials/min | ideal/min | of ideal | speed-up | scaling efficiency | mean wait for a worker ms | mean overhead per trial ms |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => {
      const speedup = base ? r.perMinute / base.perMinute : NaN;
      return `| ${r.workers} | ${r.trials} | ${r.wallS.toFixed(1)} | ${r.perMinute.toFixed(1)} | ${r.idealPerMinute.toFixed(0)} | ${(r.perMinute / r.idealPerMinute).toFixed(2)} | ${speedup.toFixed(2)} | ${(speedup / r.workers).toFixed(2)} | ${r.waitMs.toFixed(0)} | ${r.overheadMs.toFixed(0)} |`;
    }),
    '',
    'Scaling efficiency = (trials/min with N workers) / (N x trials/min with 1 worker); target >= 0.8 at 8. ' +
      '"Wait" is creation to claim (prefetch keeps a trial queued for each freed worker, so it includes time ' +
      'queued behind running trials); "overhead" is claim to stored result minus the evaluator\'s sleep.',
    '',
  ];
  const table = lines.join('\n');
  process.stdout.write(`${table}\n`);
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'scale.md'), table);
  log(`wrote ${join(dir, 'scale.md')}`);
}

main().catch((err) => {
  log(`bench:scale failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
