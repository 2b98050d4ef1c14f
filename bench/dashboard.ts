/**
 * Dashboard benchmark: bytes transferred and time to interactive of a search page in headless
 * Chromium, at 1,000 and 100,000 stored trials, for the dashboard of the main branch ("before",
 * its app.js served in place of the current modules) and the current one ("after"). Then, with
 * the search marked running, the bytes the page pulls per minute while trial events stream in
 * (published on the orchestrator's event bus: a trial completes every BENCH_EVENT_MS, default 200).
 *
 *   npm run bench:dashboard   (env: BENCH_SIZES, default 1000,100000; BENCH_LIVE_SECONDS, default 60;
 *                              BENCH_BEFORE=0 skips the old page; DATABASE_URL: Postgres, else PGlite)
 *
 * Time to interactive: navigation start until the leaderboard shows its rows and the page answers
 * a script call (the main thread is free), capped at BENCH_CAP_SECONDS (default 90). The old page
 * fails on a deep link opened cold, so it is opened at home and sent to the search by its hash.
 * Writes bench/results/dashboard.md. Targets: a running 100k-trial page under 2 MB per minute and
 * interactive within 2 s.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { chromium, type Browser, type Page } from 'playwright-core';
import { SearchOrchestrator, type SearchEvent } from '@detsearch/orchestrator';
import { seedTrials } from '@detsearch/persistence';
import { startServer } from '../apps/api/src/create-app';

const SIZES = (process.env.BENCH_SIZES ?? '1000,100000').split(',').map(Number);
const LIVE_SECONDS = Number(process.env.BENCH_LIVE_SECONDS ?? 60);
const EVENT_MS = Number(process.env.BENCH_EVENT_MS ?? 200);
const CAP_MS = 1000 * Number(process.env.BENCH_CAP_SECONDS ?? 90);
const BEFORE = process.env.BENCH_BEFORE !== '0';
const DATABASE_URL = process.env.DATABASE_URL || undefined;
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const log = (s: string) => process.stderr.write(`${s}\n`);

/** The main branch's dashboard files, to serve in place of the current ones. */
function beforeFiles(): Record<string, string> | null {
  try {
    const show = (p: string) =>
      execFileSync('git', ['show', `main:apps/api/public/${p}`], {
        cwd: resolve(__dirname, '..'),
        encoding: 'utf8',
      });
    return { '/': show('index.html'), '/app.js': show('app.js'), '/style.css': show('style.css') };
  } catch {
    return null;
  }
}

/** Bytes per request from the DevTools protocol: the total when it finished, the chunks so far when not (SSE). */
async function byteCounter(page: Page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const partial = new Map<string, number>();
  const finished = new Map<string, number>();
  cdp.on('Network.dataReceived', (e) =>
    partial.set(e.requestId, (partial.get(e.requestId) ?? 0) + e.dataLength),
  );
  cdp.on('Network.loadingFinished', (e) => finished.set(e.requestId, e.encodedDataLength));
  return {
    total() {
      let sum = 0;
      for (const [id, n] of partial) if (!finished.has(id)) sum += n;
      for (const n of finished.values()) sum += n;
      return sum;
    },
    requests: () => new Set([...partial.keys(), ...finished.keys()]).size,
  };
}

interface Result {
  trials: number;
  version: 'before' | 'after';
  loadBytes: number;
  ttiMs: number | null;
  requests: number;
  liveBytesPerMin: number | null;
  errors: number;
}

async function measure(
  launch: () => Promise<Browser>,
  url: string,
  id: string,
  version: 'before' | 'after',
  old: Record<string, string> | null,
  live: (() => Promise<void>) | null,
  trials: number,
): Promise<Result> {
  let started = Date.now();
  const browser = await launch();
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  if (version === 'before' && old)
    await context.route(
      (u) => u.pathname in old,
      (route) => {
        const path = new URL(route.request().url()).pathname;
        const type = path.endsWith('.js')
          ? 'text/javascript'
          : path.endsWith('.css')
            ? 'text/css'
            : 'text/html';
        return route.fulfill({ status: 200, contentType: type, body: old[path] });
      },
    );
  const page = await context.newPage();
  if (process.env.BENCH_TRACE)
    page.on('requestfinished', (r) =>
      log(`  ${Date.now() - started} ms ${r.method()} ${r.url().replace(url, '')}`),
    );
  let errors = 0;
  page.on('pageerror', () => errors++);
  const bytes = await byteCounter(page);
  started = Date.now();
  if (version === 'before') {
    // Its deep links fail when opened cold (a constant used before its definition): from home.
    await page.goto(`${url}/`);
    await page.evaluate((h) => {
      (globalThis as unknown as { location: { hash: string } }).location.hash = h;
    }, `#/searches/${id}`);
  } else await page.goto(`${url}/#/searches/${id}`);
  let ttiMs: number | null = null;
  try {
    await page.waitForFunction(
      () =>
        (globalThis as unknown as { document: { querySelector(s: string): unknown } }).document.querySelector(
          '#leaderboard tbody tr[data-id]',
        ) !== null,
      undefined,
      { timeout: CAP_MS, polling: 50 },
    );
    await page.evaluate(() => 1);
    ttiMs = Date.now() - started;
  } catch {
    ttiMs = null;
  }
  // Let the rest of the first load (plots) finish before the live window.
  await page.waitForTimeout(3000).catch(() => errors++);
  const loadBytes = bytes.total();
  let liveBytesPerMin: number | null = null;
  if (live && ttiMs !== null) {
    const before = bytes.total();
    const t0 = Date.now();
    page.on('crash', () => errors++);
    await live();
    liveBytesPerMin = ((bytes.total() - before) * 60_000) / (Date.now() - t0);
  }
  const requests = bytes.requests();
  // A page that exhausts the browser (the old one at scale) closes under us: that is its result.
  await context.close().catch(() => errors++);
  await browser.close().catch(() => undefined);
  return { trials, version, loadBytes, ttiMs, requests, liveBytesPerMin, errors };
}

async function main(): Promise<void> {
  const schema = DATABASE_URL ? `bench_dashboard_${process.pid}` : undefined;
  const orchestrator = await SearchOrchestrator.open({
    databaseUrl: DATABASE_URL,
    inMemory: !DATABASE_URL,
    schema,
  });
  const { app, url } = await startServer({
    env: {},
    config: { LOG_LEVEL: 'warn', PORT: 0 },
    orchestrator,
    host: '127.0.0.1',
  });
  // A fresh browser per page: the old page at scale can take the browser down with it.
  const browser = () =>
    chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
  const old = BEFORE ? beforeFiles() : null;
  if (BEFORE && !old) log('no main branch here: the "before" rows are skipped');
  // The orchestrator's own event bus: what the SSE route streams from.
  const bus = (orchestrator as unknown as { bus: { publish(e: SearchEvent): void } }).bus;
  const results: Result[] = [];
  try {
    for (const n of SIZES) {
      const t0 = performance.now();
      const { id } = await orchestrator.createSearch({
        name: `bench-dashboard-${n}`,
        strategy: 'random',
        objectives: ['map50_95', 'latency'],
        budget: { trials: 1 },
        seed: 1,
        hardwareProfile: 'nvidia-t4',
        constraints: { maxLatencyMs: 8 },
        evaluator: 'surrogate',
      });
      await orchestrator.waitForSearch(id);
      await seedTrials(orchestrator.db, id, n - 1, { seed: n });
      await orchestrator.db.query('ANALYZE trials');
      log(`seeded ${n} trials in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      // Ended: plain loads. Then marked running with a budget to match, for the live window.
      for (const version of ['before', 'after'] as const) {
        if (version === 'before' && !old) continue;
        const r = await measure(browser, url, id, version, old, null, n);
        log(`${n} ${version} (ended): ${JSON.stringify(r)}`);
        results.push(r);
      }
      // Running, held by a runner that is not there (a lease far in the future), so this process's
      // orphan recovery leaves it alone: the events below stand in for its trials.
      await orchestrator.db.query(
        `UPDATE searches SET status = 'running', budget = $2::jsonb, runner_id = 'bench-absent-runner',
           heartbeat_at = now() + interval '1 day' WHERE id = $1`,
        [id, JSON.stringify({ trials: n + 1000 })],
      );
      const trials = (await orchestrator.listTrials(id, { sort: 'number', limit: 200 })).items;
      const progress = (await orchestrator.getSearch(id)).progress;
      const live = async () => {
        const end = Date.now() + LIVE_SECONDS * 1000;
        for (let k = 0; Date.now() < end; k++) {
          const t = trials[k % trials.length]!;
          bus.publish({
            type: 'trial-epoch',
            searchId: id,
            trialId: t.id,
            number: t.number,
            epoch: { epoch: 1, map50_95: 0.1, map50: 0.2, loss: 1 },
            decision: 'continue',
          } as unknown as SearchEvent);
          bus.publish({
            type: 'trial-completed',
            searchId: id,
            trialId: t.id,
            number: t.number,
            status: 'completed',
            map50_95: t.map50_95,
            latencyMs: t.latencyMs,
            progress,
            best: null,
            paretoSize: 1,
          } as SearchEvent);
          await new Promise((r) => setTimeout(r, EVENT_MS));
        }
      };
      for (const version of ['before', 'after'] as const) {
        if (version === 'before' && !old) continue;
        const r = await measure(browser, url, id, version, old, live, n);
        log(`${n} ${version} (running): ${JSON.stringify(r)}`);
        results.push({ ...r, version });
      }
      await orchestrator.db.query(
        `UPDATE searches SET status = 'completed', runner_id = NULL, heartbeat_at = NULL WHERE id = $1`,
        [id],
      );
    }
  } finally {
    await app.close();
    if (schema && DATABASE_URL) {
      const c = new Client({ connectionString: DATABASE_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await c.end();
    }
  }

  const mb = (b: number | null) => (b === null ? '–' : `${(b / 2 ** 20).toFixed(2)} MB`);
  const s = (ms: number | null) => (ms === null ? `> ${CAP_MS / 1000} s` : `${(ms / 1000).toFixed(2)} s`);
  const rows = SIZES.flatMap((n) =>
    (['before', 'after'] as const).flatMap((v) => {
      const [ended, running] = results.filter((r) => r.trials === n && r.version === v);
      if (!ended) return [];
      return [
        `| ${n.toLocaleString('en-US')} | ${v} | ${mb(ended.loadBytes)} | ${s(ended.ttiMs)} | ${s(running?.ttiMs ?? null)} | ${mb(running?.liveBytesPerMin ?? null)} | ${ended.requests} | ${ended.errors + (running?.errors ?? 0)} |`,
      ];
    }),
  );
  const header =
    `# Dashboard: search page, bytes and time to interactive\n\n` +
    `${new Date().toISOString()}, ${cpus().length} CPUs, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, ` +
    `${DATABASE_URL ? 'Postgres' : 'PGlite'}, headless Chromium, loopback, cold cache.\n\n` +
    '| trials | dashboard | first load | interactive (ended) | interactive (running) | live, per minute | requests | page errors |\n' +
    '|---:|---|---:|---:|---:|---:|---:|---:|\n';
  const note =
    `\nFirst load: every byte until 3 s after the leaderboard shows (plots included). Live: bytes while a trial ` +
    `completes every ${EVENT_MS} ms for ${LIVE_SECONDS} s (events on the orchestrator's bus, rows not changing), ` +
    'scaled to a minute. "before": the main branch\'s app.js in place of the current modules.\n';
  const text = header + rows.join('\n') + '\n' + note;
  process.stdout.write(text);
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'dashboard.md'), text);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(String((err as Error)?.stack ?? err));
    process.exit(1);
  },
);
